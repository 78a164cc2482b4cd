package scheduler

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
	"github.com/setpoint-dev/setpoint/examples/scheduler/plugins"
	"github.com/setpoint-dev/setpoint/store"
)

// A batch reused after some of its candidates changed holds, for every
// candidate left, the raw scores a fresh cycle computes on it, and its
// index still names each candidate's position. The changes mix
// candidates that now fail the filters (and are removed, moving the
// last candidate into their place) with candidates that are re-scored,
// in every order: CI once saw a re-score index that a later removal had
// moved past the end.
func TestFromBatchAfterRemovals(t *testing.T) {
	fit, _ := plugins.NewNodeResourcesFit(plugins.FitArgs{})
	s := &Scheduler{cfg: Config{Parallelism: 4}}
	prof := newProfile(s, Profile{SchedulerName: "x", Plugins: []framework.Plugin{
		plugins.NodeUnschedulable{}, plugins.NodeName{}, fit, plugins.BalancedAllocation{}}}, nil)
	mkNode := func(name string, usedMilli int) *framework.NodeInfo {
		n := &api.Node{ObjectMeta: store.ObjectMeta{Name: name}}
		rl := api.ResourceList{api.ResourceCPU: api.MustParse("1"), api.ResourceMemory: api.MustParse("8Gi"), api.ResourcePods: api.MustParse("110")}
		n.Status.Capacity, n.Status.Allocatable = rl, rl
		var pods []*framework.PodInfo
		if usedMilli > 0 {
			pods = append(pods, framework.NewPodInfo(cpuPod(name+"-used", fmt.Sprintf("%dm", usedMilli), name)))
		}
		return framework.NewNodeInfo(n, pods...)
	}
	info := framework.NewPodInfo(cpuPod("p", "300m", ""))
	r := rand.New(rand.NewPCG(3, 4))
	ctx := context.Background()
	for round := range 300 {
		size := 3 + r.IntN(10)
		nodes := make([]*framework.NodeInfo, size)
		byName := map[string]*framework.NodeInfo{}
		for j := range nodes {
			nodes[j] = mkNode(fmt.Sprintf("n%02d", j), 100*r.IntN(6))
			byName[nodes[j].Node().Name] = nodes[j]
		}
		state := framework.NewCycleState()
		raw, skip, err := s.score(ctx, prof, state, info, nodes, &result{statuses: framework.NodeToStatus{}})
		if err != nil {
			t.Fatal(err)
		}
		b := newBatch(prof, "sig", time.Now(), append([]*framework.NodeInfo(nil), nodes...), raw, skip)
		// Change a random subset, in random order: a node that is now
		// full fails, one with a new load is re-scored, one deleted is gone.
		var changed []string
		for _, j := range r.Perm(size)[:r.IntN(size+1)] {
			name := nodes[j].Node().Name
			changed = append(changed, name)
			switch r.IntN(3) {
			case 0:
				byName[name] = mkNode(name, 900)
			case 1:
				byName[name] = mkNode(name, 100*r.IntN(6))
			default:
				delete(byName, name)
			}
		}
		lookup := func(name string) *framework.NodeInfo { return byName[name] }
		res := &result{statuses: framework.NodeToStatus{}}
		if !s.fromBatch(ctx, prof, state, info, b, changed, lookup, map[string]bool{}, res) {
			if len(b.nodes) >= 2 {
				t.Fatalf("round %d: the batch of %d candidates did not serve", round, len(b.nodes))
			}
			continue
		}
		fresh, _, err := s.score(ctx, prof, framework.NewCycleState(), info, b.nodes, &result{statuses: framework.NodeToStatus{}})
		if err != nil {
			t.Fatal(err)
		}
		for j, n := range b.nodes {
			if b.index[n.Node().Name] != j {
				t.Fatalf("round %d: index says %s is at %d, it is at %d", round, n.Node().Name, b.index[n.Node().Name], j)
			}
			if byName[n.Node().Name] != n {
				t.Fatalf("round %d: candidate %s is not its latest snapshot", round, n.Node().Name)
			}
			for i := range prof.score {
				if b.raw[i][j] != fresh[i][j] {
					t.Fatalf("round %d: %s scores %d for %s in the batch, %d fresh", round, prof.scoreNames[i], b.raw[i][j], n.Node().Name, fresh[i][j])
				}
			}
		}
		if len(b.index) != len(b.nodes) {
			t.Fatalf("round %d: index has %d names for %d candidates", round, len(b.index), len(b.nodes))
		}
	}
}

// cpuPod is a pod requesting cpu, bound to node when node is not empty.
func cpuPod(name, cpu, node string) *api.Pod {
	p := &api.Pod{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: name, UID: name}}
	p.Spec.NodeName = node
	p.Spec.Containers = []api.Container{{Name: "c", Image: "i",
		Resources: api.ResourceRequirements{Requests: api.ResourceList{api.ResourceCPU: api.MustParse(cpu)}}}}
	return p
}
