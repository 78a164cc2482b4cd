package framework_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
)

// TestWaitingPod: a pod held by two Permit plugins is released by the
// second allowance, rejected by any rejection, and rejected when a
// plugin's timeout passes (fake clock), with Kubernetes' message.
func TestWaitingPod(t *testing.T) {
	ctx := context.Background()
	pod := &api.Pod{}
	decided := func(w *framework.WaitingPod) bool {
		c, cancel := context.WithCancel(ctx)
		cancel()
		return w.Wait(c).Code() != framework.Error
	}
	t.Run("allowed by all", func(t *testing.T) {
		clock := clockwork.NewFakeClock()
		w := framework.NewWaitingPod(pod, map[string]time.Duration{"a": time.Minute, "b": time.Minute}, clock)
		if got := w.Pending(); !slices.Equal(got, []string{"a", "b"}) {
			t.Fatalf("pending %v", got)
		}
		w.Allow("a")
		w.Allow("unknown")
		if decided(w) {
			t.Fatal("released before b allowed")
		}
		w.Allow("b")
		if st := w.Wait(ctx); !st.IsSuccess() {
			t.Fatalf("Wait = %v, want success", st)
		}
		clock.Advance(2 * time.Minute) // the stopped timers reject nothing
		if st := w.Wait(ctx); !st.IsSuccess() {
			t.Fatalf("after the timeouts: %v", st)
		}
	})
	t.Run("rejected", func(t *testing.T) {
		w := framework.NewWaitingPod(pod, map[string]time.Duration{"a": time.Minute, "b": time.Minute}, clockwork.NewFakeClock())
		w.Allow("a")
		w.Reject("b", "no quota")
		w.Allow("b")
		st := w.Wait(ctx)
		if st.Code() != framework.Unschedulable || st.Message() != "no quota" || st.Plugin() != "b" {
			t.Fatalf("Wait = %v (plugin %q), want Unschedulable no quota from b", st, st.Plugin())
		}
	})
	t.Run("timed out", func(t *testing.T) {
		clock := clockwork.NewFakeClock()
		w := framework.NewWaitingPod(pod, map[string]time.Duration{"slow": 10 * time.Second, "slower": time.Minute}, clock)
		clock.Advance(9 * time.Second)
		if decided(w) {
			t.Fatal("decided before the timeout")
		}
		clock.Advance(time.Second)
		st := w.Wait(ctx)
		if st.Code() != framework.Unschedulable || st.Message() != "rejected due to timeout after waiting 10s at plugin slow" || st.Plugin() != "slow" {
			t.Fatalf("Wait = %v (plugin %q)", st, st.Plugin())
		}
	})
	t.Run("context ends", func(t *testing.T) {
		w := framework.NewWaitingPod(pod, map[string]time.Duration{"a": time.Minute}, clockwork.NewFakeClock())
		if decided(w) {
			t.Fatal("decided without anyone deciding")
		}
	})
}
