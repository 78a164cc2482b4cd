package controllerutil_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/store"
)

func TestExpectations(t *testing.T) {
	clock := clockwork.NewFakeClock()
	e := controllerutil.NewExpectations(clock)
	if !e.Satisfied("a") {
		t.Fatal("nothing expected, not satisfied")
	}
	e.ExpectCreations("a", 2)
	e.CreationObserved("a")
	if e.Satisfied("a") {
		t.Fatal("satisfied with one creation outstanding")
	}
	e.CreationObserved("a")
	e.CreationObserved("a") // one too many: stays satisfied, never negative
	if c, d := e.Pending("a"); !e.Satisfied("a") || c != 0 || d != 0 {
		t.Fatalf("after both creations: satisfied %v pending %d %d", e.Satisfied("a"), c, d)
	}
	e.ExpectDeletions("a", []string{"ns/p1", "ns/p2"})
	e.DeletionObserved("a", "ns/p1")
	e.DeletionObserved("a", "ns/p1") // seen twice: counted once
	if _, d := e.Pending("a"); d != 1 || e.Satisfied("a") {
		t.Fatalf("pending deletes %d, satisfied %v", d, e.Satisfied("a"))
	}
	clock.Advance(controllerutil.ExpectationsTTL + time.Second)
	if !e.Satisfied("a") {
		t.Fatal("expired expectation still blocks")
	}
	e.ExpectCreations("b", 1)
	e.Reset()
	if !e.Satisfied("b") {
		t.Fatal("Reset kept an expectation")
	}
}

// TestExpectationsStress: concurrent observers never drive the count
// below zero or lose an observation.
func TestExpectationsStress(t *testing.T) {
	e := controllerutil.NewExpectations(clockwork.NewFakeClock())
	const n = 200
	e.ExpectCreations("k", n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.CreationObserved("k")
			if i%2 == 0 {
				_ = e.Satisfied("k")
			}
		}()
	}
	wg.Wait()
	if c, _ := e.Pending("k"); c != 0 || !e.Satisfied("k") {
		t.Fatalf("pending %d after %d observations", c, n)
	}
}

// TestSlowStartBatch: batches 1, 2, 4, ... and a stop after the first
// failing batch.
func TestSlowStartBatch(t *testing.T) {
	var calls atomic.Int32
	done, err := controllerutil.SlowStartBatch(context.Background(), 10, 1, func(context.Context) error {
		calls.Add(1)
		return nil
	})
	if err != nil || done != 10 || calls.Load() != 10 {
		t.Fatalf("all succeed: done %d calls %d err %v", done, calls.Load(), err)
	}
	calls.Store(0)
	boom := errors.New("boom")
	done, err = controllerutil.SlowStartBatch(context.Background(), 100, 1, func(context.Context) error {
		if calls.Add(1) > 3 { // batches 1 and 2 succeed, the third fails
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || done != 3 || calls.Load() != 7 {
		t.Fatalf("failing: done %d calls %d err %v, want 3 done in batches 1+2+4", done, calls.Load(), err)
	}
}

func pod(name, node string, phase api.PodPhase, ready bool) *api.Pod {
	p := &api.Pod{}
	p.Namespace, p.Name, p.UID = "ns", name, name
	p.Spec.NodeName = node
	p.Status.Phase = phase
	if ready {
		p.Status.Conditions = []api.PodCondition{{Type: api.PodReady, Status: api.ConditionTrue}}
	}
	return p
}

// TestPodsToDelete: unscheduled before pending before not ready before
// ready, and among equals the pod that shares its node with more pods.
func TestPodsToDelete(t *testing.T) {
	now := time.Now()
	unscheduled := pod("unscheduled", "", api.PodPending, false)
	pending := pod("pending", "n1", api.PodPending, false)
	notReady := pod("notready", "n1", api.PodRunning, false)
	crowded := pod("crowded", "n2", api.PodRunning, true)
	alone := pod("alone", "n3", api.PodRunning, true)
	neighbour := pod("neighbour", "n2", api.PodRunning, true)
	pods := []*api.Pod{alone, crowded, notReady, pending, unscheduled}
	related := append([]*api.Pod{neighbour}, pods...)
	got := controllerutil.PodsToDelete(pods, related, 4, now)
	want := []string{"unscheduled", "pending", "notready", "crowded"}
	for i, p := range got {
		if p.Name != want[i] {
			t.Fatalf("order %v, want %v", names(got), want)
		}
	}
}

func names(ps []*api.Pod) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func TestPodFromTemplate(t *testing.T) {
	tmpl := &api.PodTemplateSpec{}
	tmpl.Labels = map[string]string{"a": "b"}
	tmpl.Spec.Containers = []api.Container{{Name: "c", Image: "i"}}
	owner := &api.Pod{}
	owner.Name, owner.UID = "o", "u1"
	ref := controllerutil.ControllerRef(owner, store.Resource{APIVersion: "apps/v1", Kind: "ReplicaSet"})
	p := controllerutil.PodFromTemplate(tmpl, "ns", "o", ref)
	tmpl.Labels["a"] = "changed"
	if p.Labels["a"] != "b" || p.GenerateName != "o-" || p.Namespace != "ns" || p.ControllerOf().UID != "u1" {
		t.Fatalf("pod %+v", p)
	}
	long := string(make([]byte, 60))
	if p := controllerutil.PodFromTemplate(tmpl, "ns", long, ref); p.GenerateName != long {
		t.Fatalf("long prefix %q", p.GenerateName)
	}
}
