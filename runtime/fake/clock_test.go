package fake_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

// TestTimestampsFromInjectedClock: the fake reads a container's start and
// finish times from the injected clock. (The grace period on the clock is
// part of the contract suite, which runs against containerd too.)
func TestTimestampsFromInjectedClock(t *testing.T) {
	ctx := t.Context()
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := clockwork.NewFakeClockAt(start)
	rt := newFake(t, fake.WithClock(clk))
	if _, err := rt.ImportImage(ctx, bytes.NewReader(runtimetest.TestImage(t))); err != nil {
		t.Fatal(err)
	}
	sb, err := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: "p", UID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := rt.CreateContainer(ctx, sb, runtime.ContainerConfig{Name: "c", Image: runtimetest.TestImageName, Args: []string{"wait"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	clk.Advance(90 * time.Minute)
	if err := rt.StopContainer(ctx, id, 0); err != nil { // no grace: killed at once
		t.Fatal(err)
	}
	st, err := rt.ContainerStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !st.StartedAt.Equal(start) || !st.FinishedAt.Equal(start.Add(90*time.Minute)) || st.ExitCode != 137 {
		t.Fatalf("status %+v; want started at %v, finished 90m later with 137", st, start)
	}
}
