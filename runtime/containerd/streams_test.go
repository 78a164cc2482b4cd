package containerd_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

// waitFIFOHolds waits until the FIFO at path holds unread bytes, without
// reading them (FIONREAD, which Linux names TIOCINQ too).
func waitFIFOHolds(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	end := time.Now().Add(time.Minute)
	for {
		n, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCINQ)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("%s holds nothing after a minute", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRestartKeepsStreams: while no runtime runs, a container's output waits
// in its FIFO and its stdin stays open; the next runtime copies that output
// once, attaches to the same stdin, and adopts the sandbox's host name, host
// ports and tmpfs volumes.
func TestRestartKeepsStreams(t *testing.T) {
	cfg := config(t)
	ctx, first := setup(t, cfg)
	port := uint16(30000 + time.Now().UnixNano()%5000)
	sbID, err := first.RunSandbox(ctx, runtime.SandboxConfig{Name: "streams", Namespace: "default", UID: "u-streams", Hostname: "kept-host",
		PortMappings: []runtime.PortMapping{{HostPort: port, ContainerPort: 8080}}})
	if err != nil {
		t.Fatal(err)
	}
	cache := []runtime.Mount{{ContainerPath: "/cache", Type: runtime.MountTmpfs, Name: "cache", SizeLimit: 1 << 20}}
	id, err := first.CreateContainer(ctx, sbID, runtime.ContainerConfig{Name: "app", Image: runtimetest.TestImageName, Stdin: true, Mounts: cache,
		Args: []string{"write", "/cache/x", "survives", "print", "one", "stdin", "print", "end", "exit", "0"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitLog := func(rt runtime.Runtime, want string) {
		t.Helper()
		end := time.Now().Add(time.Minute)
		for {
			got := runtimetest.ReadLogs(ctx, t, rt, id, runtime.LogOptions{})
			if got == want {
				return
			}
			if time.Now().After(end) {
				t.Fatalf("log %q, want %q", got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitLog(first, "wrote /cache/x\none\n")
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	// No runtime runs: write to the container's stdin FIFO ourselves; its
	// answer waits in its stdout FIFO.
	io := filepath.Join(stateDir, "io", cfg.Namespace, id)
	in, err := os.OpenFile(filepath.Join(io, "stdin"), os.O_WRONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatalf("the container's stdin is not open while no runtime runs: %v", err)
	}
	fmt.Fprintln(in, "while away")
	in.Close()
	waitFIFOHolds(t, filepath.Join(io, "stdout"))

	second := newRuntime(t, cfg)
	waitLog(second, "wrote /cache/x\none\nstdin: while away\n")
	out := runtimetest.NewBuffer()
	actx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- second.Attach(actx, id, runtime.AttachOptions{Stdin: strings.NewReader("again\n"), Stdout: out})
	}()
	waitLog(second, "wrote /cache/x\none\nstdin: while away\nstdin: again\n")
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || out.String() != "stdin: again\n" {
		t.Fatalf("Attach after the restart: %v, saw %q", err, out.String())
	}
	st, err := second.SandboxStatus(ctx, sbID)
	if err != nil || st.Hostname != "kept-host" || len(st.PortMappings) != 1 || st.PortMappings[0].HostPort != port {
		t.Fatalf("adopted sandbox %+v, %v", st, err)
	}
	reader := runtime.ContainerConfig{Name: "reader", Image: runtimetest.TestImageName, Mounts: cache, Args: []string{"cat", "/cache/x"}}
	rid := runtimetest.MustStart(ctx, t, second, sbID, reader)
	runtimetest.WaitState(ctx, t, second, rid, runtime.ContainerExited)
	if got := runtimetest.ReadLogs(ctx, t, second, rid, runtime.LogOptions{}); got != "survives\n" {
		t.Fatalf("tmpfs volume after the restart holds %q", got)
	}
	reader.Name, reader.Mounts = "resized", []runtime.Mount{{ContainerPath: "/cache", Type: runtime.MountTmpfs, Name: "cache", SizeLimit: 2 << 20}}
	if _, err := second.CreateContainer(ctx, sbID, reader); !errors.Is(err, runtime.ErrInvalid) || !strings.Contains(err.Error(), "sizeLimit") {
		t.Fatalf("a different size for the adopted volume: %v", err)
	}
	if err := second.RemoveSandbox(ctx, sbID); err != nil {
		t.Fatal(err)
	}
	if l := leaks(t, second); len(l) > 0 {
		t.Fatalf("left behind: %v", l)
	}
}

// TestOneCopier: two runtimes open on the same daemon and state: only one
// copies a container's output (the other follows its log by watching the
// file, and cannot attach), and the log holds every line once.
func TestOneCopier(t *testing.T) {
	cfg := config(t)
	ctx, first := setup(t, cfg)
	sb := runSandbox(ctx, t, first, "copier")
	id := runtimetest.MustStart(ctx, t, first, sb.ID, runtime.ContainerConfig{Name: "app", Image: runtimetest.TestImageName,
		Stdin: true, StdinOnce: true, Args: []string{"stdin", "count", "500", "exit", "0"}})
	second := newRuntime(t, cfg)
	err := second.Attach(ctx, id, runtime.AttachOptions{Stdout: io.Discard})
	if !errors.Is(err, runtime.ErrUnavailable) {
		t.Fatalf("Attach through the runtime that does not copy: %v, want ErrUnavailable", err)
	}
	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	rc, err := second.Logs(fctx, id, runtime.LogOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := first.Attach(ctx, id, runtime.AttachOptions{Stdin: strings.NewReader("go\n")}); err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	want.WriteString("stdin: go\nstdin: EOF\n")
	for i := 1; i <= 500; i++ {
		want.WriteString(strconv.Itoa(i) + "\n")
	}
	got, err := io.ReadAll(rc)
	if err != nil || string(got) != want.String() {
		t.Fatalf("followed through the other runtime: %d bytes, %v; want %d", len(got), err, want.Len())
	}
	// Reaping through the second waits for the first's copy to end.
	if st := runtimetest.WaitState(ctx, t, second, id, runtime.ContainerExited); st.ExitCode != 0 {
		t.Fatalf("exit %d", st.ExitCode)
	}
	if got := runtimetest.ReadLogs(ctx, t, second, id, runtime.LogOptions{}); got != want.String() {
		t.Fatalf("log: %d bytes, want %d", len(got), want.Len())
	}
}

// TestStreamsStress: many followers, attached clients and readers on one
// container writing fast. Each follower gets the whole output once, each
// attached client a contiguous end of it, and the log is exact.
func TestStreamsStress(t *testing.T) {
	ctx, rt := setup(t, config(t))
	sb := runSandbox(ctx, t, rt, "stress")
	const lines, clients = 20000, 6
	id := runtimetest.MustStart(ctx, t, rt, sb.ID, runtime.ContainerConfig{Name: "chatty", Image: runtimetest.TestImageName,
		Stdin: true, StdinOnce: true, Args: []string{"stdin", "count", strconv.Itoa(lines), "exit", "0"}})
	var want strings.Builder
	want.WriteString("stdin: go\nstdin: EOF\n")
	for i := 1; i <= lines; i++ {
		want.WriteString(strconv.Itoa(i) + "\n")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3*clients)
	for i := 0; i < clients; i++ {
		wg.Add(3)
		go func() { // a follower from the start
			defer wg.Done()
			rc, err := rt.Logs(ctx, id, runtime.LogOptions{Follow: true})
			if err != nil {
				errs <- err
				return
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil || string(b) != want.String() {
				errs <- fmt.Errorf("follower got %d bytes (%v), want %d", len(b), err, want.Len())
			}
		}()
		go func() { // an attached client
			defer wg.Done()
			out := runtimetest.NewBuffer()
			if err := rt.Attach(ctx, id, runtime.AttachOptions{Stdout: out}); err != nil {
				errs <- err
				return
			}
			if s := out.String(); !strings.HasSuffix(want.String(), s) || (s != "" && !strings.HasSuffix(s, "\n")) {
				errs <- fmt.Errorf("attached client got %d bytes that are not the end of the output", len(s))
			}
		}()
		go func() { // a reader of the last lines
			defer wg.Done()
			for j := 0; j < 20; j++ {
				rc, err := rt.Logs(ctx, id, runtime.LogOptions{Tail: 3, Timestamps: true})
				if err != nil {
					errs <- err
					return
				}
				b, err := io.ReadAll(rc)
				rc.Close()
				if err != nil || strings.Count(string(b), "\n") > 3 {
					errs <- fmt.Errorf("tail 3 read %d lines (%.200q...), %v", strings.Count(string(b), "\n"), b, err)
					return
				}
			}
		}()
	}
	if err := rt.Attach(ctx, id, runtime.AttachOptions{Stdin: strings.NewReader("go\n")}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	runtimetest.WaitState(ctx, t, rt, id, runtime.ContainerExited)
	if got := runtimetest.ReadLogs(ctx, t, rt, id, runtime.LogOptions{}); got != want.String() {
		t.Fatalf("log: %d bytes, want %d", len(got), want.Len())
	}
}

// TestFailedCreateUnmounts: a command the image cannot run fails after the
// tmpfs volume was mounted; the volume is unmounted again.
func TestFailedCreateUnmounts(t *testing.T) {
	ctx, rt := setup(t, config(t))
	sb := runSandbox(ctx, t, rt, "unmount")
	_, err := rt.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{Name: "bad", Image: runtimetest.TestImageName, Command: []string{"/no/such/binary"},
		Mounts: []runtime.Mount{{ContainerPath: "/cache", Type: runtime.MountTmpfs, Name: "cache"}}})
	if !errors.Is(err, runtime.ErrInvalid) {
		t.Fatalf("CreateContainer with a missing binary: %v", err)
	}
	for _, l := range leaks(t, rt) {
		if l == "container "+sb.ID || l == "1 sandbox directories" {
			continue // the sandbox's own
		}
		if strings.HasPrefix(l, "mount ") || strings.HasPrefix(l, "container ") || strings.Contains(l, "FIFO") || strings.HasPrefix(l, "snapshot ") {
			t.Fatalf("a failed create left %s", l)
		}
	}
}
