package nodelifecycle_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/nodelifecycle"
	"github.com/setpoint-dev/setpoint/examples/controllers/replicaset"
	"github.com/setpoint-dev/setpoint/examples/scheduler"
	"github.com/setpoint-dev/setpoint/store"
)

// TestEvictedPodsReplaced: a ReplicaSet's pods spread over three nodes
// (placed by the scheduler); n1's kubelet stops. The pods carry the 300 s
// tolerations the apiserver's DefaultTolerationSeconds plugin added, so
// they are evicted 300 s after the unreachable taint, not before; the
// ReplicaSet replaces them and the scheduler puts the replacements on the
// other nodes.
func TestEvictedPodsReplaced(t *testing.T) {
	x := newSim(t, nodelifecycle.Config{})
	ctx := context.Background()
	for _, n := range []string{"n1", "n2", "n3"} {
		x.node(n, "a")
		node := x.get(n)
		node.Status.Allocatable = api.ResourceList{"pods": api.MustParse("110"), "cpu": api.MustParse("4"), "memory": api.MustParse("8Gi")}
		node.Status.Capacity = node.Status.Allocatable
		if _, err := x.cs.Nodes().UpdateStatus(ctx, node); err != nil {
			t.Fatal(err)
		}
	}
	rsc, err := replicaset.New(replicaset.Config{Client: x.cs})
	if err != nil {
		t.Fatal(err)
	}
	sched, err := scheduler.New(scheduler.Config{Client: x.cs})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.Go(t, "replicaset", rsc.Run)
	controllertest.Go(t, "scheduler", sched.Run)

	rs := &apps.ReplicaSet{}
	rs.Namespace, rs.Name = "default", "web"
	six := int32(6)
	rs.Spec.Replicas = &six
	rs.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	rs.Spec.Template.Labels = map[string]string{"app": "web"}
	rs.Spec.Template.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
	if _, err := x.cs.ReplicaSets().Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	// live returns the RS's pods that are not terminating, by node.
	live := func() (map[string]int, int, error) {
		l, err := x.cs.Pods().List(ctx, "default", store.ListOptions{})
		if err != nil {
			return nil, 0, err
		}
		by, n := map[string]int{}, 0
		for _, p := range l.Items {
			if p.DeletionTimestamp == nil {
				by[p.Spec.NodeName]++
				n++
			}
		}
		return by, n, nil
	}
	controllertest.Eventually(t, "pods scheduled on every node", func() error {
		by, n, err := live()
		if err != nil {
			return err
		}
		if n != 6 || by[""] != 0 || by["n1"] == 0 {
			return fmt.Errorf("pods by node %v", by)
		}
		return nil
	})
	x.step(0)
	delete(x.live, "n1")
	for range 11 { // 55 s: Unknown, tainted
		x.step(5 * time.Second)
	}
	if got := taints(x.get("n1")); len(got) != 2 {
		t.Fatalf("n1 taints %v, want both unreachable taints", got)
	}
	for range 59 { // 295 s after the taint: tolerated still
		x.step(5 * time.Second)
	}
	if by, _, _ := live(); by["n1"] == 0 {
		t.Fatalf("pods of n1 evicted before their 300 s default toleration: %v", by)
	}
	x.step(5 * time.Second) // 300 s
	controllertest.Eventually(t, "pods replaced on n2 and n3", func() error {
		by, n, err := live()
		if err != nil {
			return err
		}
		if n != 6 || by["n1"] != 0 || by[""] != 0 || by["n2"]+by["n3"] != 6 {
			return fmt.Errorf("live pods by node %v", by)
		}
		return nil
	})
}
