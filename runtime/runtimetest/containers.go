package runtimetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/internal/testprog"
)

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
	// The program handles SIGTERM once it has printed "up".
	waitLog(ctx, t, rt, id, "up\n")
	if st.StartedAt.IsZero() || st.StartedAt.Before(st.CreatedAt.Add(-time.Second)) {
		t.Fatalf("running: StartedAt %v CreatedAt %v", st.StartedAt, st.CreatedAt)
	}
	wantErr(t, "StartContainer twice", rt.StartContainer(ctx, id), runtime.ErrFailedPrecondition)
	if err := rt.StopContainer(ctx, id, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// Exited as soon as StopContainer returns, not eventually.
	if st, err = rt.ContainerStatus(ctx, id); err != nil || st.State != runtime.ContainerExited {
		t.Fatalf("right after StopContainer: %+v, %v; want Exited", st, err)
	}
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
	if st, err := rt.ContainerStatus(ctx, never); err != nil || st.State != runtime.ContainerExited || !st.StartedAt.IsZero() {
		t.Fatalf("never started, right after StopContainer: %+v, %v; want Exited", st, err)
	}
	wantErr(t, "StartContainer of an exited container", rt.StartContainer(ctx, never), runtime.ErrFailedPrecondition)
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
	id := MustStart(ctx, t, rt, sb, ctr("main", "print", "one", "print", "two", "print", "three", "exit", "3"))
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
	errID := MustStart(ctx, t, rt, sb, ctr("stderr", "eprint", "to stderr", "exit", "0"))
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

// testLogsCompleteAtExit: once a container is reported Exited, by
// ContainerStatus or by ListContainers, its log holds everything it wrote,
// however short-lived it was. (containerd's shim reports the exit before it
// has copied the last of the output to the log file.) Many containers write
// more than a pipe holds to both streams and exit at once, while the test
// asks for their state as fast as it can.
func testLogsCompleteAtExit(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("tail"))
	const rounds, perRound, kib = 2, 6, 1024
	fill := testprog.FillData('o', kib)
	want := logCounts(append(fill, bytes.ReplaceAll(fill, []byte("o"), []byte("e"))...))
	for round := 0; round < rounds; round++ {
		var wg sync.WaitGroup
		errs := make(chan error, perRound+1)
		for i := 0; i < perRound; i++ {
			script := []string{"fill", strconv.Itoa(kib), "efill", strconv.Itoa(kib), "exit", "0"}
			if i%2 == 1 { // the other stream last
				script = []string{"efill", strconv.Itoa(kib), "fill", strconv.Itoa(kib), "exit", "0"}
			}
			cfg := ctr(fmt.Sprintf("burst-%d", i), script...)
			cfg.Attempt = uint32(round)
			id := MustStart(ctx, t, rt, sb, cfg)
			wg.Add(1)
			go func(byList bool) {
				defer wg.Done()
				errs <- checkLogsAtExit(ctx, rt, id, byList, want)
			}(i%3 == 0)
			if i == 0 { // and a follower sees it all before it ends
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- followToExit(ctx, rt, id, want)
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
	}
}

// followToExit follows the container's log until it ends, and checks that
// it is want.
func followToExit(ctx context.Context, rt runtime.Runtime, id, want string) error {
	rc, err := rt.Logs(ctx, id, runtime.LogOptions{Follow: true})
	if err != nil {
		return fmt.Errorf("Logs(%s, follow): %v", id, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("following logs of %s: %v", id, err)
	}
	if got := logCounts(b); got != want {
		return fmt.Errorf("followed log of %s has %s, want %s", id, got, want)
	}
	return nil
}

func logCounts(b []byte) string {
	return fmt.Sprintf("%d bytes, %d 'o', %d 'e'", len(b), bytes.Count(b, []byte("o")), bytes.Count(b, []byte("e")))
}

// checkLogsAtExit polls the container's state without pausing until it is
// Exited, then checks at once that its log is want.
func checkLogsAtExit(ctx context.Context, rt runtime.Runtime, id string, byList bool, want string) error {
	end := time.Now().Add(deadline)
	for {
		var st runtime.ContainerStatus
		if byList {
			l, err := rt.ListContainers(ctx, runtime.ContainerFilter{ID: id})
			if err != nil || len(l) != 1 {
				return fmt.Errorf("ListContainers(%s) = %+v, %v", id, l, err)
			}
			st = l[0]
		} else {
			var err error
			if st, err = rt.ContainerStatus(ctx, id); err != nil {
				return fmt.Errorf("ContainerStatus(%s): %v", id, err)
			}
		}
		if st.State == runtime.ContainerExited {
			if st.ExitCode != 0 {
				return fmt.Errorf("container %s exited %d, want 0", id, st.ExitCode)
			}
			break
		}
		if time.Now().After(end) {
			return fmt.Errorf("container %s is %s after %v, want Exited", id, st.State, deadline)
		}
	}
	rc, err := rt.Logs(ctx, id, runtime.LogOptions{})
	if err != nil {
		return fmt.Errorf("Logs(%s): %v", id, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("reading logs of %s: %v", id, err)
	}
	if got := logCounts(b); got != want {
		return fmt.Errorf("log of %s right after it was reported Exited has %s, want %s (by %s)", id, got, want, map[bool]string{true: "ListContainers", false: "ContainerStatus"}[byList])
	}
	return nil
}

func testFollowLogs(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("follow"))
	id := MustStart(ctx, t, rt, sb, ctr("main", "print", "a", "sleep", "300ms", "print", "b", "sleep", "300ms", "print", "c", "exit", "0"))
	got := ReadLogs(ctx, t, rt, id, runtime.LogOptions{Follow: true})
	if got != "a\nb\nc\n" {
		t.Fatalf("followed logs = %q, want a b c", got)
	}
	if st := WaitState(ctx, t, rt, id, runtime.ContainerExited); st.ExitCode != 0 || st.Reason != runtime.ReasonCompleted {
		t.Fatalf("status = %+v", st)
	}
	// Following a running container ends when the context does.
	long := MustStart(ctx, t, rt, sb, ctr("long", "print", "x", "wait"))
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
	id := MustStart(ctx, t, rt, sb, cfg)
	WaitState(ctx, t, rt, id, runtime.ContainerRunning)
	res, err := runtime.ExecSync(ctx, rt, id, []string{TestBinary, "env", "GREETING", "eprint", "oops", "exit", "4"})
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	if res.ExitCode != 4 || string(res.Stdout) != "hello\n" || string(res.Stderr) != "oops\n" {
		t.Fatalf("Exec = code %d stdout %q stderr %q", res.ExitCode, res.Stdout, res.Stderr)
	}
	_, err = runtime.ExecSync(ctx, rt, id, []string{"/no/such/binary"})
	wantErr(t, "Exec(missing binary)", err, runtime.ErrInvalid)
	_, err = runtime.ExecSync(ctx, rt, id, nil)
	wantErr(t, "Exec(no command)", err, runtime.ErrInvalid)
	if err := rt.StopContainer(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
	_, err = runtime.ExecSync(ctx, rt, id, []string{TestBinary, "exit", "0"})
	wantErr(t, "Exec in exited container", err, runtime.ErrFailedPrecondition)
	_, err = runtime.ExecSync(ctx, rt, "missing", []string{TestBinary})
	wantErr(t, "Exec in missing container", err, runtime.ErrNotFound)
}

func testStats(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("stats"))
	cfg := ctr("main", "alloc", "16", "print", "ready", "wait")
	cfg.Resources = runtime.Resources{CPUShares: 512, CPUQuota: 50000, CPUPeriod: 100000, MemoryLimit: 64 << 20}
	id := MustStart(ctx, t, rt, sb, cfg)
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
	if err := rt.StopContainer(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
	_, err = rt.Stats(ctx, id)
	wantErr(t, "Stats(exited)", err, runtime.ErrFailedPrecondition)
}

func testOOM(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("oom"))
	cfg := ctr("hog", "alloc", "128", "print", "survived", "wait")
	cfg.Resources.MemoryLimit = 32 << 20
	id := MustStart(ctx, t, rt, sb, cfg)
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
