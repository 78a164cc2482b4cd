package kubelet

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

// TestCrashLoopBackoff: on the fake clock, a crashing container restarts
// at once the first time, then after 10 s, 20 s, 40 s... up to the cap
// (CrashLoopBackOff meanwhile); a container that ran 10 min restarts at
// once again.
func TestCrashLoopBackoff(t *testing.T) {
	c := startCluster(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	rt := fakeRuntime(t, fake.WithClock(clock))
	k, err := New(Config{Client: c.cs, Runtime: rt, NodeName: "node-1", Clock: clock, BackoffMax: 80 * time.Second, RootDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The test drives the kubelet's functions itself, without Run; a
	// container's environment needs the Services watch running.
	svcCtx, stopSvcs := context.WithCancel(ctx)
	defer stopSvcs()
	go k.svcs.Run(svcCtx) //nolint:errcheck // ends with the test
	pod := newPod("crash", "node-1", testContainer("main", "exit 1"))
	pod.UID = "uid-1"
	sbID, err := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: pod.Name, Namespace: pod.Namespace, UID: string(pod.UID)})
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := rt.SandboxStatus(ctx, sbID)
	ctr := &pod.Spec.Containers[0]
	record := func() *containerRecord {
		t.Helper()
		rs, err := k.observe(ctx, pod)
		if err != nil {
			t.Fatal(err)
		}
		rec := rs.containers["main"]
		if rec == nil {
			t.Fatal("no container")
		}
		runtimetest.WaitState(ctx, t, rt, rec.latest.ID, runtime.ContainerExited)
		rs, _ = k.observe(ctx, pod)
		return rs.containers["main"]
	}
	if d := k.startContainer(ctx, pod, &sb, ctr, nil); d != 0 {
		t.Fatalf("first start: back-off %v", d)
	}
	if d := k.restart(ctx, pod, &sb, ctr, record()); d != 0 {
		t.Fatalf("first restart waited %v, want at once", d)
	}
	for _, delay := range []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 80 * time.Second} {
		rec := record()
		attempt := rec.latest.Attempt
		if d := k.restart(ctx, pod, &sb, ctr, rec); d != delay {
			t.Fatalf("after attempt %d: back-off %v, want %v", attempt, d, delay)
		}
		st := k.podStatus(pod, runtimeState{sandbox: &sb, containers: map[string]*containerRecord{"main": rec}})
		cs := st.ContainerStatuses[0]
		if cs.State.Waiting == nil || cs.State.Waiting.Reason != reasonCrashLoopBackOff || cs.LastTerminationState.Terminated == nil ||
			cs.LastTerminationState.Terminated.ExitCode != 1 || cs.RestartCount != int32(attempt) {
			t.Fatalf("status in back-off: %+v", cs)
		}
		clock.Advance(delay - time.Second)
		if d := k.restart(ctx, pod, &sb, ctr, rec); d != time.Second {
			t.Fatalf("a second before the back-off ends: %v left", d)
		}
		clock.Advance(time.Second)
		if d := k.restart(ctx, pod, &sb, ctr, rec); d != 0 {
			t.Fatalf("back-off over, still %v", d)
		}
		if next := record(); next.latest.Attempt != attempt+1 || next.previous == nil || next.previous.ID != rec.latest.ID {
			t.Fatalf("restart made attempt %d (previous %+v), want %d", next.latest.Attempt, next.previous, attempt+1)
		}
	}
	// A container that ran for 10 minutes restarts at once.
	pod.Spec.Containers[0] = testContainer("main", "sleep 11m", "exit 1")
	rec := record()
	if d := k.restart(ctx, pod, &sb, ctr, rec); d == 0 {
		t.Fatal("the back-off did not hold before the long run")
	}
	clock.Advance(80 * time.Second)
	if d := k.restart(ctx, pod, &sb, ctr, rec); d != 0 {
		t.Fatal(d)
	}
	rs, _ := k.observe(ctx, pod)
	id := rs.containers["main"].latest.ID
	runtimetest.WaitState(ctx, t, rt, id, runtime.ContainerRunning)
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(11 * time.Minute)
	if d := k.restart(ctx, pod, &sb, ctr, record()); d != 0 {
		t.Fatalf("after a 11 min run: back-off %v, want none", d)
	}
}
