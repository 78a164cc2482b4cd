package job

import (
	"slices"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/batch"
)

// matchPolicy returns the first rule of a pod failure policy that matches
// a failed pod, or nil (the failure counts toward backoffLimit). As in
// Kubernetes: onExitCodes looks at the containers (and init containers)
// that terminated with a non-zero code, restricted to containerName if
// set, and matches if one's code is In (or NotIn) the values;
// onPodConditions matches if the pod has one of the conditions with the
// given status.
func matchPolicy(pol *batch.PodFailurePolicy, p *api.Pod) *batch.PodFailurePolicyRule {
	if pol == nil || p.Status.Phase != api.PodFailed {
		return nil
	}
	for i := range pol.Rules {
		r := &pol.Rules[i]
		if r.OnExitCodes != nil && matchExitCodes(r.OnExitCodes, p) {
			return r
		}
		for _, pat := range r.OnPodConditions {
			if slices.ContainsFunc(p.Status.Conditions, func(c api.PodCondition) bool {
				return c.Type == pat.Type && c.Status == pat.Status
			}) {
				return r
			}
		}
	}
	return nil
}

func matchExitCodes(req *batch.PodFailurePolicyOnExitCodesRequirement, p *api.Pod) bool {
	for _, list := range [][]api.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range list {
			if req.ContainerName != nil && *req.ContainerName != cs.Name {
				continue
			}
			t := cs.State.Terminated
			if t == nil || t.ExitCode == 0 {
				continue
			}
			in := slices.Contains(req.Values, t.ExitCode)
			if (req.Operator == batch.PodFailurePolicyOnExitCodesOpIn) == in {
				return true
			}
		}
	}
	return false
}
