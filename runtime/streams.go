package runtime

import (
	"bytes"
	"context"
	"io"
	"sync"
)

// TermSize is a terminal's size in characters.
type TermSize struct {
	Width, Height uint16
}

// ExecOptions describes a process to run in a running container.
type ExecOptions struct {
	// Cmd is the command line; Cmd[0] is looked up in the container's PATH.
	// Required.
	Cmd []string
	// Stdin, when set, is copied to the process's standard input, which is
	// closed when Stdin returns end of file. Nil gives the process an
	// empty input.
	Stdin io.Reader
	// Stdout and Stderr receive the process's output; nil discards it.
	// With TTY, everything goes to Stdout.
	Stdout io.Writer
	Stderr io.Writer
	// TTY runs the process on a terminal (its line discipline echoes input
	// and turns "\n" into "\r\n" on output).
	TTY bool
	// Resize delivers the terminal's size, first and whenever it changes
	// (with TTY); the process sees each one (and a SIGWINCH).
	Resize <-chan TermSize
}

// AttachOptions connects a client to a container's own standard streams.
type AttachOptions struct {
	// Stdin, when set, is copied to the container's standard input, which
	// the container must have been created with (ContainerConfig.Stdin).
	// When Stdin ends, a StdinOnce container's input is closed; otherwise
	// it stays open for later clients.
	Stdin io.Reader
	// Stdout and Stderr receive what the container writes from now on;
	// nil discards it. A TTY container writes everything to Stdout.
	Stdout io.Writer
	Stderr io.Writer
	// Resize delivers sizes for a TTY container's terminal.
	Resize <-chan TermSize
}

// ExecResult is the outcome of ExecSync.
type ExecResult struct {
	// ExitCode is the command's exit code.
	ExitCode int
	// Stdout and Stderr are the command's output.
	Stdout []byte
	Stderr []byte
}

// ExecSync runs cmd in the running container id without input, waits for
// it and returns its output: Exec with buffers, for probes and hooks.
func ExecSync(ctx context.Context, s StreamService, id string, cmd []string) (ExecResult, error) {
	var stdout, stderr lockedBuffer
	code, err := s.Exec(ctx, id, ExecOptions{Cmd: cmd, Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		return ExecResult{}, err
	}
	return ExecResult{ExitCode: code, Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}, nil
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Bytes returns a copy of what was written.
func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf.Bytes()...)
}

// Validate checks o. The error is a *FieldError naming the field.
func (o ExecOptions) Validate() error {
	if len(o.Cmd) == 0 || o.Cmd[0] == "" {
		return fieldErr("cmd", "", "is required")
	}
	for i, a := range o.Cmd {
		if bytes.IndexByte([]byte(a), 0) >= 0 {
			return fieldErr("cmd", o.Cmd[i], "must not contain NUL")
		}
	}
	return nil
}
