package registry

import (
	"fmt"
	"reflect"
	"sort"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/store"
)

// validateWorkload checks what replica sets, deployments, stateful sets and
// daemon sets share: a non-empty selector that matches the template's
// labels, a valid template with restartPolicy Always, and replicas >= 0.
func validateWorkload(e *errs, replicas *int32, sel *api.LabelSelector, tmpl *api.PodTemplateSpec) {
	if replicas != nil {
		validateNonNegative(e, "spec.replicas", int64(*replicas))
	}
	switch {
	case sel == nil:
		e.required("spec.selector", "a label selector")
	case len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0:
		e.add("spec.selector", "", "Invalid value: empty selector is invalid for this resource")
	default:
		if validateLabelSelector(e, "spec.selector", sel) && !sel.Matches(tmpl.Labels) {
			e.add("spec.template.metadata.labels", fmt.Sprint(tmpl.Labels), "Invalid value: `selector` does not match template `labels`")
		}
	}
	validateLabels(e, "spec.template.metadata.labels", tmpl.Labels)
	validatePodSpec(e, "spec.template.spec", &tmpl.Spec)
	if tmpl.Spec.RestartPolicy != "" && tmpl.Spec.RestartPolicy != "Always" {
		e.notSupported("spec.template.spec.restartPolicy", tmpl.Spec.RestartPolicy, "Always")
	}
}

func validateSelectorUnchanged(e *errs, old, new *api.LabelSelector) {
	if !reflect.DeepEqual(old, new) {
		e.add("spec.selector", "", "Invalid value: field is immutable")
	}
}

func validateReplicaSet(r *apps.ReplicaSet) store.FieldErrors {
	var e errs
	validateWorkload(&e, r.Spec.Replicas, r.Spec.Selector, &r.Spec.Template)
	st := r.Status
	validateStatusCounts(&e, map[string]int64{"replicas": int64(st.Replicas), "fullyLabeledReplicas": int64(st.FullyLabeledReplicas),
		"readyReplicas": int64(st.ReadyReplicas), "availableReplicas": int64(st.AvailableReplicas), "observedGeneration": st.ObservedGeneration}, nil,
		[][2]string{{"fullyLabeledReplicas", "replicas"}, {"readyReplicas", "replicas"}, {"availableReplicas", "replicas"}, {"availableReplicas", "readyReplicas"}})
	validateNonNegative(&e, "spec.minReadySeconds", int64(r.Spec.MinReadySeconds))
	return e.list
}

func validateReplicaSetUpdate(old, new *apps.ReplicaSet) store.FieldErrors {
	var e errs
	validateSelectorUnchanged(&e, old.Spec.Selector, new.Spec.Selector)
	return e.list
}

