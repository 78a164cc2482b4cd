package fake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/internal/fanout"
	"github.com/setpoint-dev/setpoint/runtime/internal/logfile"
)

// output is a container's output: its log (CRI format, in memory) and the
// streams attached clients read.
type output struct {
	mu     sync.Mutex
	closed bool
	tty    bool
	mem    *logfile.Memory
	log    *logfile.Writer
	fan    [2]*fanout.Stream // stdout, stderr
}

func newOutput(now func() time.Time, tty bool) *output {
	mem := logfile.NewMemory()
	return &output{tty: tty, mem: mem, log: logfile.NewWriter(mem, now), fan: [2]*fanout.Stream{fanout.New(), fanout.New()}}
}

// stream returns the writer of s: with a TTY both streams are the
// terminal, which turns "\n" into "\r\n".
func (o *output) stream(s runtime.LogStream) io.Writer {
	if o.tty {
		return &onlcr{w: streamWriter{o, runtime.Stdout}}
	}
	return streamWriter{o, s}
}

func (o *output) fanFor(s runtime.LogStream) *fanout.Stream {
	if s == runtime.Stderr && !o.tty {
		return o.fan[1]
	}
	return o.fan[0]
}

// close ends the output: the log is complete, attached clients finish.
func (o *output) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	o.closed = true
	o.log.Flush(true)
	o.mem.Close()
	o.fan[0].Close()
	o.fan[1].Close()
}

type streamWriter struct {
	o *output
	s runtime.LogStream
}

// Write logs p and copies it to attached clients, unless the process has
// exited.
func (w streamWriter) Write(p []byte) (int, error) {
	w.o.mu.Lock()
	defer w.o.mu.Unlock()
	if w.o.closed {
		return 0, errors.New("fake: process has exited")
	}
	w.o.log.Stream(w.s).Write(p)
	w.o.fanFor(w.s).Write(p)
	return len(p), nil
}

// onlcr turns "\n" into "\r\n", as a terminal's output processing does.
type onlcr struct{ w io.Writer }

