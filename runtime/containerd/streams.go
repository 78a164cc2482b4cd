package containerd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/errdefs"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/internal/fanout"
	"github.com/setpoint-dev/setpoint/runtime/internal/netns"
)

// runningTask returns the task of the running container id.
func (r *Runtime) runningTask(ctx context.Context, id, op string) (client.Container, client.Task, error) {
	ctr, _, err := r.containerRecord(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	task, err := ctr.Task(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s container %s: it is not running (it has no process)", runtime.ErrFailedPrecondition, op, id)
	}
	if st, err := task.Status(ctx); err != nil || st.Status != client.Running {
		return nil, nil, fmt.Errorf("%w: %s container %s: it is not running (%s)", runtime.ErrFailedPrecondition, op, id, st.Status)
	}
	return ctr, task, nil
}

// Exec runs a process in the running container, with the container's
// environment, user and working directory, streaming through FIFOs that
// the containerd client copies.
func (r *Runtime) Exec(ctx context.Context, id string, opts runtime.ExecOptions) (_ int, err error) {
	defer r.observe("exec", time.Now(), &err)
	if err := opts.Validate(); err != nil {
		return 0, fmt.Errorf("exec in container %s: %w", id, err)
	}
	ctx = r.ctx(ctx)
	ctr, task, err := r.runningTask(ctx, id, "exec in")
	if err != nil {
		return 0, err
	}
	spec, err := ctr.Spec(ctx)
	if err != nil {
		return 0, convert(err, "exec in container "+id)
	}
	pspec := *spec.Process
	pspec.Args = opts.Cmd
	pspec.Terminal = opts.TTY
	pspec.ConsoleSize = nil
	// The shim keeps the process's stdin open until CloseIO: close it once
	// the caller's input ends.
	var stdin io.Reader
	stdinEnded := make(chan struct{})
	if opts.Stdin != nil {
		stdin = &eofNotifier{r: opts.Stdin, ended: stdinEnded}
	}
	streams := []cio.Opt{cio.WithStreams(stdin, writerOr(opts.Stdout), writerOr(opts.Stderr)), cio.WithFIFODir(filepath.Join(r.cfg.StateDir, "exec"))}
	if opts.TTY {
		streams = append(streams, cio.WithTerminal)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	proc, err := task.Exec(ctx, "exec-"+hex.EncodeToString(rnd[:]), &pspec, cio.NewCreator(streams...))
	if err != nil {
		return 0, convert(err, "exec in container "+id)
	}
	cleanup := context.WithoutCancel(ctx)
	defer proc.Delete(cleanup, client.WithProcessKill)
	exited, err := proc.Wait(ctx)
	if err != nil {
		return 0, convert(err, "exec in container "+id)
	}
	if err := proc.Start(ctx); err != nil {
		if errdefs.IsUnavailable(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return 0, convert(err, "exec in container "+id)
		}
		return 0, fmt.Errorf("%w: exec %q in container %s: %v", runtime.ErrInvalid, opts.Cmd, id, err)
	}
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	if opts.Stdin != nil {
		go func() {
			select {
			case <-stdinEnded:
				proc.CloseIO(rctx, client.WithStdinCloser)
			case <-rctx.Done():
			}
		}()
	}
	if opts.TTY && opts.Resize != nil {
		go fanout.Resizes(rctx, opts.Resize, func(s runtime.TermSize) error {
			return proc.Resize(rctx, uint32(s.Width), uint32(s.Height))
		})
	}
	select {
	case st := <-exited:
		proc.IO().Wait()
		code, _, err := st.Result()
		if err != nil {
			return 0, convert(err, "exec in container "+id)
		}
		return int(code), nil
	case <-ctx.Done():
		proc.Kill(cleanup, 9)
		<-exited
		proc.IO().Cancel()
		return 0, fmt.Errorf("exec in container %s: %w", id, ctx.Err())
	}
}

func writerOr(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// eofNotifier closes ended when its reader reaches end of file.
type eofNotifier struct {
	r     io.Reader
	ended chan struct{}
	once  sync.Once
}

// Read reads, noting the end.
func (e *eofNotifier) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.once.Do(func() { close(e.ended) })
	}
	return n, err
}

// attachStdin copies in to the container's stdin FIFO (the shim reads it
// while the container lives). When in ends and the container is
// StdinOnce, its stdin is closed for good.
func (r *Runtime) attachStdin(ctx context.Context, task client.Task, id string, labels map[string]string, in io.Reader) error {
	f, err := os.OpenFile(r.fifos(id, labels).stdin, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("%w: attach to container %s: its stdin: %v", runtime.ErrFailedPrecondition, id, err)
	}
	go func() {
		defer f.Close()
		_, err := io.Copy(f, in)
		if err != nil || ctx.Err() != nil || labels[labelStdin] != "once" {
			return
		}
		ctx := context.WithoutCancel(ctx)
		if err := r.setLabels(ctx, id, map[string]string{labelStdinClosed: "true"}); err != nil {
			r.cfg.Logger.Warn("recording that stdin is closed", "container", id, "err", err)
		}
		if err := task.CloseIO(ctx, client.WithStdinCloser); err != nil && !errdefs.IsNotFound(err) {
			r.cfg.Logger.Warn("closing stdin", "container", id, "err", err)
		}
	}()
	return nil
}

// Attach connects to the container's FIFOs through its copier: output from
// now on, and input to its stdin.
func (r *Runtime) Attach(ctx context.Context, id string, opts runtime.AttachOptions) (err error) {
	defer r.observe("attach", time.Now(), &err)
	nctx := r.ctx(ctx)
	ctr, info, err := r.containerRecord(nctx, id)
	if err != nil {
		return err
	}
	task, err := ctr.Task(nctx, nil)
	if err != nil {
		return fmt.Errorf("%w: attach to container %s: it has exited", runtime.ErrFailedPrecondition, id)
	}
	st, err := task.Status(nctx)
	if err != nil {
		return convert(err, "attach to container "+id)
	}
	if st.Status != client.Running && st.Status != client.Created {
		return fmt.Errorf("%w: attach to container %s: it is %s", runtime.ErrFailedPrecondition, id, st.Status)
	}
	if opts.Stdin != nil && info.Labels[labelStdin] == "" {
		return &runtime.FieldError{Field: "stdin", Reason: "container " + id + " (" + info.Labels[runtime.LabelContainerName] + ") was not created with stdin"}
	}
	c, err := r.copierFor(id, info.Labels)
	if err != nil {
		if errors.Is(err, errBusy) {
			return fmt.Errorf("%w: attach to container %s: %v", runtime.ErrUnavailable, id, err)
		}
		return fmt.Errorf("attach to container %s: %w", id, err)
	}
	if opts.Stdin != nil && info.Labels[labelStdinClosed] == "true" {
		return fmt.Errorf("%w: attach to container %s: its stdin is closed (stdinOnce)", runtime.ErrFailedPrecondition, id)
	}
	subs := []*fanout.Sub{c.fan[0].Subscribe(writerOr(opts.Stdout))}
	if !c.tty {
		subs = append(subs, c.fan[1].Subscribe(writerOr(opts.Stderr)))
	}
	actx, cancel := context.WithCancel(nctx)
	defer cancel()
	if opts.Stdin != nil {
		if err := r.attachStdin(actx, task, id, info.Labels, opts.Stdin); err != nil {
			for _, s := range subs {
				s.Cancel()
			}
			return err
		}
	}
	if c.tty && opts.Resize != nil {
		go fanout.Resizes(actx, opts.Resize, func(s runtime.TermSize) error {
			return task.Resize(actx, uint32(s.Width), uint32(s.Height))
		})
	}
	if err := fanout.Wait(ctx, subs...); err != nil {
		return fmt.Errorf("attach to container %s: %w", id, err)
	}
	if !c.final() {
		return fmt.Errorf("%w: attach to container %s: the runtime closed", runtime.ErrUnavailable, id)
	}
	return nil
}

// PortForward dials 127.0.0.1:port from inside the sandbox's network
// namespace (the node's, for a host-network sandbox).
func (r *Runtime) PortForward(ctx context.Context, id string, port uint16) (_ net.Conn, err error) {
	defer r.observe("port_forward", time.Now(), &err)
	if port == 0 {
		return nil, &runtime.FieldError{Field: "port", Value: "0", Reason: "must be between 1 and 65535"}
	}
	rec, err := r.sandboxRecord(r.ctx(ctx), id)
	if err != nil {
		return nil, err
	}
	sb := sandboxStatus(rec)
	if sb.State != runtime.SandboxReady {
		return nil, fmt.Errorf("%w: port forward to sandbox %s: it is %s", runtime.ErrFailedPrecondition, id, sb.State)
	}
	c, err := netns.Dial(ctx, sb.NetNS, net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
	if err != nil {
		return nil, fmt.Errorf("%w: port forward to sandbox %s port %d: %v", runtime.ErrUnavailable, id, port, err)
	}
	return c, nil
}
