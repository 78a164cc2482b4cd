package containerd_test

import (
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/runtime"
)

// TestStopGraceOnInjectedClock: a real container that ignores SIGTERM is
// killed when the injected clock passes the grace period, not before, and
// with no real waiting for the grace period.
func TestStopGraceOnInjectedClock(t *testing.T) {
	clk := clockwork.NewFakeClock()
	cfg := config(t)
	cfg.Clock = clk
	ctx, rt := setup(t, cfg)
	sb := runSandbox(ctx, t, rt, "grace")
	id := runContainer(ctx, t, rt, sb.ID, "c", "ignore-term", "wait")
	stopped := make(chan error, 1)
	go func() { stopped <- rt.StopContainer(ctx, id, time.Hour) }()
	if err := clk.BlockUntilContext(ctx, 1); err != nil {
		t.Fatalf("StopContainer never started its grace timer: %v", err)
	}
	clk.Advance(59 * time.Minute)
	select {
	case err := <-stopped:
		t.Fatalf("StopContainer returned %v before the grace period ended", err)
	default:
	}
	if st, err := rt.ContainerStatus(ctx, id); err != nil || st.State != runtime.ContainerRunning {
		t.Fatalf("before the grace period ended: %+v, %v; want it running (it ignores SIGTERM)", st, err)
	}
	clk.Advance(time.Minute)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	st, err := rt.ContainerStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != runtime.ContainerExited || st.ExitCode != 137 {
		t.Fatalf("after the grace period: %+v, want exited with 137 (SIGKILL)", st)
	}
}
