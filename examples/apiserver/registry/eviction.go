package registry

import (
	"fmt"
	"net/http"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/policy"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// The rules of the pods/eviction subresource, as Kubernetes applies them
// (pkg/registry/core/pod/storage/eviction.go): an eviction deletes a pod
// unless that would take a PodDisruptionBudget below what it allows. The
// apiserver's eviction handler reads the pod and the budgets and writes
// what these functions decide.

// MaxDisruptedPods is the most evictions a budget may have pending (in
// status.disruptedPods) before further ones are refused.
const MaxDisruptedPods = 2000

// DisruptionBudgetCause is the cause type of a refused eviction.
const DisruptionBudgetCause = "DisruptionBudget"

// EvictionIgnoresBudgets reports whether pod may be evicted without
// consulting budgets: it has finished (Succeeded, Failed), has not started
// (Pending) or is already being deleted.
func EvictionIgnoresBudgets(p *api.Pod) bool {
	switch p.Status.Phase {
	case api.PodSucceeded, api.PodFailed, api.PodPending:
		return true
	}
	return p.DeletionTimestamp != nil
}

// PodReady reports whether pod's Ready condition is True.
func PodReady(p *api.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == api.PodReady {
			return c.Status == api.ConditionTrue
		}
	}
	return false
}

// BudgetsFor returns the budgets of pdbs whose selector matches pod's
// labels, in pod's namespace; a budget with an empty or invalid selector
// matches nothing.
func BudgetsFor(p *api.Pod, pdbs []*policy.PodDisruptionBudget) []*policy.PodDisruptionBudget {
	var out []*policy.PodDisruptionBudget
	for _, b := range pdbs {
		sel := b.Spec.Selector
		if b.Namespace != p.Namespace || sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
			continue
		}
		if _, err := sel.SelectorString(); err != nil {
			continue
		}
		if sel.Matches(p.Labels) {
			out = append(out, b)
		}
	}
	return out
}

// ErrTooManyBudgets is the error of an eviction of a pod that more than one
// budget covers, which Kubernetes does not support (500).
var ErrTooManyBudgets = watch.NewStatusError(http.StatusInternalServerError, watch.StatusReasonInternalError,
	"This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.")

// tooManyRequests is Kubernetes' 429 for an eviction a budget refuses.
func tooManyRequests(retryAfter int32, cause string) error {
	st := watch.NewStatus(http.StatusTooManyRequests, watch.StatusReasonTooManyRequests, "Cannot evict pod as it would violate the pod's disruption budget.")
	st.Details = &watch.StatusDetails{RetryAfterSeconds: retryAfter, Causes: []watch.StatusCause{{Type: DisruptionBudgetCause, Message: cause}}}
	return &watch.StatusError{Status: *st}
}

// BudgetStillProcessing is the 429 of an eviction that a budget the
// disruption controller has not yet caught up with blocks; also what the
// apiserver answers when deleting a pod it let go unhealthy conflicts.
func BudgetStillProcessing(pdbName string) error {
	return tooManyRequests(10, fmt.Sprintf("The disruption budget %s is still being processed by the server.", pdbName))
}

// UnhealthyMayGo reports whether pod, which is not ready, may be evicted
// without using up one of the budget's disruptions: when the budget's
// unhealthyPodEvictionPolicy is AlwaysAllow, or (IfHealthyBudget, the
// default) when the budget has the healthy pods it wants.
func UnhealthyMayGo(p *api.Pod, b *policy.PodDisruptionBudget) bool {
	if PodReady(p) {
		return false
	}
	if pol := b.Spec.UnhealthyPodEvictionPolicy; pol != nil && *pol == policy.AlwaysAllow {
		return true
	}
	return b.Status.CurrentHealthy >= b.Status.DesiredHealthy && b.Status.DesiredHealthy > 0
}

// CheckAndDecrement decides whether budget b allows evicting pod: if so it
// returns b's status with one disruption used and the pod recorded as
// disrupted at now (the caller writes it, then deletes the pod); if not, a
// 429 (no disruption allowed, or the controller has not observed b's
// latest generation) or 403 (a corrupt budget) *watch.StatusError worded as
// Kubernetes words it. b is not modified.
func CheckAndDecrement(podName string, b *policy.PodDisruptionBudget, now time.Time) (*policy.PodDisruptionBudgetStatus, error) {
	forbidden := func(why string) error {
		return watch.NewStatusError(http.StatusForbidden, watch.StatusReasonForbidden,
			fmt.Sprintf("poddisruptionbudgets.policy %q is forbidden: %s", b.Name, why))
	}
	switch {
	case b.Status.ObservedGeneration < b.Generation:
		return nil, BudgetStillProcessing(b.Name)
	case b.Status.DisruptionsAllowed < 0:
		return nil, forbidden("pdb disruptions allowed is negative")
	case len(b.Status.DisruptedPods) > MaxDisruptedPods:
		return nil, forbidden("DisruptedPods map too big - too many evictions not confirmed by PDB controller")
	case b.Status.DisruptionsAllowed == 0:
		return nil, tooManyRequests(0, fmt.Sprintf("The disruption budget %s needs %d healthy pods and has %d currently",
			b.Name, b.Status.DesiredHealthy, b.Status.CurrentHealthy))
	}
	st := b.Status.DeepCopy()
	st.DisruptionsAllowed--
	if st.DisruptionsAllowed == 0 {
		setDisruptionAllowedCondition(st, now)
	}
	if st.DisruptedPods == nil {
		st.DisruptedPods = map[string]store.Time{}
	}
	st.DisruptedPods[podName] = store.NewTime(now)
	return st, nil
}

// setDisruptionAllowedCondition records, as the disruption controller
// would, that no more disruptions are allowed.
func setDisruptionAllowedCondition(st *policy.PodDisruptionBudgetStatus, now time.Time) {
	c := api.Condition{Type: "DisruptionAllowed", Status: api.ConditionFalse, Reason: "InsufficientPods",
		ObservedGeneration: st.ObservedGeneration, LastTransitionTime: store.NewTime(now)}
	for i := range st.Conditions {
		if st.Conditions[i].Type == c.Type {
			if st.Conditions[i].Status != c.Status {
				st.Conditions[i] = c
			}
			return
		}
	}
	st.Conditions = append(st.Conditions, c)
}