// Write converts and writes p.
func (o *onlcr) Write(p []byte) (int, error) {
	if _, err := o.w.Write(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ttyInput is a terminal's input as the program reads it: "\r" becomes
// "\n", what is read is echoed to the output, and ^D (EOT) reads as the
// end of the input once.
type ttyInput struct {
	r    io.Reader
	echo io.Writer
	eot  bool   // a ^D was read: the next read returns end of file
	left []byte // what followed the ^D
}

// Read reads, converts and echoes.
func (t *ttyInput) Read(p []byte) (int, error) {
	if t.eot {
		t.eot = false
		return 0, io.EOF
	}
	var n int
	var err error
	if len(t.left) > 0 {
		n = copy(p, t.left)
		t.left = t.left[n:]
	} else {
		n, err = t.r.Read(p)
	}
	if i := bytes.IndexByte(p[:n], 0x04); i >= 0 {
		t.left = append(append([]byte(nil), p[i+1:n]...), t.left...)
		n, t.eot, err = i, true, nil
		if n == 0 {
			t.eot = false
			return 0, io.EOF
		}
	}
	for i := range p[:n] {
		if p[i] == '\r' {
			p[i] = '\n'
		}
	}
	if n > 0 {
		t.echo.Write(p[:n])
	}
	return n, err
}

// Logs returns the container's output (see runtime.LogOptions).
func (r *Runtime) Logs(ctx context.Context, id string, opts runtime.LogOptions) (io.ReadCloser, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("logs of container %s: %w", id, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injected("Logs"); err != nil {
		return nil, err
	}
	c, err := r.container(id)
	if err != nil {
		return nil, err
	}
	lr, err := logfile.NewReader(ctx, c.out.mem, opts)
	if err != nil {
		return nil, fmt.Errorf("logs of container %s: %w", id, err)
	}
	return io.NopCloser(lr), nil
}

// gate passes writes on until closed, then drops them: a process's output
// after its Exec returned goes nowhere.
type gate struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

// Write writes p unless the gate is closed.
func (g *gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || g.w == nil {
		return len(p), nil
	}
	return g.w.Write(p)
}

func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// Exec runs the program of opts.Cmd[0] in the running container, streaming
// its input and output, and returns its exit code.
func (r *Runtime) Exec(ctx context.Context, id string, opts runtime.ExecOptions) (int, error) {
	if err := opts.Validate(); err != nil {
		return 0, fmt.Errorf("exec in container %s: %w", id, err)
	}
	r.mu.Lock()
	if err := r.injected("Exec"); err != nil {
		r.mu.Unlock()
		return 0, err
	}
	c, err := r.container(id)
	if err != nil {
		r.mu.Unlock()
		return 0, err
	}
	if c.status.State != runtime.ContainerRunning {
		r.mu.Unlock()
		return 0, fmt.Errorf("%w: exec in container %s: it is not running (%s)", runtime.ErrFailedPrecondition, id, c.status.State)
	}
	path, err := resolve(c.img, opts.Cmd[0], c.env)
	prog := r.opts.programs[path]
	p := r.process(c, opts.Cmd)
	done := c.done
	r.mu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("%w: exec %q in container %s: %v", runtime.ErrInvalid, opts.Cmd, id, err)
	}
	if prog == nil {
		prog = DefaultProgram
	}
	stdout, stderr := &gate{w: opts.Stdout}, &gate{w: opts.Stderr}
	defer stdout.close()
	defer stderr.close()
	p.Stdout, p.Stderr = stdout, stderr
	var in io.Reader = strings.NewReader("")
	if opts.Stdin != nil {
		in = opts.Stdin
	}
	pctx, kill := context.WithCancel(ctx)
	defer kill()
	if opts.TTY {
		term := &onlcr{w: stdout}
		p.Stdout, p.Stderr, p.TTY = term, term, true
		in = &ttyInput{r: in, echo: term}
		var mu sync.Mutex
		var size runtime.TermSize
		p.size = func() runtime.TermSize {
			mu.Lock()
			defer mu.Unlock()
			return size
		}
		go fanout.Resizes(pctx, opts.Resize, func(s runtime.TermSize) error {
			mu.Lock()
			defer mu.Unlock()
			size = s
			return nil
		})
	}
	p.Stdin = in
	p.Term = nil // SIGTERM goes to the container's process, not to execs
	exited := make(chan int, 1)
	go func() { exited <- prog(pctx, p) }()
	select {
	case code := <-exited:
		if ctx.Err() != nil {
			// The program ended because ctx did: report the cancellation,
			// as the real runtime does, not the exit it caused.
			return 0, fmt.Errorf("exec in container %s: %w", id, ctx.Err())
		}
		return code, nil
	case <-done:
		kill()
		return 137, nil // the container's end kills its processes
	case <-ctx.Done():
		return 0, fmt.Errorf("exec in container %s: %w", id, ctx.Err())
	}
}

// Attach connects opts to the container's streams until its output ends or
// ctx does.
func (r *Runtime) Attach(ctx context.Context, id string, opts runtime.AttachOptions) error {
	r.mu.Lock()
	if err := r.injected("Attach"); err != nil {
		r.mu.Unlock()
		return err
	}
	c, err := r.container(id)
	if err != nil {
		r.mu.Unlock()
		return err
	}
	if st := c.status.State; st != runtime.ContainerRunning && st != runtime.ContainerCreated {
		r.mu.Unlock()
		return fmt.Errorf("%w: attach to container %s: it is %s", runtime.ErrFailedPrecondition, id, st)
	}
	if opts.Stdin != nil && !c.cfg.Stdin {
		r.mu.Unlock()
		return &runtime.FieldError{Field: "stdin", Reason: "container " + id + " (" + c.status.Name + ") was not created with stdin"}
	}
	if opts.Stdin != nil && c.stdinClosed {
		r.mu.Unlock()
		return fmt.Errorf("%w: attach to container %s: its stdin is closed (stdinOnce)", runtime.ErrFailedPrecondition, id)
	}
	subs := []*fanout.Sub{c.out.fan[0].Subscribe(writerOr(opts.Stdout))}
	if !c.cfg.TTY {
		subs = append(subs, c.out.fan[1].Subscribe(writerOr(opts.Stderr)))
	}
	stdinW, once := c.stdinW, c.cfg.StdinOnce
	r.mu.Unlock()
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	if opts.Stdin != nil {
		go func() {
			io.Copy(stdinW, opts.Stdin)
			if once && actx.Err() == nil {
				r.mu.Lock()
				c.stdinClosed = true
				r.mu.Unlock()
				stdinW.Close()
			}
		}()
	}
	if c.cfg.TTY && opts.Resize != nil {
		go fanout.Resizes(actx, opts.Resize, func(s runtime.TermSize) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			c.size = s
			return nil
		})
	}
	if err := fanout.Wait(ctx, subs...); err != nil {
		return fmt.Errorf("attach to container %s: %w", id, err)
	}
	return nil
}

func writerOr(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
