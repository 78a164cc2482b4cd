package kubelet

import (
	"context"
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime"
)

// containerRecord is what the runtime holds of one container of a pod:
// its latest attempt, the one before (kept for lastState and logs
// --previous) and any older ones (to remove).
type containerRecord struct {
	latest, previous *runtime.ContainerStatus
	older            []runtime.ContainerStatus
}

// runtimeState is what the runtime holds of one pod.
type runtimeState struct {
	// sandbox is the pod's newest sandbox (nil: none).
	sandbox *runtime.SandboxStatus
	// stale are the other sandboxes of the same namespace and name: older
	// attempts, or a pod of the same name with another UID.
	stale []runtime.SandboxStatus
	// containers of sandbox, by container name.
	containers map[string]*containerRecord
}

// sandboxesOf lists the runtime's sandboxes of the pod namespace/name.
func (k *Kubelet) sandboxesOf(ctx context.Context, namespace, name string) ([]runtime.SandboxStatus, error) {
	all, err := k.rt.ListSandboxes(ctx, runtime.SandboxFilter{Labels: map[string]string{
		runtime.LabelPodNamespace: namespace, runtime.LabelPodName: name}})
	if err != nil {
		return nil, fmt.Errorf("listing sandboxes: %w", err)
	}
	var out []runtime.SandboxStatus
	for _, sb := range all {
		if sb.Namespace == namespace && sb.Name == name {
			out = append(out, sb)
		}
	}
	return out, nil
}

// observe reads what the runtime holds of pod.
func (k *Kubelet) observe(ctx context.Context, pod *api.Pod) (runtimeState, error) {
	rs := runtimeState{containers: map[string]*containerRecord{}}
	sbs, err := k.sandboxesOf(ctx, pod.Namespace, pod.Name)
	if err != nil {
		return rs, err
	}
	for i := range sbs {
		sb := sbs[i]
		if sb.UID != string(pod.UID) {
			rs.stale = append(rs.stale, sb)
			continue
		}
		if rs.sandbox == nil || sb.Attempt > rs.sandbox.Attempt {
			if rs.sandbox != nil {
				rs.stale = append(rs.stale, *rs.sandbox)
			}
			rs.sandbox = &sb
			continue
		}
		rs.stale = append(rs.stale, sb)
	}
	if rs.sandbox == nil {
		return rs, nil
	}
	cs, err := k.rt.ListContainers(ctx, runtime.ContainerFilter{SandboxID: rs.sandbox.ID})
	if err != nil {
		return rs, fmt.Errorf("listing containers of sandbox %s: %w", rs.sandbox.ID, err)
	}
	for i := range cs {
		c := cs[i]
		rec := rs.containers[c.Name]
		if rec == nil {
			rec = &containerRecord{}
			rs.containers[c.Name] = rec
		}
		switch {
		case rec.latest == nil || c.Attempt > rec.latest.Attempt:
			if rec.latest != nil {
				rec.demote(*rec.latest)
			}
			rec.latest = &c
		default:
			rec.demote(c)
		}
	}
	return rs, nil
}

// demote records c as an attempt older than the latest.
func (r *containerRecord) demote(c runtime.ContainerStatus) {
	if r.previous == nil || c.Attempt > r.previous.Attempt {
		if r.previous != nil {
			r.older = append(r.older, *r.previous)
		}
		r.previous = &c
		return
	}
	r.older = append(r.older, c)
}
