package controllerutil_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/store"
)

// countingEvents is an EventWriter that keeps the events it is given.
type countingEvents struct {
	mu      sync.Mutex
	created []*api.Event
}

func (c *countingEvents) Create(_ context.Context, ev *api.Event) (*api.Event, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.created = append(c.created, ev)
	return ev, nil
}

func (c *countingEvents) GuaranteedUpdate(context.Context, string, string, func(*api.Event) (*api.Event, error)) (*api.Event, error) {
	return nil, store.ErrNotFound
}

// TestRecorderSpamFilter: Kubernetes' spam filter keeps 25 events of one
// type about one object, then one per five minutes; other objects and
// types have their own budget.
func TestRecorderSpamFilter(t *testing.T) {
	clk := clockwork.NewFakeClock()
	w := &countingEvents{}
	r, err := controllerutil.NewRecorder(controllerutil.RecorderConfig{Client: w, Component: "test", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pod := &api.Pod{}
	pod.Namespace, pod.Name, pod.UID = "default", "a", "uid-a"
	other := pod.DeepCopy()
	other.Name, other.UID = "b", "uid-b"
	for i := range 30 {
		r.Eventf(ctx, pod, api.PodResource, controllerutil.EventNormal, "Created", "event %d", i)
	}
	r.Eventf(ctx, pod, api.PodResource, controllerutil.EventWarning, "Failed", "a warning")
	r.Eventf(ctx, other, api.PodResource, controllerutil.EventNormal, "Created", "other")
	if got := r.Filtered(); got != 5 {
		t.Errorf("filtered %d events, want 5", got)
	}
	clk.Advance(5 * time.Minute)
	r.Eventf(ctx, pod, api.PodResource, controllerutil.EventNormal, "Created", "after five minutes")
	r.Eventf(ctx, pod, api.PodResource, controllerutil.EventNormal, "Created", "one too many")
	if got := r.Filtered(); got != 6 {
		t.Errorf("filtered %d events after the refill, want 6", got)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	want := 25 + 1 + 1 + 1
	deadline := time.Now().Add(30 * time.Second)
	for {
		w.mu.Lock()
		n := len(w.created)
		w.mu.Unlock()
		if n == want || time.Now().After(deadline) {
			cancel()
			<-done
			if n != want {
				t.Fatalf("%d events written, want %d", n, want)
			}
			break
		}
		time.Sleep(time.Millisecond)
	}
	if last := w.created[len(w.created)-1]; last.Message != "after five minutes" {
		t.Errorf("last event %q, want the one after the refill", last.Message)
	}
}
