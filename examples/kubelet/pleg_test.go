package kubelet

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime/fake"
)

// reconciles is how many pod syncs the kubelet has run, from its metrics.
func reconciles(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() == "setpoint_reconcile_reconciles_total" {
			for _, m := range mf.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

// TestRelist on the fake clock, with a full resync only every hour: pods
// whose containers do not change are not synced again as the relist
// period passes, and a container that exits is seen by the next relist
// (the pod fails with the exit code) without waiting for the resync.
func TestRelist(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	reg := prometheus.NewRegistry()
	runKubelet(t, Config{Client: c.cs, Runtime: fakeRuntime(t, fake.WithClock(clock)), NodeName: "node-1", Clock: clock,
		Registerer: reg, SyncPeriod: time.Second, ResyncPeriod: time.Hour})
	ctx := context.Background()
	idle := newPod("idle", "node-1", testContainer("main", "wait"))
	exits := newPod("exits", "node-1", testContainer("main", "sleep 30s", "exit 3"))
	exits.Spec.RestartPolicy = api.RestartPolicyNever
	for _, p := range []*api.Pod{idle, exits} {
		if _, err := c.cs.Pods().Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	running := func(p *api.Pod) bool { return p != nil && p.Status.Phase == api.PodRunning }
	pumpPod(t, c.cs, clock, 100*time.Millisecond, "default", "idle", "Running", running)
	pumpPod(t, c.cs, clock, 100*time.Millisecond, "default", "exits", "Running", running)

	before := reconciles(t, reg)
	for range 10 { // ten relist periods; the sleeping container still sleeps
		clock.Advance(time.Second)
		time.Sleep(5 * time.Millisecond) // lets the relist run; the fake clock is what moves
	}
	time.Sleep(100 * time.Millisecond) // lets syncs the periods started finish
	if n := reconciles(t, reg) - before; n > 2 {
		t.Errorf("%v pod syncs in ten relist periods with nothing changing; the two pods were synced every period", n)
	}

	p, _ := pumpPod(t, c.cs, clock, time.Second, "default", "exits", "Failed", func(p *api.Pod) bool { return p != nil && p.Status.Phase == api.PodFailed })
	if st := p.Status.ContainerStatuses; len(st) != 1 || st[0].State.Terminated == nil || st[0].State.Terminated.ExitCode != 3 {
		t.Errorf("container status after the exit: %+v", st)
	}
}
