package registry

import (
	"fmt"
	"reflect"
	"sort"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/store"
)

// Validation of the apps/v1 kinds, following Kubernetes' rules
// (pkg/apis/apps/validation).

// validateSelectorTemplate checks a required, non-empty selector that
// matches the template's labels, and the template (restartPolicy Always
// unless anyRestart).
func validateSelectorTemplate(e *errs, sel *api.LabelSelector, tmpl *api.PodTemplateSpec, anyRestart bool) {
	switch {
	case sel == nil:
		e.required("spec.selector")
	case len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0:
		e.invalid("spec.selector", "", "empty selector is invalid for deployment")
	default:
		n := len(e.list)
		validateLabelSelector(e, "spec.selector", sel)
		if len(e.list) == n && !sel.Matches(tmpl.Labels) {
			e.invalid("spec.template.metadata.labels", fmt.Sprint(tmpl.Labels), "`selector` does not match template `labels`")
		}
	}
	validateLabels(e, "spec.template.metadata.labels", tmpl.Labels)
	validatePodSpec(e, "spec.template.spec", &tmpl.Spec)
	if !anyRestart && tmpl.Spec.RestartPolicy != "" && tmpl.Spec.RestartPolicy != api.RestartPolicyAlways {
		e.notSupported("spec.template.spec.restartPolicy", tmpl.Spec.RestartPolicy, api.RestartPolicyAlways)
	}
	if tmpl.Spec.ActiveDeadlineSeconds != nil {
		e.forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in "+"a workload's pod template is not Supported")
	}
}

// validateWorkload checks what replica sets, deployments, stateful sets and
// daemon sets share: replicas >= 0 and a selector matching a valid
// template.
func validateWorkload(e *errs, replicas *int32, sel *api.LabelSelector, tmpl *api.PodTemplateSpec) {
	if replicas != nil {
		validateNonNegative(e, "spec.replicas", int64(*replicas))
	}
	validateSelectorTemplate(e, sel, tmpl, false)
}

func validateSelectorUnchanged(e *errs, old, new *api.LabelSelector) {
	if !reflect.DeepEqual(old, new) {
		e.immutable("spec.selector", fmt.Sprint(new))
	}
}

