package fake_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

// TestGraceOnInjectedClock: a hung container is killed exactly when the
// injected clock passes the grace period, with no real waiting.
func TestGraceOnInjectedClock(t *testing.T) {
	ctx := t.Context()
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := clockwork.NewFakeClockAt(start)
	rt := fake.New(fake.WithClock(clock), fake.WithProgram(runtimetest.TestBinary, testbin))
	if _, err := rt.ImportImage(ctx, bytes.NewReader(runtimetest.TestImage(t))); err != nil {
		t.Fatal(err)
	}
	sb, err := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: "p", UID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := rt.CreateContainer(ctx, sb, runtime.ContainerConfig{Name: "c", Image: runtimetest.TestImageName, Args: []string{"ignore-term", "wait"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- rt.StopContainer(ctx, id, time.Hour) }()
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := clock.BlockUntilContext(waitCtx, 1); err != nil {
		t.Fatalf("StopContainer never started its grace timer: %v", err)
	}
	clock.Advance(59 * time.Minute)
	select {
	case err := <-stopped:
		t.Fatalf("StopContainer returned %v before the grace period ended", err)
	default:
	}
	if st, _ := rt.ContainerStatus(ctx, id); st.State != runtime.ContainerRunning {
		t.Fatalf("killed before the grace period ended: %+v", st)
	}
	clock.Advance(time.Minute)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	st, err := rt.ContainerStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.ExitCode != 137 || !st.FinishedAt.Equal(clock.Now()) || !st.StartedAt.Equal(start) {
		t.Fatalf("after grace: %+v", st)
	}
}
