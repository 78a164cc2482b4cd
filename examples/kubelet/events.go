package kubelet

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// Event types.
const (
	eventNormal  = "Normal"
	eventWarning = "Warning"
)

// recorder writes core/v1 Events about pods, from component "kubelet"
// on the node. A failed write is logged, never fatal.
type recorder struct {
	events *rest.Client[*api.Event]
	node   string
	clock  clockwork.Clock
	log    *slog.Logger
	seq    atomic.Uint64
}

// pod records an event about pod.
func (r *recorder) pod(ctx context.Context, pod *api.Pod, typ, reason, msg string) {
	r.log.Debug("event", "pod", podKey(pod), "type", typ, "reason", reason, "message", msg)
	now := store.NewTime(r.clock.Now())
	ev := &api.Event{
		InvolvedObject: api.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name,
			UID: string(pod.UID), ResourceVersion: pod.ResourceVersion},
		Reason: reason, Message: msg, Type: typ, Count: 1, FirstTimestamp: now, LastTimestamp: now,
		Source:              api.EventSource{Component: "kubelet", Host: r.node},
		ReportingController: "kubelet", ReportingInstance: r.node,
	}
	ev.Namespace = pod.Namespace
	ev.Name = fmt.Sprintf("%s.%x%x", pod.Name, now.UnixNano(), r.seq.Add(1))
	if _, err := r.events.Create(ctx, ev); err != nil {
		r.log.Warn("writing an event", "pod", podKey(pod), "reason", reason, "err", err)
	}
}
