package deployment

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
)

// Condition reasons, as Kubernetes' deployment controller sets them.
const (
	ReasonNewReplicaSetCreated      = "NewReplicaSetCreated"
	ReasonFoundNewReplicaSet        = "FoundNewReplicaSet"
	ReasonReplicaSetUpdated         = "ReplicaSetUpdated"
	ReasonNewReplicaSetAvailable    = "NewReplicaSetAvailable"
	ReasonProgressDeadlineExceeded  = "ProgressDeadlineExceeded"
	ReasonDeploymentPaused          = "DeploymentPaused"
	ReasonDeploymentResumed         = "DeploymentResumed"
	ReasonMinimumReplicasAvailable  = "MinimumReplicasAvailable"
	ReasonMinimumReplicasUnavailble = "MinimumReplicasUnavailable"
)

func condition(cs []apps.DeploymentCondition, t apps.DeploymentConditionType) *apps.DeploymentCondition {
	for i := range cs {
		if cs[i].Type == t {
			return &cs[i]
		}
	}
	return nil
}

func newCondition(t apps.DeploymentConditionType, s api.ConditionStatus, reason, msg string, now time.Time) apps.DeploymentCondition {
	return apps.DeploymentCondition{Type: t, Status: s, Reason: reason, Message: msg,
		LastUpdateTime: store.NewTime(now), LastTransitionTime: store.NewTime(now)}
}

// setCondition puts c into st, keeping the transition time of a condition
// whose status does not change (old is the current one, if any).
func setCondition(st *apps.DeploymentStatus, c apps.DeploymentCondition, old *apps.DeploymentCondition) {
	if old != nil && old.Status == c.Status {
		if old.Reason == c.Reason && old.Message == c.Message {
			return
		}
		c.LastTransitionTime = old.LastTransitionTime
	}
	for i := range st.Conditions {
		if st.Conditions[i].Type == c.Type {
			st.Conditions[i] = c
			return
		}
	}
	st.Conditions = append(st.Conditions, c)
}

// calculateStatus counts the replica sets' pods (Kubernetes'
// calculateStatus) and sets the Available condition.
func (c *Controller) calculateStatus(d *apps.Deployment, newRS *apps.ReplicaSet, rsList []*apps.ReplicaSet) apps.DeploymentStatus {
	st := *d.Status.DeepCopy()
	st.ObservedGeneration = d.Generation
	st.Replicas, st.ReadyReplicas, st.AvailableReplicas, st.UpdatedReplicas = 0, 0, 0, 0
	var terminating int32
	for _, rs := range rsList {
		st.Replicas += rs.Status.Replicas
		st.ReadyReplicas += rs.Status.ReadyReplicas
		st.AvailableReplicas += rs.Status.AvailableReplicas
		if rs.Status.TerminatingReplicas != nil {
			terminating += *rs.Status.TerminatingReplicas
		}
	}
	st.TerminatingReplicas = &terminating
	if newRS != nil {
		st.UpdatedReplicas = newRS.Status.Replicas
	}
	st.UnavailableReplicas = max(replicas(d)-st.AvailableReplicas, 0)
	now := c.cfg.Clock.Now()
	old := condition(d.Status.Conditions, apps.DeploymentAvailable)
	if st.AvailableReplicas >= replicas(d)-maxUnavailable(d) {
		setCondition(&st, newCondition(apps.DeploymentAvailable, api.ConditionTrue, ReasonMinimumReplicasAvailable, "Deployment has minimum availability.", now), old)
	} else {
		setCondition(&st, newCondition(apps.DeploymentAvailable, api.ConditionFalse, ReasonMinimumReplicasUnavailble, "Deployment does not have minimum availability.", now), old)
	}
	return st
}

// syncStatus writes the counted status, with the Progressing condition
// saying paused or resumed where that changed.
func (c *Controller) syncStatus(ctx context.Context, d *apps.Deployment, newRS *apps.ReplicaSet, rsList []*apps.ReplicaSet) error {
	st := c.calculateStatus(d, newRS, rsList)
	if d.Spec.ProgressDeadlineSeconds != nil {
		old := condition(d.Status.Conditions, apps.DeploymentProgressing)
		if d.Spec.Paused && (old == nil || old.Reason != ReasonDeploymentPaused) {
			setCondition(&st, newCondition(apps.DeploymentProgressing, api.ConditionUnknown, ReasonDeploymentPaused, "Deployment is paused", c.cfg.Clock.Now()), old)
		}
	}
	return c.writeStatus(ctx, d, st)
}

