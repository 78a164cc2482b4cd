package scheduler_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/scheduler"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
)

// gate is a Permit plugin that holds every pod for a minute.
type gate struct{}

func (gate) Name() string { return "Gate" }
func (gate) Permit(context.Context, *framework.CycleState, *framework.PodInfo, string) (*framework.Status, time.Duration) {
	return framework.NewStatus(framework.Wait), time.Minute
}

// TestPermitWait: a pod a Permit plugin holds is not bound until the
// plugin allows it (through Scheduler.WaitingPod); one it rejects is not
// bound and gets the rejection as its FailedScheduling event.
func TestPermitWait(t *testing.T) {
	cs := startServer(t)
	ctx := context.Background()
	createNode(t, cs, newNode("a", "4", "8Gi", nil))
	s := startScheduler(t, scheduler.Config{Client: cs, Profiles: []scheduler.Profile{{SchedulerName: scheduler.DefaultSchedulerName,
		Plugins: append(scheduler.DefaultPlugins(), gate{})}}})
	held := func(name string) *framework.WaitingPod {
		p := createPod(t, cs, newPod(name, "100m", "64Mi"))
		var w *framework.WaitingPod
		waitFor(t, name+" held by Gate", func() (bool, error) {
			w = s.WaitingPod(p.UID)
			return w != nil, nil
		})
		if got := w.Pending(); !slices.Equal(got, []string{"Gate"}) {
			t.Fatalf("%s pending on %v", name, got)
		}
		if cur, err := cs.Pods().Get(ctx, "default", name); err != nil || cur.Spec.NodeName != "" {
			t.Fatalf("%s bound while held (%v)", name, err)
		}
		return w
	}
	held("allowed").Allow("Gate")
	waitFor(t, "allowed bound", func() (bool, error) {
		p, err := cs.Pods().Get(ctx, "default", "allowed")
		return err == nil && p.Spec.NodeName == "a", err
	})
	held("rejected").Reject("Gate", "the gate is closed")
	waitFor(t, "the rejection explained", func() (bool, error) {
		return slices.Contains(events(t, cs, "rejected", "FailedScheduling"), "the gate is closed"), nil
	})
	if p, err := cs.Pods().Get(ctx, "default", "rejected"); err != nil || p.Spec.NodeName != "" {
		t.Fatalf("rejected pod bound to %q (%v)", p.Spec.NodeName, err)
	}
}