func validateDeployment(d *apps.Deployment) store.FieldErrors {
	var e errs
	validateWorkload(&e, d.Spec.Replicas, d.Spec.Selector, &d.Spec.Template)
	ds := d.Status
	validateStatusCounts(&e, map[string]int64{"observedGeneration": ds.ObservedGeneration, "replicas": int64(ds.Replicas),
		"updatedReplicas": int64(ds.UpdatedReplicas), "readyReplicas": int64(ds.ReadyReplicas), "availableReplicas": int64(ds.AvailableReplicas),
		"unavailableReplicas": int64(ds.UnavailableReplicas)}, ds.CollisionCount,
		[][2]string{{"updatedReplicas", "replicas"}, {"readyReplicas", "replicas"}, {"availableReplicas", "replicas"}, {"availableReplicas", "readyReplicas"}})
	validateNonNegative(&e, "spec.minReadySeconds", int64(d.Spec.MinReadySeconds))
	if d.Spec.RevisionHistoryLimit != nil {
		validateNonNegative(&e, "spec.revisionHistoryLimit", int64(*d.Spec.RevisionHistoryLimit))
	}
	if p := d.Spec.ProgressDeadlineSeconds; p != nil && *p <= d.Spec.MinReadySeconds {
		e.add("spec.progressDeadlineSeconds", fmt.Sprint(*p), "Invalid value: must be greater than minReadySeconds")
	}
	st := d.Spec.Strategy
	switch st.Type {
	case apps.RecreateDeploymentStrategyType:
		if st.RollingUpdate != nil {
			e.add("spec.strategy.rollingUpdate", "", "Forbidden: may not be specified when strategy `type` is 'Recreate'")
		}
	case apps.RollingUpdateDeploymentStrategyType:
		if ru := st.RollingUpdate; ru != nil {
			validateIntOrPercent(&e, "spec.strategy.rollingUpdate.maxUnavailable", ru.MaxUnavailable, true)
			validateIntOrPercent(&e, "spec.strategy.rollingUpdate.maxSurge", ru.MaxSurge, false)
			if isZeroIntOrPercent(ru.MaxUnavailable) && isZeroIntOrPercent(ru.MaxSurge) {
				e.add("spec.strategy.rollingUpdate.maxUnavailable", "0", "Invalid value: may not be 0 when `maxSurge` is 0")
			}
		}
	case "":
		e.required("spec.strategy.type", "a strategy type")
	default:
		e.notSupported("spec.strategy.type", st.Type, apps.RecreateDeploymentStrategyType, apps.RollingUpdateDeploymentStrategyType)
	}
	return e.list
}

func validateDeploymentUpdate(old, new *apps.Deployment) store.FieldErrors {
	var e errs
	validateSelectorUnchanged(&e, old.Spec.Selector, new.Spec.Selector)
	return e.list
}

func validateStatefulSet(s *apps.StatefulSet) store.FieldErrors {
	var e errs
	validateWorkload(&e, s.Spec.Replicas, s.Spec.Selector, &s.Spec.Template)
	st := s.Status
	validateStatusCounts(&e, map[string]int64{"observedGeneration": st.ObservedGeneration, "replicas": int64(st.Replicas),
		"readyReplicas": int64(st.ReadyReplicas), "currentReplicas": int64(st.CurrentReplicas), "updatedReplicas": int64(st.UpdatedReplicas),
		"availableReplicas": int64(st.AvailableReplicas)}, st.CollisionCount,
		[][2]string{{"readyReplicas", "replicas"}, {"currentReplicas", "replicas"}, {"updatedReplicas", "replicas"}, {"availableReplicas", "replicas"}, {"availableReplicas", "readyReplicas"}})
	switch s.Spec.PodManagementPolicy {
	case "OrderedReady", "Parallel":
	case "":
		e.required("spec.podManagementPolicy", "a pod management policy")
	default:
		e.notSupported("spec.podManagementPolicy", s.Spec.PodManagementPolicy, "OrderedReady", "Parallel")
	}
	us := s.Spec.UpdateStrategy
	switch us.Type {
	case apps.RollingUpdateStatefulSetStrategyType:
		if ru := us.RollingUpdate; ru != nil {
			if ru.Partition != nil {
				validateNonNegative(&e, "spec.updateStrategy.rollingUpdate.partition", int64(*ru.Partition))
			}
			validateIntOrPercent(&e, "spec.updateStrategy.rollingUpdate.maxUnavailable", ru.MaxUnavailable, true)
		}
	case apps.OnDeleteStatefulSetStrategyType:
		if us.RollingUpdate != nil {
			e.add("spec.updateStrategy.rollingUpdate", "", "Forbidden: only allowed for updateStrategy 'RollingUpdate'")
		}
	case "":
		e.required("spec.updateStrategy.type", "an update strategy type")
	default:
		e.notSupported("spec.updateStrategy.type", us.Type, apps.OnDeleteStatefulSetStrategyType, apps.RollingUpdateStatefulSetStrategyType)
	}
	if s.Spec.ServiceName != "" {
		if why := dns1035(s.Spec.ServiceName); why != "" {
			e.add("spec.serviceName", s.Spec.ServiceName, "Invalid value: "+why)
		}
	}
	return e.list
}

