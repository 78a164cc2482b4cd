package runtimetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/runtime"
)

// Harness is what the contract suite needs of an implementation.
type Harness struct {
	// New returns a fresh runtime with no sandboxes, containers or images,
	// and arranges (with t.Cleanup) to release it.
	New func(t *testing.T) runtime.Runtime
	// Leaks, when set, lists what the implementation keeps outside the
	// Runtime interface (containerd containers and snapshots, network
	// namespaces, log files) that is still present. The suite requires it
	// to be empty after bad input and after everything is removed.
	Leaks func(t *testing.T, rt runtime.Runtime) []string
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
		{"ContainerLifecycle", testContainerLifecycle},
		{"ExitCodeAndLogs", testExitCodeAndLogs},
		{"FollowLogs", testFollowLogs},
		{"StopGrace", testStopGrace},
		{"Exec", testExec},
		{"StatsAndLimits", testStats},
		{"OOMKilled", testOOM},
		{"BadInput", testBadInput},
		{"ListByLabels", testListByLabels},
		{"ConcurrentCreate", testConcurrentCreate},
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
	ctx := ctxFor(t)
	rt := h.New(t)
	if _, err := rt.ImportImage(ctx, bytes.NewReader(TestImage(t))); err != nil {
		t.Fatalf("ImportImage: %v", err)
	}
	return ctx, rt
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

func mustRun(ctx context.Context, t *testing.T, rt runtime.Runtime, sb string, cfg runtime.ContainerConfig) string {
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

func testImages(t *testing.T, h Harness) {
	ctx := ctxFor(t)
	rt := h.New(t)
	imgs, err := rt.ImportImage(ctx, bytes.NewReader(TestImage(t)))
	if err != nil {
		t.Fatalf("ImportImage: %v", err)
	}
	if len(imgs) != 1 || imgs[0].Name != TestImageName || !strings.HasPrefix(imgs[0].Digest, "sha256:") {
		t.Fatalf("ImportImage = %+v, want one image %s with a digest", imgs, TestImageName)
	}
	got, err := rt.EnsureImage(ctx, TestImageName)
	if err != nil || got.Digest != imgs[0].Digest {
		t.Fatalf("EnsureImage(local) = %+v, %v; want digest %s", got, err, imgs[0].Digest)
	}
	list, err := rt.ListImages(ctx)
	if err != nil || len(list) != 1 || list[0].Name != TestImageName {
		t.Fatalf("ListImages = %+v, %v", list, err)
	}
	// Nothing listens on port 1: the pull must fail at once, and say so.
	start := time.Now()
	_, err = rt.EnsureImage(ctx, "localhost:1/nothing/here:v1")
	wantErr(t, "EnsureImage(unreachable registry)", err, runtime.ErrImageNotFound)
	wantErr(t, "EnsureImage(unreachable registry)", err, runtime.ErrUnavailable)
	if time.Since(start) > deadline {
		t.Fatalf("EnsureImage(unreachable registry) took %v", time.Since(start))
	}
	_, err = rt.ImportImage(ctx, strings.NewReader("this is not a tar archive"))
	wantErr(t, "ImportImage(garbage)", err, runtime.ErrInvalid)
	if err := rt.RemoveImage(ctx, TestImageName); err != nil {
		t.Fatalf("RemoveImage: %v", err)
	}
	wantErr(t, "RemoveImage again", rt.RemoveImage(ctx, TestImageName), runtime.ErrImageNotFound)
	if list, _ := rt.ListImages(ctx); len(list) != 0 {
		t.Fatalf("ListImages after remove = %+v", list)
	}
	_, err = rt.CreateContainer(ctx, "no-such-sandbox", ctr("x"))
	wantErr(t, "CreateContainer(missing sandbox)", err, runtime.ErrNotFound)
}

func testSandboxLifecycle(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	cfg := pod("web")
	id := mustSandbox(ctx, t, rt, cfg)
	if id != runtime.SandboxID(cfg) {
		t.Fatalf("RunSandbox id %s, want %s", id, runtime.SandboxID(cfg))
	}
	_, err := rt.RunSandbox(ctx, cfg)
	wantErr(t, "RunSandbox twice", err, runtime.ErrAlreadyExists)
	st, err := rt.SandboxStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != runtime.SandboxReady || net.ParseIP(st.IP) == nil || st.Name != "web" || st.UID != "uid-web" || st.Namespace != "default" {
		t.Fatalf("SandboxStatus = %+v, want Ready with an IP", st)
	}
	if st.Labels["app"] != "web" || st.Labels[runtime.LabelPodUID] != "uid-web" || st.CreatedAt.IsZero() {
		t.Fatalf("SandboxStatus labels/created = %v %v", st.Labels, st.CreatedAt)
	}
	other := mustSandbox(ctx, t, rt, pod("db"))
	if o, _ := rt.SandboxStatus(ctx, other); o.IP == st.IP {
		t.Fatalf("two sandboxes share IP %s", st.IP)
	}
	c := mustRun(ctx, t, rt, id, ctr("main", "wait"))
	if err := rt.StopSandbox(ctx, id); err != nil {
		t.Fatalf("StopSandbox: %v", err)
	}
	if err := rt.StopSandbox(ctx, id); err != nil {
		t.Fatalf("StopSandbox again: %v", err)
	}
	st, _ = rt.SandboxStatus(ctx, id)
	if st.State != runtime.SandboxNotReady || st.IP != "" {
		t.Fatalf("after stop: %+v, want NotReady without IP", st)
	}
	if cs, _ := rt.ContainerStatus(ctx, c); cs.State != runtime.ContainerExited {
		t.Fatalf("container after StopSandbox is %s, want Exited", cs.State)
	}
	_, err = rt.CreateContainer(ctx, id, ctr("late", "wait"))
	wantErr(t, "CreateContainer in stopped sandbox", err, runtime.ErrFailedPrecondition)
	list, err := rt.ListSandboxes(ctx, runtime.SandboxFilter{State: runtime.SandboxReady})
	if err != nil || len(list) != 1 || list[0].ID != other {
		t.Fatalf("ListSandboxes(Ready) = %+v, %v; want only %s", list, err, other)
	}
	if err := rt.RemoveSandbox(ctx, id); err != nil {
		t.Fatalf("RemoveSandbox: %v", err)
	}
	_, err = rt.SandboxStatus(ctx, id)
	wantErr(t, "SandboxStatus after remove", err, runtime.ErrNotFound)
	_, err = rt.ContainerStatus(ctx, c)
	wantErr(t, "ContainerStatus of a removed sandbox's container", err, runtime.ErrNotFound)
	wantErr(t, "RemoveSandbox again", rt.RemoveSandbox(ctx, id), runtime.ErrNotFound)
	wantErr(t, "StopSandbox of removed", rt.StopSandbox(ctx, id), runtime.ErrNotFound)
	if err := rt.RemoveSandbox(ctx, other); err != nil {
		t.Fatal(err)
	}
	noLeaks(t, h, rt, "after removing every sandbox")
}

func testHostNetwork(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	cfg := pod("host")
	cfg.HostNetwork = true
	id := mustSandbox(ctx, t, rt, cfg)
	st, err := rt.SandboxStatus(ctx, id)
	if err != nil || st.State != runtime.SandboxReady || !st.HostNetwork || st.NetNS != "" {
		t.Fatalf("SandboxStatus = %+v, %v; want Ready, host network, no netns", st, err)
	}
	c := mustRun(ctx, t, rt, id, ctr("main", "print", "on-host"))
	if st := WaitState(ctx, t, rt, c, runtime.ContainerExited); st.ExitCode != 0 || st.Reason != runtime.ReasonCompleted {
		t.Fatalf("status = %+v, want exit 0 Completed", st)
	}
	if err := rt.RemoveSandbox(ctx, id); err != nil {
		t.Fatal(err)
	}
	noLeaks(t, h, rt, "after removing a host-network sandbox")
}

func testContainerLifecycle(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("life"))
	cfg := ctr("main", "print", "up", "wait")
	cfg.Attempt = 2
	id, err := rt.CreateContainer(ctx, sb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rt.CreateContainer(ctx, sb, cfg)
	wantErr(t, "CreateContainer twice", err, runtime.ErrAlreadyExists)
	st, err := rt.ContainerStatus(ctx, id)
	if err != nil || st.State != runtime.ContainerCreated || !st.StartedAt.IsZero() || st.SandboxID != sb || st.Name != "main" || st.Attempt != 2 {
		t.Fatalf("after create: %+v, %v", st, err)
	}
	if st.Labels["role"] != "main" || st.Labels[runtime.LabelContainerName] != "main" || st.Labels[runtime.LabelSandboxID] != sb {
		t.Fatalf("labels = %v", st.Labels)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	st = WaitState(ctx, t, rt, id, runtime.ContainerRunning)
	if st.StartedAt.IsZero() || st.StartedAt.Before(st.CreatedAt.Add(-time.Second)) {
		t.Fatalf("running: StartedAt %v CreatedAt %v", st.StartedAt, st.CreatedAt)
	}
	wantErr(t, "StartContainer twice", rt.StartContainer(ctx, id), runtime.ErrFailedPrecondition)
	if err := rt.StopContainer(ctx, id, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	st = WaitState(ctx, t, rt, id, runtime.ContainerExited)
	if st.ExitCode != 143 || st.Reason != runtime.ReasonError || st.FinishedAt.Before(st.StartedAt) {
		t.Fatalf("after stop: %+v, want exit 143 (SIGTERM)", st)
	}
	if err := rt.StopContainer(ctx, id, time.Second); err != nil {
		t.Fatalf("StopContainer of exited: %v", err)
	}
	if got := ReadLogs(ctx, t, rt, id, runtime.LogOptions{}); got != "up\n" {
		t.Fatalf("logs = %q", got)
	}
	// Stopping a container that never started: it ends up Exited.
	never, err := rt.CreateContainer(ctx, sb, ctr("never", "wait"))
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StopContainer(ctx, never, time.Second); err != nil {
		t.Fatal(err)
	}
	WaitState(ctx, t, rt, never, runtime.ContainerExited)
	for _, c := range []string{id, never} {
		if err := rt.RemoveContainer(ctx, c); err != nil {
			t.Fatalf("RemoveContainer: %v", err)
		}
		_, err = rt.ContainerStatus(ctx, c)
		wantErr(t, "ContainerStatus after remove", err, runtime.ErrNotFound)
		_, err = rt.Logs(ctx, c, runtime.LogOptions{})
		wantErr(t, "Logs after remove", err, runtime.ErrNotFound)
	}
	wantErr(t, "RemoveContainer again", rt.RemoveContainer(ctx, id), runtime.ErrNotFound)
	wantErr(t, "StartContainer removed", rt.StartContainer(ctx, id), runtime.ErrNotFound)
	wantErr(t, "StopContainer removed", rt.StopContainer(ctx, id, 0), runtime.ErrNotFound)
	if err := rt.RemoveSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	noLeaks(t, h, rt, "after removing containers")
}

func testExitCodeAndLogs(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("logs"))
	id := mustRun(ctx, t, rt, sb, ctr("main", "print", "one", "print", "two", "print", "three", "exit", "3"))
	st := WaitState(ctx, t, rt, id, runtime.ContainerExited)
	if st.ExitCode != 3 || st.Reason != runtime.ReasonError || st.FinishedAt.IsZero() || st.StartedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) {
		t.Fatalf("status = %+v, want Exited with code 3", st)
	}
	if got := ReadLogs(ctx, t, rt, id, runtime.LogOptions{}); got != "one\ntwo\nthree\n" {
		t.Fatalf("logs = %q, want one two three", got)
	}
	if got := ReadLogs(ctx, t, rt, id, runtime.LogOptions{Tail: 2}); got != "two\nthree\n" {
		t.Fatalf("logs tail 2 = %q", got)
	}
	if got := ReadLogs(ctx, t, rt, id, runtime.LogOptions{Tail: 1, Follow: true}); got != "three\n" {
		t.Fatalf("logs tail 1 follow of exited = %q", got)
	}
	// Stderr goes to the same log. (Its order relative to stdout is not
	// kept: the streams are separate pipes.)
	errID := mustRun(ctx, t, rt, sb, ctr("stderr", "eprint", "to stderr", "exit", "0"))
	if st := WaitState(ctx, t, rt, errID, runtime.ContainerExited); st.ExitCode != 0 || st.Reason != runtime.ReasonCompleted {
		t.Fatalf("status = %+v, want exit 0 Completed", st)
	}
	if got := ReadLogs(ctx, t, rt, errID, runtime.LogOptions{}); got != "to stderr\n" {
		t.Fatalf("stderr logs = %q", got)
	}
	exited, err := rt.ListContainers(ctx, runtime.ContainerFilter{State: runtime.ContainerExited, Labels: map[string]string{"role": "main"}})
	if err != nil || len(exited) != 1 || exited[0].ID != id {
		t.Fatalf("ListContainers(Exited) = %+v, %v", exited, err)
	}
}

func testFollowLogs(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("follow"))
	id := mustRun(ctx, t, rt, sb, ctr("main", "print", "a", "sleep", "300ms", "print", "b", "sleep", "300ms", "print", "c", "exit", "0"))
	got := ReadLogs(ctx, t, rt, id, runtime.LogOptions{Follow: true})
	if got != "a\nb\nc\n" {
		t.Fatalf("followed logs = %q, want a b c", got)
	}
	if st := WaitState(ctx, t, rt, id, runtime.ContainerExited); st.ExitCode != 0 || st.Reason != runtime.ReasonCompleted {
		t.Fatalf("status = %+v", st)
	}
	// Following a running container ends when the context does.
	long := mustRun(ctx, t, rt, sb, ctr("long", "print", "x", "wait"))
	WaitState(ctx, t, rt, long, runtime.ContainerRunning)
	fctx, cancel := context.WithCancel(ctx)
	rc, err := rt.Logs(fctx, long, runtime.LogOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	line := make([]byte, 2)
	if _, err := io.ReadFull(rc, line); err != nil || string(line) != "x\n" {
		t.Fatalf("first followed line = %q, %v", line, err)
	}
	cancel()
	if _, err := io.ReadAll(rc); !errors.Is(err, context.Canceled) {
		t.Fatalf("read after cancel: %v, want context.Canceled", err)
	}
}

func testStopGrace(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("grace"))
	stubborn := mustRun(ctx, t, rt, sb, ctr("stubborn", "ignore-term", "print", "ready", "wait"))
	polite := mustRun(ctx, t, rt, sb, ctr("polite", "print", "ready", "wait"))
	for _, id := range []string{stubborn, polite} {
		waitLog(ctx, t, rt, id, "ready\n")
	}
	start := time.Now()
	if err := rt.StopContainer(ctx, stubborn, 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Fatalf("a process ignoring SIGTERM was stopped after %v, before its grace period", d)
	}
	if st := WaitState(ctx, t, rt, stubborn, runtime.ContainerExited); st.ExitCode != 137 {
		t.Fatalf("stubborn exit code %d, want 137 (SIGKILL)", st.ExitCode)
	}
	if err := rt.StopContainer(ctx, polite, deadline); err != nil {
		t.Fatal(err)
	}
	if st := WaitState(ctx, t, rt, polite, runtime.ContainerExited); st.ExitCode != 143 {
		t.Fatalf("polite exit code %d, want 143 (SIGTERM)", st.ExitCode)
	}
}

// waitLog waits until the container's log is want.
func waitLog(ctx context.Context, t *testing.T, rt runtime.Runtime, id, want string) {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		got := ReadLogs(ctx, t, rt, id, runtime.LogOptions{})
		if got == want {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("log of %s is %q, want %q", id, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testExec(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("exec"))
	cfg := ctr("main", "wait")
	cfg.Env = []string{"GREETING=hello"}
	id := mustRun(ctx, t, rt, sb, cfg)
	WaitState(ctx, t, rt, id, runtime.ContainerRunning)
	res, err := rt.Exec(ctx, id, []string{TestBinary, "env", "GREETING", "eprint", "oops", "exit", "4"})
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	if res.ExitCode != 4 || string(res.Stdout) != "hello\n" || string(res.Stderr) != "oops\n" {
		t.Fatalf("Exec = code %d stdout %q stderr %q", res.ExitCode, res.Stdout, res.Stderr)
	}
	_, err = rt.Exec(ctx, id, []string{"/no/such/binary"})
	wantErr(t, "Exec(missing binary)", err, runtime.ErrInvalid)
	_, err = rt.Exec(ctx, id, nil)
	wantErr(t, "Exec(no command)", err, runtime.ErrInvalid)
	if err := rt.StopContainer(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
	_, err = rt.Exec(ctx, id, []string{TestBinary, "exit", "0"})
	wantErr(t, "Exec in exited container", err, runtime.ErrFailedPrecondition)
	_, err = rt.Exec(ctx, "missing", []string{TestBinary})
	wantErr(t, "Exec in missing container", err, runtime.ErrNotFound)
}

func testStats(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("stats"))
	cfg := ctr("main", "alloc", "16", "print", "ready", "wait")
	cfg.Resources = runtime.Resources{CPUShares: 512, CPUQuota: 50000, CPUPeriod: 100000, MemoryLimit: 64 << 20}
	id := mustRun(ctx, t, rt, sb, cfg)
	waitLog(ctx, t, rt, id, "ready\n")
	s, err := rt.Stats(ctx, id)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if s.MemoryUsageBytes < 8<<20 || s.MemoryWorkingSetBytes == 0 || s.MemoryWorkingSetBytes > s.MemoryUsageBytes {
		t.Fatalf("Stats memory = %+v, want at least 8 MiB in use after allocating 16", s)
	}
	if s.MemoryLimitBytes != 64<<20 {
		t.Fatalf("Stats limit = %d, want %d", s.MemoryLimitBytes, 64<<20)
	}
	if s.CPUUsageNanos == 0 || s.Timestamp.IsZero() {
		t.Fatalf("Stats cpu/timestamp = %+v", s)
	}
	_, err = rt.Stats(ctx, "missing")
	wantErr(t, "Stats(missing)", err, runtime.ErrNotFound)
}

func testBadInput(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	_, err := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: "Bad_Name", UID: "u"})
	wantErr(t, "RunSandbox(bad name)", err, runtime.ErrInvalid)
	bad := pod("bad")
	bad.Labels = map[string]string{runtime.LabelPodUID: "forged"}
	_, err = rt.RunSandbox(ctx, bad)
	wantErr(t, "RunSandbox(reserved label)", err, runtime.ErrInvalid)
	if l, _ := rt.ListSandboxes(ctx, runtime.SandboxFilter{}); len(l) != 0 {
		t.Fatalf("invalid sandboxes were created: %+v", l)
	}
	sb := mustSandbox(ctx, t, rt, pod("input"))
	cases := []struct {
		name     string
		cfg      runtime.ContainerConfig
		sentinel error
		mention  string
	}{
		{"missing image", runtime.ContainerConfig{Name: "a", Image: "setpoint.test/missing:v1"}, runtime.ErrImageNotFound, "setpoint.test/missing:v1"},
		{"invalid command", runtime.ContainerConfig{Name: "b", Image: TestImageName, Command: []string{"/no/such/binary"}}, runtime.ErrInvalid, "/no/such/binary"},
		{"bad memory limit", func() runtime.ContainerConfig {
			c := ctr("c", "wait")
			c.Resources.MemoryLimit = 1
			return c
		}(), runtime.ErrInvalid, "resources.memoryLimit"},
		{"bad cpu shares", func() runtime.ContainerConfig {
			c := ctr("d", "wait")
			c.Resources.CPUShares = 1
			return c
		}(), runtime.ErrInvalid, "resources.cpuShares"},
		{"bad env", func() runtime.ContainerConfig {
			c := ctr("e", "wait")
			c.Env = []string{"=x"}
			return c
		}(), runtime.ErrInvalid, "env[0]"},
		{"bad name", ctr("Not A Name"), runtime.ErrInvalid, "name"},
	}
	for _, c := range cases {
		_, err := rt.CreateContainer(ctx, sb, c.cfg)
		wantErr(t, c.name, err, c.sentinel)
		if !strings.Contains(err.Error(), c.mention) {
			t.Errorf("%s: error %q does not mention %q", c.name, err, c.mention)
		}
	}
	if l, _ := rt.ListContainers(ctx, runtime.ContainerFilter{}); len(l) != 0 {
		t.Fatalf("bad input left containers: %+v", l)
	}
	if err := rt.RemoveSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	noLeaks(t, h, rt, "after bad input")
}

func testListByLabels(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	a := mustSandbox(ctx, t, rt, pod("a"))
	b := mustSandbox(ctx, t, rt, pod("b"))
	ca := mustRun(ctx, t, rt, a, ctr("web", "wait"))
	cb := mustRun(ctx, t, rt, b, ctr("web", "wait"))
	cb2, err := rt.CreateContainer(ctx, b, ctr("side", "wait"))
	if err != nil {
		t.Fatal(err)
	}
	check := func(f runtime.ContainerFilter, want ...string) {
		t.Helper()
		got, err := rt.ListContainers(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range got {
			ids = append(ids, c.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint(sorted(want)) {
			t.Fatalf("ListContainers(%+v) = %v, want %v", f, ids, sorted(want))
		}
	}
	check(runtime.ContainerFilter{}, ca, cb, cb2)
	check(runtime.ContainerFilter{SandboxID: b}, cb, cb2)
	check(runtime.ContainerFilter{Labels: map[string]string{"role": "web"}}, ca, cb)
	check(runtime.ContainerFilter{Labels: map[string]string{runtime.LabelPodUID: "uid-a"}}, ca)
	check(runtime.ContainerFilter{State: runtime.ContainerCreated}, cb2)
	check(runtime.ContainerFilter{ID: ca}, ca)
	check(runtime.ContainerFilter{Labels: map[string]string{"role": "nope"}})
	sbs, err := rt.ListSandboxes(ctx, runtime.SandboxFilter{Labels: map[string]string{"app": "b"}})
	if err != nil || len(sbs) != 1 || sbs[0].ID != b {
		t.Fatalf("ListSandboxes(app=b) = %+v, %v", sbs, err)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// testConcurrentCreate races several callers making the same sandboxes, then
// the same containers: exactly one wins each, the others get ErrAlreadyExists.
func testConcurrentCreate(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	const pods, racers = 3, 3
	wins := map[string]int{}
	var mu sync.Mutex
	var errs []error
	race := func(make func(p int) (string, error)) {
		var wg sync.WaitGroup
		for p := 0; p < pods; p++ {
			for r := 0; r < racers; r++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					id, err := make(p)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						wins[id]++
					case !errors.Is(err, runtime.ErrAlreadyExists):
						errs = append(errs, err)
					}
				}()
			}
		}
		wg.Wait()
	}
	race(func(p int) (string, error) { return rt.RunSandbox(ctx, pod(fmt.Sprintf("race-%d", p))) })
	race(func(p int) (string, error) {
		return rt.CreateContainer(ctx, runtime.SandboxID(pod(fmt.Sprintf("race-%d", p))), ctr("c", "wait"))
	})
	if len(errs) > 0 {
		t.Fatalf("unexpected errors: %v", errs)
	}
	sbs, err := rt.ListSandboxes(ctx, runtime.SandboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	ctrs, err := rt.ListContainers(ctx, runtime.ContainerFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sbs) != pods || len(ctrs) != pods {
		t.Fatalf("%d sandboxes and %d containers exist, want %d of each", len(sbs), len(ctrs), pods)
	}
	for _, s := range sbs {
		t.Cleanup(func() { rt.RemoveSandbox(context.Background(), s.ID) })
		if wins[s.ID] != 1 {
			t.Fatalf("sandbox %s was created %d times", s.ID, wins[s.ID])
		}
	}
	for _, c := range ctrs {
		if wins[c.ID] != 1 {
			t.Fatalf("container %s was created %d times", c.ID, wins[c.ID])
		}
	}
	for _, s := range sbs {
		if err := rt.RemoveSandbox(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
	}
	noLeaks(t, h, rt, "after concurrent create and remove")
}

func testOOM(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("oom"))
	cfg := ctr("hog", "alloc", "128", "print", "survived", "wait")
	cfg.Resources.MemoryLimit = 32 << 20
	id := mustRun(ctx, t, rt, sb, cfg)
	st := WaitState(ctx, t, rt, id, runtime.ContainerExited)
	// The OOM event may be recorded just after the exit.
	end := time.Now().Add(deadline)
	for st.Reason != runtime.ReasonOOMKilled && time.Now().Before(end) {
		time.Sleep(20 * time.Millisecond)
		st, _ = rt.ContainerStatus(ctx, id)
	}
	if st.Reason != runtime.ReasonOOMKilled || st.ExitCode != 137 {
		t.Fatalf("status = %+v, want OOMKilled with exit code 137", st)
	}
	if logs := ReadLogs(ctx, t, rt, id, runtime.LogOptions{}); strings.Contains(logs, "survived") {
		t.Fatalf("the process outlived its memory limit: %q", logs)
	}
}
