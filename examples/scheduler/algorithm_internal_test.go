package scheduler

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
	"github.com/setpoint-dev/setpoint/examples/scheduler/plugins"
	"github.com/setpoint-dev/setpoint/store"
)

// topIndices keeps the chosen index first and then the best of the rest,
// in order, never more than k; checked against a full sort.
func TestTopIndices(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		n := 1 + r.IntN(40)
		totals := make([]int64, n)
		for j := range totals {
			totals[j] = r.Int64N(8) // many ties
		}
		first := pickBest(totals)
		k := 1 + r.IntN(12)
		got := topIndices(totals, first, k)
		if got[0] != first || len(got) != min(k, n) {
			t.Fatalf("totals %v k %d: got %v, want %d first and %d entries", totals, k, got, first, min(k, n))
		}
		rest := make([]int64, 0, n)
		for j, v := range totals {
			if j != first {
				rest = append(rest, v)
			}
		}
		slices.Sort(rest)
		slices.Reverse(rest)
		for m := 1; m < len(got); m++ {
			if totals[got[m]] != rest[m-1] {
				t.Fatalf("totals %v k %d: got %v, position %d has %d, want %d", totals, k, got, m, totals[got[m]], rest[m-1])
			}
		}
		seen := map[int]bool{}
		for _, j := range got {
			if seen[j] {
				t.Fatalf("totals %v: index %d twice in %v", totals, j, got)
			}
			seen[j] = true
		}
	}
}

// pickBest returns a maximum and, among ties, each of them about equally
// often.
func TestPickBestTies(t *testing.T) {
	totals := []int64{5, 9, 1, 9, 9, 3}
	counts := map[int]int{}
	for range 3000 {
		j := pickBest(totals)
		if totals[j] != 9 {
			t.Fatalf("picked %d with total %d, want a total of 9", j, totals[j])
		}
		counts[j]++
	}
	for _, j := range []int{1, 3, 4} {
		if counts[j] < 800 {
			t.Fatalf("tie %d picked %d of 3000 times, want about 1000: %v", j, counts[j], counts)
		}
	}
}

// Pods sign alike exactly when the fields the basic plugins read agree;
// a profile with a plugin that reads other nodes (InterPodAffinity) or a
// nominated pod never batches.
func TestProfileSignature(t *testing.T) {
	fit, _ := plugins.NewNodeResourcesFit(plugins.FitArgs{})
	basic := []framework.Plugin{plugins.NodeUnschedulable{}, plugins.NodeName{}, plugins.TaintToleration{},
		plugins.NodeAffinity{}, plugins.NodePorts{}, fit, plugins.BalancedAllocation{}}
	s := &Scheduler{}
	prof := newProfile(s, Profile{SchedulerName: "x", Plugins: basic}, nil)
	pod := func(cpu string, mut func(*api.Pod)) *framework.PodInfo {
		p := &api.Pod{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: "p", UID: cpu}}
		p.Spec.Containers = []api.Container{{Name: "c", Image: "i",
			Resources: api.ResourceRequirements{Requests: api.ResourceList{api.ResourceCPU: api.MustParse(cpu)}}}}
		if mut != nil {
			mut(p)
		}
		return framework.NewPodInfo(p)
	}
	sig := func(p *framework.PodInfo) string {
		t.Helper()
		s, ok := prof.signature(p)
		if !ok {
			t.Fatalf("pod %+v not signed", p.Pod.Spec)
		}
		return s
	}
	base := sig(pod("100m", nil))
	if sig(pod("100m", func(p *api.Pod) { p.Name = "other"; p.Labels = map[string]string{"a": "b"} })) != base {
		t.Fatal("pods differing only in name and labels sign differently")
	}
	for what, mut := range map[string]func(*api.Pod){
		"requests":     func(p *api.Pod) { p.Spec.Containers[0].Resources.Requests[api.ResourceCPU] = api.MustParse("200m") },
		"tolerations":  func(p *api.Pod) { p.Spec.Tolerations = []api.Toleration{{Key: "k", Operator: "Exists"}} },
		"nodeSelector": func(p *api.Pod) { p.Spec.NodeSelector = map[string]string{"zone": "a"} },
		"hostPort":     func(p *api.Pod) { p.Spec.Containers[0].Ports = []api.ContainerPort{{ContainerPort: 80, HostPort: 80}} },
	} {
		if sig(pod("100m", mut)) == base {
			t.Errorf("pods differing in %s sign alike", what)
		}
	}
	if _, ok := prof.signature(pod("100m", func(p *api.Pod) { p.Status.NominatedNodeName = "n1" })); ok {
		t.Error("a nominated pod was signed")
	}
	withAffinity := newProfile(s, Profile{SchedulerName: "y", Plugins: append(basic, plugins.InterPodAffinity{})}, nil)
	if _, ok := withAffinity.signature(pod("100m", nil)); ok {
		t.Error("a profile with InterPodAffinity batches")
	}
}
