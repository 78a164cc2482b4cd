package runtimetest

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/runtime"
)

// testStopGrace: on the runtime's (fake) clock, a process that ignores
// SIGTERM is killed exactly when the grace period has passed, and one that
// honours it stops without any time passing.
func testStopGrace(t *testing.T, h Harness) {
	clk := clockwork.NewFakeClock()
	ctx, rt := setupClock(t, h, clk)
	sb := mustSandbox(ctx, t, rt, pod("grace"))
	stubborn := MustStart(ctx, t, rt, sb, ctr("stubborn", "ignore-term", "print", "ready", "wait"))
	polite := MustStart(ctx, t, rt, sb, ctr("polite", "print", "ready", "wait"))
	for _, id := range []string{stubborn, polite} {
		waitLog(ctx, t, rt, id, "ready\n")
	}
	const grace = time.Hour
	stopped := make(chan error, 1)
	go func() { stopped <- rt.StopContainer(ctx, stubborn, grace) }()
	if err := clk.BlockUntilContext(ctx, 1); err != nil {
		t.Fatalf("StopContainer never started its grace timer: %v", err)
	}
	clk.Advance(grace - time.Nanosecond)
	noTimer, cancel := context.WithCancel(ctx)
	cancel()
	if clk.BlockUntilContext(noTimer, 1) != nil {
		t.Fatal("the grace timer fired before the grace period ended")
	}
	select {
	case err := <-stopped:
		t.Fatalf("StopContainer returned %v before the grace period ended", err)
	default:
	}
	if st, err := rt.ContainerStatus(ctx, stubborn); err != nil || st.State != runtime.ContainerRunning {
		t.Fatalf("stubborn before its grace period ended: %+v, %v; want running", st, err)
	}
	clk.Advance(time.Nanosecond)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if st := WaitState(ctx, t, rt, stubborn, runtime.ContainerExited); st.ExitCode != 137 {
		t.Fatalf("stubborn exit code %d, want 137 (SIGKILL)", st.ExitCode)
	}
	if err := rt.StopContainer(ctx, polite, grace); err != nil {
		t.Fatal(err)
	}
	if st := WaitState(ctx, t, rt, polite, runtime.ContainerExited); st.ExitCode != 143 {
		t.Fatalf("polite exit code %d, want 143 (SIGTERM)", st.ExitCode)
	}
}
