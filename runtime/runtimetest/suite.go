package runtimetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/runtime"
)

// Harness is what the contract suite needs of an implementation.
type Harness struct {
	// New returns a fresh runtime with no sandboxes, containers or images,
	// and arranges (with t.Cleanup) to release it. Its stop grace periods
	// are timed on clock: nil for the real clock, or a fake clock that the
	// suite advances.
	New func(t *testing.T, clock clockwork.Clock) runtime.Runtime
	// Leaks, when set, lists what the implementation keeps outside the
	// Runtime interface (containerd containers and snapshots, network
	// namespaces, mounts, firewall rules, log files) that is still
	// present. The suite requires it to be empty after bad input and after
	// everything is removed.
	Leaks func(t *testing.T, rt runtime.Runtime) []string
	// DialHostPort connects to a TCP port of the node rt runs on, as a
	// client outside the node would (to check host ports). Required.
	DialHostPort func(ctx context.Context, rt runtime.Runtime, port uint16) (net.Conn, error)
}

// Run runs the contract suite: every Runtime must pass it.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"Images", testImages},
		{"SandboxLifecycle", testSandboxLifecycle},
		{"HostNetwork", testHostNetwork},
		{"SandboxAttempts", testSandboxAttempts},
		{"ContainerLifecycle", testContainerLifecycle},
		{"ExitCodeAndLogs", testExitCodeAndLogs},
		{"LogsCompleteAtExit", testLogsCompleteAtExit},
		{"FollowLogs", testFollowLogs},
		{"StopGrace", testStopGrace},
		{"Exec", testExec},
		{"StatsAndLimits", testStats},
		{"OOMKilled", testOOM},
		{"BadInput", testBadInput},
		{"ListByLabels", testListByLabels},
		{"ConcurrentCreate", testConcurrentCreate},
		{"ImageStatus", testImageStatus},
		{"Mounts", testMounts},
		{"BadMounts", testBadMounts},
		{"SecurityContext", testSecurityContext},
		{"Seccomp", testSeccomp},
		{"RunAsNonRoot", testRunAsNonRoot},
		{"ResourcesInCgroup", testResourcesInCgroup},
		{"ExecStreams", testExecStreams},
		{"ExecTTY", testExecTTY},
		{"Attach", testAttach},
		{"AttachTTY", testAttachTTY},
		{"PortForward", testPortForward},
		{"LogOptions", testLogOptions},
		{"PreviousAttemptLogs", testPreviousAttemptLogs},
		{"SandboxFiles", testSandboxFiles},
		{"HostPorts", testHostPorts},
		{"SandboxStats", testSandboxStats},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

// deadline bounds every wait in the suite; generous for slow machines.
const deadline = 60 * time.Second

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*deadline)
	t.Cleanup(cancel)
	return ctx
}

func setup(t *testing.T, h Harness) (context.Context, runtime.Runtime) {
	return setupClock(t, h, nil)
}

// setupClock is setup with the runtime's grace periods timed on clock.
func setupClock(t *testing.T, h Harness, clock clockwork.Clock) (context.Context, runtime.Runtime) {
	ctx := ctxFor(t)
	rt := h.New(t, clock)
	if _, err := rt.ImportImage(ctx, bytes.NewReader(TestImage(t))); err != nil {
		t.Fatalf("ImportImage: %v", err)
	}
	return ctx, rt
}

// importNonRoot imports NonRootImageName.
func importNonRoot(ctx context.Context, t *testing.T, rt runtime.Runtime) {
	t.Helper()
	b, err := TestImageWithUser(NonRootImageName, "65534:65534")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.ImportImage(ctx, bytes.NewReader(b)); err != nil {
		t.Fatalf("ImportImage(%s): %v", NonRootImageName, err)
	}
}

// runToExit runs a container of cfg in sb until it exits and returns its
// status and log.
func runToExit(ctx context.Context, t *testing.T, rt runtime.Runtime, sb string, cfg runtime.ContainerConfig) (runtime.ContainerStatus, string) {
	t.Helper()
	id := MustStart(ctx, t, rt, sb, cfg)
	st := WaitState(ctx, t, rt, id, runtime.ContainerExited)
	return st, ReadLogs(ctx, t, rt, id, runtime.LogOptions{})
}

func pod(name string) runtime.SandboxConfig {
	return runtime.SandboxConfig{Name: name, Namespace: "default", UID: "uid-" + name, Labels: map[string]string{"app": name}}
}

func mustSandbox(ctx context.Context, t *testing.T, rt runtime.Runtime, cfg runtime.SandboxConfig) string {
	t.Helper()
	id, err := rt.RunSandbox(ctx, cfg)
	if err != nil {
		t.Fatalf("RunSandbox(%s): %v", cfg.Name, err)
	}
	t.Cleanup(func() { rt.RemoveSandbox(context.Background(), id) })
	return id
}

func ctr(name string, script ...string) runtime.ContainerConfig {
	return runtime.ContainerConfig{Name: name, Image: TestImageName, Args: script, Labels: map[string]string{"role": name}}
}

// MustStart creates and starts a container of cfg in sandbox sb, failing t
// on error, and returns its ID.
func MustStart(ctx context.Context, t testing.TB, rt runtime.Runtime, sb string, cfg runtime.ContainerConfig) string {
	t.Helper()
	id, err := rt.CreateContainer(ctx, sb, cfg)
	if err != nil {
		t.Fatalf("CreateContainer(%s): %v", cfg.Name, err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer(%s): %v", cfg.Name, err)
	}
	return id
}

// WaitState waits until the container is in state and returns its status.
func WaitState(ctx context.Context, t testing.TB, rt runtime.Runtime, id string, state runtime.ContainerState) runtime.ContainerStatus {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		st, err := rt.ContainerStatus(ctx, id)
		if err != nil {
			t.Fatalf("ContainerStatus(%s): %v", id, err)
		}
		if st.State == state {
			return st
		}
		if time.Now().After(end) {
			t.Fatalf("container %s (%s) is %s after %v, want %s", id, st.Name, st.State, deadline, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ReadLogs returns the container's whole log.
func ReadLogs(ctx context.Context, t testing.TB, rt runtime.Runtime, id string, opts runtime.LogOptions) string {
	t.Helper()
	rc, err := rt.Logs(ctx, id, opts)
	if err != nil {
		t.Fatalf("Logs(%s): %v", id, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading logs of %s: %v", id, err)
	}
	return string(b)
}

func wantErr(t *testing.T, what string, err, sentinel error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("%s: got error %v, want %v", what, err, sentinel)
	}
}

func noLeaks(t *testing.T, h Harness, rt runtime.Runtime, when string) {
	t.Helper()
	if h.Leaks == nil {
		return
	}
	if l := h.Leaks(t, rt); len(l) > 0 {
		t.Fatalf("%s: left behind: %v", when, l)
	}
}
