package runtimetest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/runtime"
)

// Buffer collects a stream (an attached client's output, say) and lets a
// test wait for what it expects. It is safe for concurrent use.
type Buffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	wake chan struct{}
}

// NewBuffer returns an empty Buffer.
func NewBuffer() *Buffer { return &Buffer{wake: make(chan struct{})} }

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.Write(p)
	close(b.wake)
	b.wake = make(chan struct{})
	return len(p), nil
}

// String returns what was written.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// WaitFor waits until the buffer holds s, and fails t if it does not
// within a minute.
func (b *Buffer) WaitFor(t testing.TB, s string) {
	t.Helper()
	timeout := time.After(deadline)
	for {
		b.mu.Lock()
		got, wake := b.b.String(), b.wake
		b.mu.Unlock()
		if strings.Contains(got, s) {
			return
		}
		select {
		case <-wake:
		case <-timeout:
			t.Fatalf("waited %v for %q; got %q", deadline, s, got)
		}
	}
}

func testExecStreams(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("exec-streams"))
	id := MustStart(ctx, t, rt, sb, ctr("main", "wait"))
	WaitState(ctx, t, rt, id, runtime.ContainerRunning)
	stdout, stderr := NewBuffer(), NewBuffer()
	code, err := rt.Exec(ctx, id, runtime.ExecOptions{
		Cmd:   []string{TestBinary, "tty", "stdin", "eprint", "to stderr", "exit", "3"},
		Stdin: strings.NewReader("one\ntwo\n"), Stdout: stdout, Stderr: stderr,
	})
	if err != nil || code != 3 {
		t.Fatalf("Exec = %d, %v; want exit code 3", code, err)
	}
	if got := stdout.String(); got != "notty\nstdin: one\nstdin: two\nstdin: EOF\n" {
		t.Fatalf("stdout %q", got)
	}
	if got := stderr.String(); got != "to stderr\n" {
		t.Fatalf("stderr %q", got)
	}
	// Input that arrives in pieces, while the process runs.
	pr, pw := io.Pipe()
	out := NewBuffer()
	done := make(chan error, 1)
	go func() {
		_, err := rt.Exec(ctx, id, runtime.ExecOptions{Cmd: []string{TestBinary, "stdin"}, Stdin: pr, Stdout: out})
		done <- err
	}()
	io.WriteString(pw, "first\n")
	out.WaitFor(t, "stdin: first\n")
	io.WriteString(pw, "second\n")
	out.WaitFor(t, "stdin: second\n")
	pw.Close()
	if err := <-done; err != nil || out.String() != "stdin: first\nstdin: second\nstdin: EOF\n" {
		t.Fatalf("Exec with piped input: %v, %q", err, out.String())
	}
	// A canceled Exec kills its process.
	cctx, cancel := context.WithCancel(ctx)
	started := NewBuffer()
	go func() {
		started.WaitFor(t, "running\n")
		cancel()
	}()
	_, err = rt.Exec(cctx, id, runtime.ExecOptions{Cmd: []string{TestBinary, "print", "running", "wait"}, Stdout: started})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled Exec: %v, want context.Canceled", err)
	}
	res, err := runtime.ExecSync(ctx, rt, id, []string{TestBinary, "print", "still", "exit", "0"})
	if err != nil || res.ExitCode != 0 || string(res.Stdout) != "still\n" {
		t.Fatalf("ExecSync after a canceled Exec: %+v, %v", res, err)
	}
	_, err = rt.Exec(ctx, id, runtime.ExecOptions{})
	wantErr(t, "Exec without a command", err, runtime.ErrInvalid)
}

func testExecTTY(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("exec-tty"))
	id := MustStart(ctx, t, rt, sb, ctr("main", "wait"))
	WaitState(ctx, t, rt, id, runtime.ContainerRunning)
	resize := make(chan runtime.TermSize, 2)
	resize <- runtime.TermSize{Width: 100, Height: 40}
	pr, pw := io.Pipe()
	defer pw.Close()
	out := NewBuffer()
	done := make(chan error, 1)
	var code int
	go func() {
		var err error
		code, err = rt.Exec(ctx, id, runtime.ExecOptions{
			Cmd: []string{TestBinary, "tty", "winsize", "100", "40", "winsize", "120", "50", "stdin"}, TTY: true,
			Stdin: pr, Stdout: out, Resize: resize,
		})
		done <- err
	}()
	out.WaitFor(t, "winsize 100x40\r\n")
	resize <- runtime.TermSize{Width: 120, Height: 50}
	out.WaitFor(t, "winsize 120x50\r\n")
	io.WriteString(pw, "typed\n")
	// The terminal echoes the input, and the program reads the line.
	out.WaitFor(t, "typed\r\nstdin: typed\r\n")
	if got := out.String(); !strings.HasPrefix(got, "tty\r\n") {
		t.Fatalf("TTY exec output %q does not start with tty", got)
	}
	// End of input on a terminal is ^D at the start of a line.
	io.WriteString(pw, "\x04")
	if err := <-done; err != nil || code != 0 {
		t.Fatalf("TTY Exec = %d, %v; output %q", code, err, out.String())
	}
	if !strings.HasSuffix(out.String(), "stdin: EOF\r\n") {
		t.Fatalf("TTY exec output %q does not end with EOF", out.String())
	}
}