func validateRevisionHistory(e *errs, limit *int32) {
	if limit != nil {
		validateNonNegative(e, "spec.revisionHistoryLimit", int64(*limit))
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
	validateRevisionHistory(&e, d.Spec.RevisionHistoryLimit)
	if p := d.Spec.ProgressDeadlineSeconds; p != nil {
		validateNonNegative(&e, "spec.progressDeadlineSeconds", int64(*p))
		if *p <= d.Spec.MinReadySeconds {
			e.invalid("spec.progressDeadlineSeconds", *p, "must be greater than minReadySeconds")
		}
	}
	st := d.Spec.Strategy
	switch st.Type {
	case apps.RecreateDeploymentStrategyType:
		if st.RollingUpdate != nil {
			e.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")
		}
	case apps.RollingUpdateDeploymentStrategyType:
		if ru := st.RollingUpdate; ru != nil {
			validateIntOrPercent(&e, "spec.strategy.rollingUpdate.maxUnavailable", ru.MaxUnavailable, true)
			validateIntOrPercent(&e, "spec.strategy.rollingUpdate.maxSurge", ru.MaxSurge, false)
			if isZeroIntOrPercent(ru.MaxUnavailable) && isZeroIntOrPercent(ru.MaxSurge) {
				e.invalid("spec.strategy.rollingUpdate.maxUnavailable", ru.MaxUnavailable, "may not be 0 when `maxSurge` is 0")
			}
		}
	default:
		oneOf(&e, "spec.strategy.type", st.Type, apps.RecreateDeploymentStrategyType, apps.RollingUpdateDeploymentStrategyType)
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
	validateRevisionHistory(&e, s.Spec.RevisionHistoryLimit)
	validateNonNegative(&e, "spec.minReadySeconds", int64(s.Spec.MinReadySeconds))
	oneOf(&e, "spec.podManagementPolicy", s.Spec.PodManagementPolicy, apps.OrderedReadyPodManagement, apps.ParallelPodManagement)
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
			e.invalid("spec.updateStrategy.rollingUpdate", "", "only allowed for updateStrategy 'RollingUpdate'")
		}
	default:
		oneOf(&e, "spec.updateStrategy.type", us.Type, apps.OnDeleteStatefulSetStrategyType, apps.RollingUpdateStatefulSetStrategyType)
	}
	if s.Spec.ServiceName != "" {
		if why := dns1035(s.Spec.ServiceName); why != "" {
			e.invalid("spec.serviceName", s.Spec.ServiceName, why)
		}
	}
	if p := s.Spec.PersistentVolumeClaimRetentionPolicy; p != nil {
		oneOf(&e, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted", p.WhenDeleted, apps.RetainPersistentVolumeClaimRetentionPolicyType, apps.DeletePersistentVolumeClaimRetentionPolicyType)
		oneOf(&e, "spec.persistentVolumeClaimRetentionPolicy.whenScaled", p.WhenScaled, apps.RetainPersistentVolumeClaimRetentionPolicyType, apps.DeletePersistentVolumeClaimRetentionPolicyType)
	}
	if o := s.Spec.Ordinals; o != nil {
		validateNonNegative(&e, "spec.ordinals.start", int64(o.Start))
	}
	for i := range s.Spec.VolumeClaimTemplates {
		c := &s.Spec.VolumeClaimTemplates[i]
		p := idx("spec.volumeClaimTemplates", i)
		if c.Name == "" {
			e.required(p + ".metadata.name")
		} else if why := dnsSubdomain(c.Name); why != "" {
			e.invalid(p+".metadata.name", c.Name, why)
		}
		validatePVCSpec(&e, p+".spec", &c.Spec)
	}
	return e.list
}

// statefulSetMutable is what an update of a stateful set may change.
const statefulSetMutable = "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"

func validateStatefulSetUpdate(old, new *apps.StatefulSet) store.FieldErrors {
	var e errs
	a, b := *old.Spec.DeepCopy(), *new.Spec.DeepCopy()
	for _, s := range []*apps.StatefulSetSpec{&a, &b} {
		s.Replicas, s.Ordinals, s.Template, s.UpdateStrategy = nil, nil, api.PodTemplateSpec{}, apps.StatefulSetUpdateStrategy{}
		s.RevisionHistoryLimit, s.PersistentVolumeClaimRetentionPolicy, s.MinReadySeconds = nil, nil, 0
	}
	if !reflect.DeepEqual(a, b) {
		e.add("spec", "", statefulSetMutable)
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
	validateRevisionHistory(&e, d.Spec.RevisionHistoryLimit)
	validateNonNegative(&e, "spec.minReadySeconds", int64(d.Spec.MinReadySeconds))
	us := d.Spec.UpdateStrategy
	switch us.Type {
	case apps.RollingUpdateDaemonSetStrategyType:
		if ru := us.RollingUpdate; ru != nil {
			validateIntOrPercent(&e, "spec.updateStrategy.rollingUpdate.maxUnavailable", ru.MaxUnavailable, true)
			validateIntOrPercent(&e, "spec.updateStrategy.rollingUpdate.maxSurge", ru.MaxSurge, false)
			if isZeroIntOrPercent(ru.MaxUnavailable) && isZeroIntOrPercent(ru.MaxSurge) {
				e.invalid("spec.updateStrategy.rollingUpdate.maxUnavailable", ru.MaxUnavailable, "may not be 0 when `maxSurge` is 0")
			}
		}
	case apps.OnDeleteDaemonSetStrategyType:
	default:
		oneOf(&e, "spec.updateStrategy.type", us.Type, apps.OnDeleteDaemonSetStrategyType, apps.RollingUpdateDaemonSetStrategyType)
	}
	return e.list
}

func validateDaemonSetUpdate(old, new *apps.DaemonSet) store.FieldErrors {
	var e errs
	validateSelectorUnchanged(&e, old.Spec.Selector, new.Spec.Selector)
	return e.list
}

func validateControllerRevision(r *apps.ControllerRevision) store.FieldErrors {
	var e errs
	validateNonNegative(&e, "revision", r.Revision)
	if r.Data.Raw == nil {
		e.required("data", "data is mandatory")
	}
	return e.list
}

func validateControllerRevisionUpdate(old, new *apps.ControllerRevision) store.FieldErrors {
	var e errs
	if string(old.Data.Raw) != string(new.Data.Raw) {
		e.immutable("data", "")
	}
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
