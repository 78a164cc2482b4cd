package framework

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// WaitingPod is a pod that Permit plugins asked to wait (Status Wait):
// its binding holds until every one of them allows it, one of them
// rejects it, or one's timeout passes (a rejection "rejected due to
// timeout after waiting <d> at plugin <name>"), as in Kubernetes'
// waiting pods map. It is safe for concurrent use.
type WaitingPod struct {
	pod *api.Pod

	mu      sync.Mutex
	pending map[string]clockwork.Timer
	result  *Status // nil until decided
	done    chan struct{}
}

// NewWaitingPod holds pod for the plugins, each with its timeout, timed
// by clock.
func NewWaitingPod(pod *api.Pod, timeouts map[string]time.Duration, clock clockwork.Clock) *WaitingPod {
	w := &WaitingPod{pod: pod, pending: map[string]clockwork.Timer{}, done: make(chan struct{})}
	w.mu.Lock()
	defer w.mu.Unlock()
	for name, d := range timeouts {
		w.pending[name] = clock.AfterFunc(d, func() {
			w.Reject(name, fmt.Sprintf("rejected due to timeout after waiting %v at plugin %v", d, name))
		})
	}
	if len(w.pending) == 0 {
		w.decide(nil)
	}
	return w
}

// Pod returns the waiting pod.
func (w *WaitingPod) Pod() *api.Pod { return w.pod }

// Pending returns the names of the plugins that have not allowed the pod
// yet, sorted.
func (w *WaitingPod) Pending() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.pending))
	for name := range w.pending {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// Allow records that plugin allows the pod; the last allowance releases
// it. Allowing a decided pod, or for a plugin that is not waiting, does
// nothing.
func (w *WaitingPod) Allow(plugin string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.pending[plugin]
	if !ok || w.result != nil {
		return
	}
	t.Stop()
	delete(w.pending, plugin)
	if len(w.pending) == 0 {
		w.decide(nil)
	}
}

// Reject rejects the pod (Unschedulable, with msg, naming plugin) unless
// it was already decided.
func (w *WaitingPod) Reject(plugin, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.result != nil {
		return
	}
	w.decide(NewStatus(Unschedulable, msg).WithPlugin(plugin))
}

// decide records the outcome (nil: allowed) and stops the timers; w.mu is
// held.
func (w *WaitingPod) decide(st *Status) {
	if st == nil {
		st = NewStatus(Success)
	}
	w.result = st
	for _, t := range w.pending {
		t.Stop()
	}
	close(w.done)
}

// Wait blocks until the pod is decided and returns the decision (Success,
// or the rejection), or an Error status if ctx ends first.
func (w *WaitingPod) Wait(ctx context.Context) *Status {
	select {
	case <-w.done:
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.result
	case <-ctx.Done():
		return AsStatus(fmt.Errorf("waiting for Permit: %w", ctx.Err()))
	}
}
