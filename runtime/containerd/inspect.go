package containerd

import (
	"context"
	"fmt"
	"time"

	cgroup1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	cgroup2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/typeurl/v2"

	"github.com/setpoint-dev/setpoint/runtime"
)

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
