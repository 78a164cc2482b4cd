package containerd

import (
	"context"
	"fmt"
	"time"

	apievents "github.com/containerd/containerd/api/events"
	"github.com/containerd/typeurl/v2"
)

// labelOOM marks a container whose process the kernel killed for going over
// its memory limit.
const labelOOM = internalPrefix + "oom-killed"

// watchOOM records the OOM kills the shims report (the /tasks/oom event) as
// a label on the container, so ContainerStatus can say ReasonOOMKilled. It
// resubscribes when the daemon restarts; kills reported while no Runtime is
// subscribed are reported as plain errors (exit code 137).
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
