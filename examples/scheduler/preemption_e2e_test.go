package scheduler_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/policy"
	"github.com/setpoint-dev/setpoint/examples/api/scheduling"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/scheduler"
	"github.com/setpoint-dev/setpoint/store"
)

// prioPod is a pod of priority prio asking for one CPU, bound to node
// when node is not "". Its priority comes from the PriorityClass
// "prio-<prio>" (createClasses), through the apiserver's Priority
// admission.
func prioPod(name string, prio int32, node string, labels map[string]string) *api.Pod {
	p := newPod(name, "1", "64Mi")
	p.Spec.PriorityClassName = fmt.Sprintf("prio-%d", prio)
	p.Spec.NodeName = node
	p.Labels = labels
	return p
}

// createClasses creates the PriorityClass prio-<v> of each value, and
// the class never-<v> with preemptionPolicy Never.
func createClasses(t *testing.T, cs *client.Clientset, values ...int32) {
	t.Helper()
	for _, v := range values {
		for _, pol := range []api.PreemptionPolicy{api.PreemptLowerPriority, api.PreemptNever} {
			pc := &scheduling.PriorityClass{Value: v, PreemptionPolicy: &pol}
			pc.Name = fmt.Sprintf("prio-%d", v)
			if pol == api.PreemptNever {
				pc.Name = fmt.Sprintf("never-%d", v)
			}
			if _, err := cs.PriorityClasses().Create(context.Background(), pc); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// finalizeTerminating plays the kubelets: pods being deleted go at once.
func finalizeTerminating(t *testing.T, cs *client.Clientset) {
	t.Helper()
	l, err := cs.Pods().List(context.Background(), "default", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range l.Items {
		if p.DeletionTimestamp != nil {
			if err := cs.Pods().DeleteNow(context.Background(), p.Namespace, p.Name); err != nil && !strings.Contains(err.Error(), "not found") {
				t.Fatal(err)
			}
		}
	}
}

func podExists(t *testing.T, cs *client.Clientset, name string) bool {
	t.Helper()
	_, err := cs.Pods().Get(context.Background(), "default", name)
	return err == nil
}

// TestPreemptionEndToEnd: a high-priority pod evicts the fewest,
// lowest-priority pods on the best node and runs there; a victim whose
// PodDisruptionBudget allows no disruption is spared when another node
// will do; a pod with preemptionPolicy Never evicts nothing.
func TestPreemptionEndToEnd(t *testing.T) {
	cs := startServer(t)
	ctx := context.Background()
	// The budget of the pod "guarded" (created later) allows no
	// disruption; it exists before the scheduler starts, so its informer
	// lists it.
	pdb := &policy.PodDisruptionBudget{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: "guarded"}}
	pdb.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": "guarded"}}
	one := api.FromInt(1)
	pdb.Spec.MinAvailable = &one
	pdb, err := cs.PodDisruptionBudgets().Create(ctx, pdb)
	if err != nil {
		t.Fatal(err)
	}
	pdb.Status.DisruptionsAllowed = 0
	pdb.Status.CurrentHealthy, pdb.Status.DesiredHealthy, pdb.Status.ExpectedPods = 1, 1, 1
	if _, err := cs.PodDisruptionBudgets().UpdateStatus(ctx, pdb); err != nil {
		t.Fatal(err)
	}
	// Every bound pod exists before the scheduler starts, so that its
	// first lists count them.
	for _, n := range []string{"a", "b"} {
		createNode(t, cs, newNode(n, "2", "8Gi", nil))
	}
	createClasses(t, cs, 1, 5, 10, 100, 1000)
	createPod(t, cs, prioPod("low-1", 1, "a", nil))
	createPod(t, cs, prioPod("low-5", 5, "a", nil))
	createPod(t, cs, prioPod("mid-1", 10, "b", nil))
	createPod(t, cs, prioPod("mid-2", 10, "b", nil))
	// Two one-CPU nodes with one priority-1 pod each: "guarded" started
	// later (so it would be chosen) but its budget allows no disruption.
	createNode(t, cs, newNode("c", "1", "8Gi", nil))
	createNode(t, cs, newNode("d", "1", "8Gi", nil))
	start := func(name string, ago time.Duration) {
		p := createPod(t, cs, prioPod(name, 1, map[string]string{"free": "d", "guarded": "c"}[name], map[string]string{"app": name}))
		st := store.NewTime(time.Now().Add(-ago))
		p.Status.StartTime = &st
		if _, err := cs.Pods().UpdateStatus(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	start("free", 2*time.Hour)
	start("guarded", time.Hour)
	startScheduler(t, scheduler.Config{Client: cs})

	// Node a: removing low-1 alone makes room (low-5 is reprieved); node
	// b's victims have priority 10; node c's victim would violate its
	// budget; node d's victim, as low as low-1, started earlier. Node a
	// wins.
	createPod(t, cs, prioPod("high", 100, "", nil))
	waitFor(t, "high bound to a after evicting low-1", func() (bool, error) {
		finalizeTerminating(t, cs)
		p, err := cs.Pods().Get(ctx, "default", "high")
		if err != nil {
			return false, err
		}
		if p.Spec.NodeName != "" && p.Spec.NodeName != "a" {
			t.Fatalf("high bound to %s, want a", p.Spec.NodeName)
		}
		return p.Spec.NodeName == "a", nil
	})
	if podExists(t, cs, "low-1") || !podExists(t, cs, "low-5") || !podExists(t, cs, "mid-1") || !podExists(t, cs, "mid-2") ||
		!podExists(t, cs, "free") || !podExists(t, cs, "guarded") {
		t.Fatal("want exactly low-1 evicted")
	}
	if ev := events(t, cs, "low-1", "Preempted"); len(ev) != 1 || !strings.HasSuffix(ev[0], "on node a") {
		t.Fatalf("Preempted events of low-1: %q", ev)
	}

	// Now a's victim would be low-5 (priority 5): node d, whose victim is
	// "free", wins over c, whose "guarded" would break its budget.
	createPod(t, cs, prioPod("high-2", 100, "", nil))
	waitFor(t, "high-2 bound to d after evicting free", func() (bool, error) {
		finalizeTerminating(t, cs)
		p, err := cs.Pods().Get(ctx, "default", "high-2")
		if err != nil {
			return false, err
		}
		if p.Spec.NodeName != "" && p.Spec.NodeName != "d" {
			t.Fatalf("high-2 bound to %s, want d", p.Spec.NodeName)
		}
		return p.Spec.NodeName == "d", nil
	})
	if podExists(t, cs, "free") || !podExists(t, cs, "guarded") {
		t.Fatal("want free evicted and guarded spared")
	}

	// preemptionPolicy Never: explained, nothing evicted.
	never := prioPod("never", 1000, "", nil)
	never.Spec.PriorityClassName = "never-1000"
	createPod(t, cs, never)
	waitFor(t, "the Never pod explained", func() (bool, error) {
		return slices.ContainsFunc(events(t, cs, "never", "FailedScheduling"), func(m string) bool {
			return strings.HasSuffix(m, "preemption: not eligible due to preemptionPolicy=Never.")
		}), nil
	})
	l, err := cs.Pods().List(ctx, "default", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range l.Items {
		if p.DeletionTimestamp != nil {
			t.Errorf("pod %s is being deleted", p.Name)
		}
		names = append(names, p.Name)
	}
	slices.Sort(names)
	if want := []string{"guarded", "high", "high-2", "low-5", "mid-1", "mid-2", "never"}; !slices.Equal(names, want) {
		t.Errorf("pods %v, want %v", names, want)
	}
}
