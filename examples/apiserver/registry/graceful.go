package registry

import "github.com/setpoint-dev/setpoint/examples/api"

// podGracePeriod is Kubernetes' rule for deleting a pod: the client's
// gracePeriodSeconds, else the pod's terminationGracePeriodSeconds; at once
// (0) when the pod is not bound to a node (no kubelet would finish it) or
// has already finished. A negative request means 1 second.
func podGracePeriod(p *api.Pod, requested *int64) int64 {
	var g int64
	switch {
	case requested != nil:
		g = *requested
	case p.Spec.TerminationGracePeriodSeconds != nil:
		g = *p.Spec.TerminationGracePeriodSeconds
	}
	if p.Spec.NodeName == "" || p.Status.Phase == api.PodSucceeded || p.Status.Phase == api.PodFailed {
		return 0
	}
	if g < 0 {
		g = 1
	}
	return g
}
