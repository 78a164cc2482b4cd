package containerd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tasks "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"

	"github.com/setpoint-dev/setpoint/runtime"
)

// reapTimeout bounds deleting an exited task, which waits (up to a limit of
// the shim's own) for the shim to copy the last output to the log.
const reapTimeout = 30 * time.Second

// reap turns a container whose process has exited into its final form: it
// records the exit code and time (and an OOM kill the cgroup counted) in the
// container's labels, then deletes the task. The shim publishes the exit before it has copied the last of the
// process's output to the log file; deleting the task waits for that copy
// (bounded by a timeout of the shim's own), and ends the shim. The labels are written first, so a runtime that dies in between
// loses nothing: the next reap deletes the task. reap returns the updated
// record; it fails with runtime.ErrFailedPrecondition when the process has
// not exited. Holding the container's lock makes reaps and the other
// operations on it take turns.
func (r *Runtime) reap(ctx context.Context, id string) (containers.Container, error) {
	defer r.locks.lock(id)()
	return r.reapLocked(ctx, id)
}

// reapLocked is reap for a caller holding the container's lock.
func (r *Runtime) reapLocked(ctx context.Context, id string) (containers.Container, error) {
	rec, err := r.record(ctx, id)
	if err != nil {
		return containers.Container{}, err
	}
	ts := r.client.TaskService()
	got, err := ts.Get(ctx, &tasks.GetRequest{ContainerID: id})
	if err != nil {
		if err = errgrpc.ToNative(err); errdefs.IsNotFound(err) {
			return rec, nil // reaped already, or lost with its shim
		}
		return containers.Container{}, convert(err, "reap container "+id)
	}
	p := got.GetProcess()
	if st := strings.ToLower(p.GetStatus().String()); st != "stopped" {
		return containers.Container{}, fmt.Errorf("%w: reap container %s: it is %s, not stopped", runtime.ErrFailedPrecondition, id, st)
	}
	// The log is complete once the copier has read the output to its end,
	// which the shim closes once it has copied the last of it.
	r.awaitOutput(ctx, id, rec.Labels)
	if rec.Labels[labelExitCode] == "" {
		exit := map[string]string{labelExitCode: strconv.FormatUint(uint64(p.GetExitStatus()), 10)}
		if at := p.GetExitedAt(); at != nil {
			exit[labelFinished] = at.AsTime().UTC().Format(time.RFC3339Nano)
		}
		// The shim may not have published the OOM event yet, and it will
		// not once the task is deleted: ask the cgroup while it is there.
		if oom, err := r.oomKilled(ctx, id); err != nil {
			r.cfg.Logger.Debug("reading OOM kills before reaping", "container", id, "err", err)
		} else if oom {
			exit[labelOOM] = "true"
		}
		if err := r.setLabels(ctx, id, exit); err != nil {
			return containers.Container{}, fmt.Errorf("reap container %s: record exit: %w", id, err)
		}
		for k, v := range exit {
			rec.Labels[k] = v
		}
	}
	// Not cut short by the caller: a delete abandoned halfway is retried by
	// the next reap, but there is no point in starting over.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reapTimeout)
	defer cancel()
	if _, err := ts.Delete(dctx, &tasks.DeleteTaskRequest{ContainerID: id}); err != nil {
		if err = errgrpc.ToNative(err); !errdefs.IsNotFound(err) {
			return containers.Container{}, convert(err, "reap container "+id)
		}
	}
	return rec, nil
}

// awaitOutput waits (up to reapTimeout) until the copy of the exited
// container's output has ended, taking it over when another runtime
// instance that copied it went away.
func (r *Runtime) awaitOutput(ctx context.Context, id string, labels map[string]string) {
	end := time.Now().Add(reapTimeout)
	for {
		c, err := r.copierFor(id, labels)
		switch {
		case err == nil:
			if !c.wait(time.Until(end)) {
				r.cfg.Logger.Warn("output of an exited container has not ended; reaping anyway", "container", id)
			}
			return
		case !errors.Is(err, errBusy):
			r.cfg.Logger.Warn("copying the output of an exited container", "container", id, "err", err)
			return
		case time.Now().After(end) || ctx.Err() != nil:
			r.cfg.Logger.Warn("another runtime copies the output of an exited container; reaping anyway", "container", id)
			return
		}
		select {
		case <-time.After(followPoll):
		case <-ctx.Done():
		}
	}
}