func (c *Controller) writeStatus(ctx context.Context, d *apps.Deployment, st apps.DeploymentStatus) error {
	if reflect.DeepEqual(d.Status, st) {
		return nil
	}
	upd := d.DeepCopy()
	upd.Status = st
	if _, err := c.cfg.Client.Deployments().UpdateStatus(ctx, upd); err != nil {
		return fmt.Errorf("update status of %s/%s: %w", d.Namespace, d.Name, err)
	}
	return nil
}

// complete reports whether every replica runs the new template and is
// available, and no old pod remains (Kubernetes' DeploymentComplete).
func complete(d *apps.Deployment, newRS *apps.ReplicaSet, rsList []*apps.ReplicaSet) bool {
	if newRS == nil {
		return false
	}
	var total, available int32
	for _, rs := range rsList {
		total += rs.Status.Replicas
		available += rs.Status.AvailableReplicas
	}
	want := replicas(d)
	return newRS.Status.Replicas == want && newRS.Status.AvailableReplicas == want && total == want && available >= want &&
		rsReplicas(newRS) == want && newRS.Status.ObservedGeneration >= newRS.Generation
}

// syncRollout writes the status of a rollout and its Progressing
// condition (Kubernetes' syncRolloutStatus): NewReplicaSetAvailable once
// complete, ReplicaSetUpdated while it moves, ProgressDeadlineExceeded
// when it has not moved for progressDeadlineSeconds; it asks to be called
// again when the deadline would pass.
func (c *Controller) syncRollout(ctx context.Context, d *apps.Deployment, newRS *apps.ReplicaSet, rsList []*apps.ReplicaSet) (reconcile.Result, error) {
	st := c.calculateStatus(d, newRS, rsList)
	now := c.cfg.Clock.Now()
	var res reconcile.Result
	if d.Spec.ProgressDeadlineSeconds != nil && newRS != nil {
		old := condition(d.Status.Conditions, apps.DeploymentProgressing)
		deadline := time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second
		progressed := d.Status.UpdatedReplicas != st.UpdatedReplicas || d.Status.ReadyReplicas != st.ReadyReplicas ||
			d.Status.AvailableReplicas != st.AvailableReplicas || d.Status.Replicas != st.Replicas ||
			(old != nil && (old.Reason == ReasonDeploymentPaused || old.Reason == ReasonDeploymentResumed))
		switch {
		case complete(d, newRS, rsList):
			setCondition(&st, newCondition(apps.DeploymentProgressing, api.ConditionTrue, ReasonNewReplicaSetAvailable,
				fmt.Sprintf("ReplicaSet %q has successfully progressed.", newRS.Name), now), old)
		case old == nil:
			setCondition(&st, newCondition(apps.DeploymentProgressing, api.ConditionTrue, ReasonFoundNewReplicaSet,
				fmt.Sprintf("Found new replica set %q", newRS.Name), now), old)
			res.RequeueAfter = deadline
		case progressed:
			cond := newCondition(apps.DeploymentProgressing, api.ConditionTrue, ReasonReplicaSetUpdated,
				fmt.Sprintf("ReplicaSet %q is progressing.", newRS.Name), now)
			if old.Status == api.ConditionTrue {
				cond.LastTransitionTime = old.LastTransitionTime
			}
			setCondition(&st, cond, nil)
			res.RequeueAfter = deadline
		case old.Reason == ReasonProgressDeadlineExceeded:
		case now.Sub(old.LastUpdateTime.Time) >= deadline:
			setCondition(&st, newCondition(apps.DeploymentProgressing, api.ConditionFalse, ReasonProgressDeadlineExceeded,
				fmt.Sprintf("ReplicaSet %q has timed out progressing.", newRS.Name), now), old)
		default:
			res.RequeueAfter = deadline - now.Sub(old.LastUpdateTime.Time)
		}
	}
	return res, c.writeStatus(ctx, d, st)
}