func testAttach(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("attach"))
	// StdinOnce: the first client's end of input closes the container's.
	once := ctr("once", "stdin", "eprint", "bye", "exit", "5")
	once.Stdin, once.StdinOnce = true, true
	id := MustStart(ctx, t, rt, sb, once)
	stdout, stderr := NewBuffer(), NewBuffer()
	err := rt.Attach(ctx, id, runtime.AttachOptions{Stdin: strings.NewReader("hello\nworld\n"), Stdout: stdout, Stderr: stderr})
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	if stdout.String() != "stdin: hello\nstdin: world\nstdin: EOF\n" || stderr.String() != "bye\n" {
		t.Fatalf("attached output %q, %q", stdout.String(), stderr.String())
	}
	if st := WaitState(ctx, t, rt, id, runtime.ContainerExited); st.ExitCode != 5 {
		t.Fatalf("exit %d, want 5", st.ExitCode)
	}
	if logs := ReadLogs(ctx, t, rt, id, runtime.LogOptions{Stream: runtime.Stdout}); logs != stdout.String() {
		t.Fatalf("log %q differs from what the client saw", logs)
	}
	err = rt.Attach(ctx, id, runtime.AttachOptions{Stdout: stdout})
	wantErr(t, "Attach to an exited container", err, runtime.ErrFailedPrecondition)

	// Without StdinOnce, input stays open from one client to the next.
	open := ctr("open", "stdin", "exit", "0")
	open.Stdin = true
	id = MustStart(ctx, t, rt, sb, open)
	for _, word := range []string{"first", "second"} {
		out := NewBuffer()
		actx, cancel := context.WithCancel(ctx)
		go func() {
			out.WaitFor(t, "stdin: "+word+"\n")
			cancel()
		}()
		err := rt.Attach(actx, id, runtime.AttachOptions{Stdin: strings.NewReader(word + "\n"), Stdout: out})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Attach until canceled: %v", err)
		}
	}
	if st, _ := rt.ContainerStatus(ctx, id); st.State != runtime.ContainerRunning {
		t.Fatalf("container without stdinOnce after two clients: %+v", st)
	}
	if err := rt.StopContainer(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
	// Input to a container made without stdin is refused.
	plain := MustStart(ctx, t, rt, sb, ctr("plain", "wait"))
	err = rt.Attach(ctx, plain, runtime.AttachOptions{Stdin: strings.NewReader("x"), Stdout: io.Discard})
	wantErr(t, "Attach with stdin to a container without stdin", err, runtime.ErrInvalid)
	err = rt.Attach(ctx, "missing", runtime.AttachOptions{})
	wantErr(t, "Attach to a missing container", err, runtime.ErrNotFound)
}

func testAttachTTY(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("attach-tty"))
	cfg := ctr("tty", "winsize", "91", "33", "tty", "eprint", "on the terminal too", "stdin")
	cfg.Stdin, cfg.TTY = true, true
	id := MustStart(ctx, t, rt, sb, cfg)
	out := NewBuffer()
	resize := make(chan runtime.TermSize, 1)
	resize <- runtime.TermSize{Width: 91, Height: 33}
	pr, pw := io.Pipe()
	defer pw.Close()
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- rt.Attach(actx, id, runtime.AttachOptions{Stdin: pr, Stdout: out, Stderr: io.Discard, Resize: resize})
	}()
	out.WaitFor(t, "winsize 91x33\r\ntty\r\non the terminal too\r\n")
	io.WriteString(pw, "line\n")
	out.WaitFor(t, "stdin: line\r\n")
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Attach: %v", err)
	}
	// The terminal's output is the container's log, as stdout.
	if logs := ReadLogs(ctx, t, rt, id, runtime.LogOptions{Stream: runtime.Stderr}); logs != "" {
		t.Fatalf("a TTY container logged to stderr: %q", logs)
	}
	if logs := ReadLogs(ctx, t, rt, id, runtime.LogOptions{}); !strings.Contains(logs, "tty\r\n") {
		t.Fatalf("TTY container log %q", logs)
	}
}

func testPortForward(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	cfg := pod("forward")
	cfg.Hostname = "forwarded"
	sb := mustSandbox(ctx, t, rt, cfg)
	MustStart(ctx, t, rt, sb, ctr("server", "serve", "127.0.0.1:8080", "http", "0.0.0.0:8081", "wait"))
	line := dialUntil(ctx, t, func() (net.Conn, error) { return rt.PortForward(ctx, sb, 8080) })
	if line != "pong" {
		t.Fatalf("read %q through the forward, want pong", line)
	}
	c, err := rt.PortForward(ctx, sb, 8081)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "forwarded\n" {
		t.Fatalf("HTTP through the forward: %d %q", resp.StatusCode, body)
	}
	if _, err := rt.PortForward(ctx, sb, 9); err == nil {
		t.Fatal("PortForward to a port nobody listens on succeeded")
	}
	_, err = rt.PortForward(ctx, "missing", 8080)
	wantErr(t, "PortForward to a missing sandbox", err, runtime.ErrNotFound)
	if err := rt.StopSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	_, err = rt.PortForward(ctx, sb, 8080)
	wantErr(t, "PortForward to a stopped sandbox", err, runtime.ErrFailedPrecondition)
}

// dialUntil dials until the other side answers a line, and returns it.
func dialUntil(ctx context.Context, t *testing.T, dial func() (net.Conn, error)) string {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		c, err := dial()
		if err == nil {
			c.SetDeadline(time.Now().Add(10 * time.Second))
			line, rerr := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if rerr == nil {
				return strings.TrimSuffix(line, "\n")
			}
			err = rerr
		}
		if time.Now().After(end) || ctx.Err() != nil {
			t.Fatalf("no answer after %v: %v", deadline, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