func validateStatefulSetUpdate(old, new *apps.StatefulSet) store.FieldErrors {
	var e errs
	validateSelectorUnchanged(&e, old.Spec.Selector, new.Spec.Selector)
	if old.Spec.ServiceName != new.Spec.ServiceName {
		e.add("spec.serviceName", new.Spec.ServiceName, "Forbidden: updates to statefulset spec for fields other than 'replicas', 'template', 'updateStrategy', 'revisionHistoryLimit' and 'minReadySeconds' are forbidden")
	}
	if old.Spec.PodManagementPolicy != new.Spec.PodManagementPolicy {
		e.add("spec.podManagementPolicy", new.Spec.PodManagementPolicy, "Forbidden: updates to statefulset spec for fields other than 'replicas', 'template', 'updateStrategy', 'revisionHistoryLimit' and 'minReadySeconds' are forbidden")
	}
	return e.list
}

func validateDaemonSet(d *apps.DaemonSet) store.FieldErrors {
	var e errs
	validateWorkload(&e, nil, d.Spec.Selector, &d.Spec.Template)
	st := d.Status
	validateStatusCounts(&e, map[string]int64{"currentNumberScheduled": int64(st.CurrentNumberScheduled), "numberMisscheduled": int64(st.NumberMisscheduled),
		"desiredNumberScheduled": int64(st.DesiredNumberScheduled), "numberReady": int64(st.NumberReady), "observedGeneration": st.ObservedGeneration,
		"updatedNumberScheduled": int64(st.UpdatedNumberScheduled), "numberAvailable": int64(st.NumberAvailable), "numberUnavailable": int64(st.NumberUnavailable)},
		st.CollisionCount, nil)
	us := d.Spec.UpdateStrategy
	switch us.Type {
	case apps.RollingUpdateDaemonSetStrategyType:
		if ru := us.RollingUpdate; ru != nil {
			validateIntOrPercent(&e, "spec.updateStrategy.rollingUpdate.maxUnavailable", ru.MaxUnavailable, true)
			validateIntOrPercent(&e, "spec.updateStrategy.rollingUpdate.maxSurge", ru.MaxSurge, false)
			if isZeroIntOrPercent(ru.MaxUnavailable) && isZeroIntOrPercent(ru.MaxSurge) {
				e.add("spec.updateStrategy.rollingUpdate.maxUnavailable", "0", "Invalid value: may not be 0 when `maxSurge` is 0")
			}
		}
	case apps.OnDeleteDaemonSetStrategyType:
	case "":
		e.required("spec.updateStrategy.type", "an update strategy type")
	default:
		e.notSupported("spec.updateStrategy.type", us.Type, apps.OnDeleteDaemonSetStrategyType, apps.RollingUpdateDaemonSetStrategyType)
	}
	return e.list
}

func validateDaemonSetUpdate(old, new *apps.DaemonSet) store.FieldErrors {
	var e errs
	validateSelectorUnchanged(&e, old.Spec.Selector, new.Spec.Selector)
	return e.list
}

// validateStatusCounts checks a workload status as Kubernetes' Validate*Status
// do: every count (and collisionCount, when set) is non-negative, and each
// pair {a, b} of atMost has status.a <= status.b.
func validateStatusCounts(e *errs, counts map[string]int64, collisionCount *int32, atMost [][2]string) {
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		validateNonNegative(e, "status."+n, counts[n])
	}
	if collisionCount != nil {
		validateNonNegative(e, "status.collisionCount", int64(*collisionCount))
	}
	for _, p := range atMost {
		if counts[p[0]] > counts[p[1]] {
			e.add("status."+p[0], fmt.Sprint(counts[p[0]]), "Invalid value: cannot be greater than status."+p[1])
		}
	}
}
