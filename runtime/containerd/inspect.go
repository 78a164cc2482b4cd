package containerd

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	cgroup1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	cgroup2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/internal/logfile"
)

// followPoll is how often a following log reader looks for new output.
const followPoll = 50 * time.Millisecond

// Logs opens the container's log file, which the shim writes directly, so
// output is kept across restarts of the runtime and of containerd.
func (r *Runtime) Logs(ctx context.Context, id string, opts runtime.LogOptions) (_ io.ReadCloser, err error) {
	defer r.observe("logs", time.Now(), &err)
	nctx := r.ctx(ctx)
	ctr, info, err := r.containerRecord(nctx, id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(info.Labels[labelLogPath])
	if err != nil {
		return nil, fmt.Errorf("logs of container %s: %w", id, err)
	}
	if opts.Tail > 0 {
		st, err := f.Stat()
		if err == nil {
			var off int64
			if off, err = logfile.TailOffset(f, st.Size(), opts.Tail); err == nil {
				_, err = f.Seek(off, io.SeekStart)
			}
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("logs of container %s: %w", id, err)
		}
	}
	if !opts.Follow {
		return f, nil
	}
	done := make(chan struct{})
	fctx, cancel := context.WithCancel(ctx)
	task, err := ctr.Task(nctx, nil)
	var exited <-chan client.ExitStatus
	if err == nil {
		exited, err = task.Wait(r.ctx(fctx))
	}
	switch {
	case errdefs.IsNotFound(err):
		close(done) // reaped, or never had a process: nothing more will be written
	case err != nil:
		cancel()
		f.Close()
		return nil, convert(err, "logs of container "+id)
	default:
		go func() {
			select {
			case <-exited:
				// The shim may still be copying the last output: the log
				// is complete once the task is reaped.
				if _, err := r.reap(r.ctx(fctx), id); err != nil && fctx.Err() == nil && !errors.Is(err, runtime.ErrNotFound) {
					r.cfg.Logger.Warn("reaping exited container", "container", id, "err", err)
				}
				if fctx.Err() == nil {
					close(done)
				}
			case <-fctx.Done():
				// done stays open: the reader ends with ctx's error, not
				// with an end of file that would claim the log complete.
			}
		}()
	}
	return &follower{Follower: logfile.NewFollower(ctx, f, done, followPoll), cancel: cancel}, nil
}

// follower stops waiting for the container's exit when closed.
type follower struct {
	*logfile.Follower
	cancel context.CancelFunc
}

// Close stops following and closes the file.
func (f *follower) Close() error {
	f.cancel()
	return f.Follower.Close()
}

// Exec runs cmd in the running container, with the container's
// environment, user and working directory, and returns its output.
func (r *Runtime) Exec(ctx context.Context, id string, cmd []string) (_ runtime.ExecResult, err error) {
	defer r.observe("exec", time.Now(), &err)
	if len(cmd) == 0 || cmd[0] == "" {
		return runtime.ExecResult{}, &runtime.FieldError{Field: "cmd", Reason: "is required"}
	}
	ctx = r.ctx(ctx)
	ctr, _, err := r.containerRecord(ctx, id)
	if err != nil {
		return runtime.ExecResult{}, err
	}
	task, err := ctr.Task(ctx, nil)
	if err != nil {
		return runtime.ExecResult{}, fmt.Errorf("%w: exec in container %s: it is not running (it has no process)", runtime.ErrFailedPrecondition, id)
	}
	if st, err := task.Status(ctx); err != nil || st.Status != client.Running {
		return runtime.ExecResult{}, fmt.Errorf("%w: exec in container %s: it is not running (%s)", runtime.ErrFailedPrecondition, id, st.Status)
	}
	spec, err := ctr.Spec(ctx)
	if err != nil {
		return runtime.ExecResult{}, convert(err, "exec in container "+id)
	}
	pspec := *spec.Process
	pspec.Args = cmd
	pspec.Terminal = false
	var stdout, stderr bytes.Buffer
	var rnd [6]byte
	rand.Read(rnd[:])
	execID := "exec-" + hex.EncodeToString(rnd[:])
	proc, err := task.Exec(ctx, execID, &pspec, cio.NewCreator(cio.WithStreams(nil, &stdout, &stderr)))
	if err != nil {
		return runtime.ExecResult{}, convert(err, "exec in container "+id)
	}
	cleanup := context.WithoutCancel(ctx)
	defer proc.Delete(cleanup, client.WithProcessKill)
	exited, err := proc.Wait(ctx)
	if err != nil {
		return runtime.ExecResult{}, convert(err, "exec in container "+id)
	}
	if err := proc.Start(ctx); err != nil {
		if errdefs.IsUnavailable(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return runtime.ExecResult{}, convert(err, "exec in container "+id)
		}
		return runtime.ExecResult{}, fmt.Errorf("%w: exec %q in container %s: %v", runtime.ErrInvalid, cmd, id, err)
	}
	select {
	case st := <-exited:
		proc.IO().Wait()
		code, _, err := st.Result()
		if err != nil {
			return runtime.ExecResult{}, convert(err, "exec in container "+id)
		}
		return runtime.ExecResult{ExitCode: int(code), Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}, nil
	case <-ctx.Done():
		proc.Kill(cleanup, 9)
		<-exited
		proc.IO().Wait()
		return runtime.ExecResult{}, fmt.Errorf("exec in container %s: %w", id, ctx.Err())
	}
}

// Stats reads the container's cgroup figures (v1 or v2) from its task.
func (r *Runtime) Stats(ctx context.Context, id string) (_ runtime.ContainerStats, err error) {
	defer r.observe("stats", time.Now(), &err)
	ctx = r.ctx(ctx)
	ctr, _, err := r.containerRecord(ctx, id)
	if err != nil {
		return runtime.ContainerStats{}, err
	}
	task, err := ctr.Task(ctx, nil)
	if err != nil {
		return runtime.ContainerStats{}, fmt.Errorf("%w: stats of container %s: it is not running (it has no process)", runtime.ErrFailedPrecondition, id)
	}
	if st, err := task.Status(ctx); err != nil || st.Status != client.Running {
		return runtime.ContainerStats{}, fmt.Errorf("%w: stats of container %s: it is not running (%s)", runtime.ErrFailedPrecondition, id, st.Status)
	}
	m, err := task.Metrics(ctx)
	if err != nil {
		return runtime.ContainerStats{}, convert(err, "stats of container "+id)
	}
	v, err := typeurl.UnmarshalAny(m.Data)
	if err != nil {
		return runtime.ContainerStats{}, fmt.Errorf("stats of container %s: decode metrics: %w", id, err)
	}
	out := runtime.ContainerStats{Timestamp: m.Timestamp.AsTime()}
	switch s := v.(type) {
	case *cgroup1.Metrics:
		out.CPUUsageNanos = s.GetCPU().GetUsage().GetTotal()
		mem := s.GetMemory()
		out.MemoryUsageBytes = mem.GetUsage().GetUsage()
		out.MemoryWorkingSetBytes = sub(out.MemoryUsageBytes, mem.GetTotalInactiveFile())
		if l := mem.GetUsage().GetLimit(); l < 1<<62 {
			out.MemoryLimitBytes = l
		}
	case *cgroup2.Metrics:
		out.CPUUsageNanos = s.GetCPU().GetUsageUsec() * 1000
		mem := s.GetMemory()
		out.MemoryUsageBytes = mem.GetUsage()
		out.MemoryWorkingSetBytes = sub(out.MemoryUsageBytes, mem.GetInactiveFile())
		if l := mem.GetUsageLimit(); l < 1<<62 {
			out.MemoryLimitBytes = l
		}
	default:
		return runtime.ContainerStats{}, fmt.Errorf("stats of container %s: unknown metrics type %T", id, v)
	}
	return out, nil
}

func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}
