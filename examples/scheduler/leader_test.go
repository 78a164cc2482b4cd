package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/scheduler"
	"github.com/setpoint-dev/setpoint/store"
)

// scheduledBy lists the Scheduled events by pod, with the reporting
// instance of each.
func scheduledBy(t *testing.T, cs *client.Clientset) map[string][]string {
	t.Helper()
	l, err := cs.Events().List(context.Background(), "default", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, e := range l.Items {
		if e.Reason == "Scheduled" {
			out[e.InvolvedObject.Name] = append(out[e.InvolvedObject.Name], e.ReportingInstance)
		}
	}
	return out
}

// TestLeaderElectionTakeover: of two schedulers only the leader binds;
// when it stops, the other takes the Lease and binds the rest; no pod is
// bound twice, and a binding carrying the old leader's fence is refused
// with 409 Fenced and changes nothing.
func TestLeaderElectionTakeover(t *testing.T) {
	cs := startServer(t)
	ctx := context.Background()
	clk := clockwork.NewFakeClock()
	mk := func(id string) *scheduler.Scheduler {
		s, err := scheduler.New(scheduler.Config{Client: cs, Identity: id, Clock: clk,
			LeaderElection: &scheduler.LeaderElection{Identity: id}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	createNode(t, cs, newNode("a", "64", "64Gi", nil))
	createNode(t, cs, newNode("b", "64", "64Gi", nil))

	s1, s2 := mk("s1"), mk("s2")
	ctx1, stop1 := context.WithCancel(ctx)
	done1 := make(chan error, 1)
	go func() { done1 <- s1.Run(ctx1) }()
	defer func() { stop1(); <-done1 }()
	waitFor(t, "s1 leading", func() (bool, error) { return s1.IsLeader(), nil })
	ctx2, stop2 := context.WithCancel(ctx)
	done2 := make(chan error, 1)
	go func() { done2 <- s2.Run(ctx2) }()
	defer func() { stop2(); <-done2 }()

	for i := range 10 {
		createPod(t, cs, newPod(fmt.Sprintf("first-%d", i), "100m", "64Mi"))
	}
	waitFor(t, "the first pods bound by s1", func() (bool, error) {
		by := scheduledBy(t, cs)
		for i := range 10 {
			if len(by[fmt.Sprintf("first-%d", i)]) == 0 {
				return false, nil
			}
		}
		return true, nil
	})
	if s2.IsLeader() {
		t.Fatal("both schedulers lead")
	}
	oldFence, ok := s1.Fence()
	if !ok {
		t.Fatal("s1 leads without a fence")
	}

	// Stop the leader; s2 takes over (it retries on the fake clock).
	stop1()
	if err := <-done1; err != nil {
		t.Fatalf("s1 stopped with %v", err)
	}
	done1 <- nil
	waitFor(t, "s2 leading", func() (bool, error) {
		clk.Advance(time.Second)
		return s2.IsLeader(), nil
	})
	for i := range 10 {
		createPod(t, cs, newPod(fmt.Sprintf("second-%d", i), "100m", "64Mi"))
	}
	waitFor(t, "the second pods bound", func() (bool, error) {
		by := scheduledBy(t, cs)
		for i := range 10 {
			if len(by[fmt.Sprintf("second-%d", i)]) == 0 {
				return false, nil
			}
		}
		return true, nil
	})
	for pod, who := range scheduledBy(t, cs) {
		want := "s1"
		if pod[:len("second")] == "second" {
			want = "s2"
		}
		if len(who) != 1 || who[0] != want {
			t.Errorf("pod %s: Scheduled by %v, want once by %s", pod, who, want)
		}
	}

	// A binding with the deposed leader's fence is refused.
	probe := newPod("probe", "100m", "64Mi")
	probe.Spec.SchedulerName = "nobody"
	probe = createPod(t, cs, probe)
	bind := func(ctx context.Context) error {
		b := &api.Binding{TypeMeta: store.TypeMeta{APIVersion: "v1", Kind: "Binding"},
			ObjectMeta: store.ObjectMeta{Namespace: "default", Name: "probe", UID: probe.UID},
			Target:     api.ObjectReference{APIVersion: "v1", Kind: "Node", Name: "a"}}
		return cs.Pods().Call(ctx, "POST", "default", "probe", "binding", nil, b, nil)
	}
	if err := bind(store.WithFence(ctx, oldFence)); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("binding with the old leader's fence: %v, want ErrFenced", err)
	}
	if p, err := cs.Pods().Get(ctx, "default", "probe"); err != nil || p.Spec.NodeName != "" {
		t.Fatalf("the fenced binding changed the pod: node %q, %v", p.Spec.NodeName, err)
	}
	newFence, ok := s2.Fence()
	if !ok || newFence == oldFence {
		t.Fatalf("s2's fence %v (ok %v), s1's %v", newFence, ok, oldFence)
	}
	if err := bind(store.WithFence(ctx, newFence)); err != nil {
		t.Fatalf("binding with the leader's fence: %v", err)
	}
}
