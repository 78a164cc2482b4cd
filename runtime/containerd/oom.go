package containerd

import (
	"context"
	"fmt"
	"time"

	cgroup1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	cgroup2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	apievents "github.com/containerd/containerd/api/events"
	tasks "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/typeurl/v2"
)

// labelOOM marks a container whose process the kernel killed for going over
// its memory limit.
const labelOOM = internalPrefix + "oom-killed"

// watchOOM records the OOM kills the shims report (the /tasks/oom event) as
// a label on the container, so ContainerStatus can say ReasonOOMKilled. It
// resubscribes when the daemon restarts. (reap also reads the cgroup's OOM
// kill counter before deleting a task, which catches the kills whose event
// came too late or while no Runtime was subscribed.)
func (r *Runtime) watchOOM(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	filter := fmt.Sprintf(`topic=="/tasks/oom",namespace==%q`, r.cfg.Namespace)
	for ctx.Err() == nil {
		events, errs := r.client.Subscribe(ctx, filter)
	recv:
		for {
			select {
			case env := <-events:
				v, err := typeurl.UnmarshalAny(env.Event)
				if err != nil {
					continue
				}
				if oom, ok := v.(*apievents.TaskOOM); ok {
					if err := r.setLabels(r.ctx(ctx), oom.ContainerID, map[string]string{labelOOM: "true"}); err != nil {
						r.cfg.Logger.Warn("recording OOM kill", "container", oom.ContainerID, "err", err)
					}
				}
			case err := <-errs:
				if ctx.Err() == nil {
					r.cfg.Logger.Debug("event subscription ended; resubscribing", "err", err)
				}
				break recv
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

// oomKilled reads from the task's cgroup (v1 memory.oom_control or v2
// memory.events, through the task's metrics) whether the kernel OOM-killed a
// process of the container. A stopped task keeps its cgroup until it is
// deleted, so reap asks this before deleting: unlike the event, which the
// shim may not have published yet when the task is deleted, the counter
// cannot be missed.
func (r *Runtime) oomKilled(ctx context.Context, id string) (bool, error) {
	resp, err := r.client.TaskService().Metrics(ctx, &tasks.MetricsRequest{Filters: []string{fmt.Sprintf("id==%q", id)}})
	if err != nil {
		return false, convert(errgrpc.ToNative(err), "metrics of container "+id)
	}
	for _, m := range resp.GetMetrics() {
		if m.GetID() != id {
			continue
		}
		v, err := typeurl.UnmarshalAny(m.GetData())
		if err != nil {
			return false, fmt.Errorf("metrics of container %s: decode: %w", id, err)
		}
		switch s := v.(type) {
		case *cgroup1.Metrics:
			return s.GetMemoryOomControl().GetOomKill() > 0, nil
		case *cgroup2.Metrics:
			return s.GetMemoryEvents().GetOomKill() > 0, nil
		default:
			return false, fmt.Errorf("metrics of container %s: unknown type %T", id, v)
		}
	}
	return false, fmt.Errorf("metrics of container %s: none returned", id)
}
