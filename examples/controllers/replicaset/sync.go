package replicaset

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
)

type apiOwnerRef = store.OwnerReference

// Event reasons, as Kubernetes' replica set controller reports them.
const (
	ReasonSuccessfulCreate = "SuccessfulCreate"
	ReasonFailedCreate     = "FailedCreate"
	ReasonSuccessfulDelete = "SuccessfulDelete"
	ReasonFailedDelete     = "FailedDelete"
)

// sync reconciles one replica set.
func (c *Controller) sync(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	k := req.String()
	rs, ok := c.owners.Get(req.Namespace, req.Name)
	if !ok {
		c.exp.Forget(k)
		return reconcile.Result{}, nil
	}
	log := c.log.With("object", k)
	needsSync := c.exp.Satisfied(k)
	if rs.Spec.Selector == nil {
		log.Error("replica set has no selector")
		return reconcile.Result{}, nil
	}
	sel, err := rs.Spec.Selector.Selector()
	if err != nil {
		// The apiserver validates selectors; one that does not parse
		// matches nothing and is not retried.
		log.Error("invalid selector", "err", err)
		return reconcile.Result{}, nil
	}
	matches := func(l map[string]string) bool { return !sel.Empty() && sel.Matches(l) }

	// Candidates: the pods this owner controls and the orphans of its
	// namespace; active ones only.
	owned, _ := c.pods.ByIndex(ControllerUIDIndex, rs.UID)
	orphans, _ := c.pods.ByIndex(OrphanIndex, rs.Namespace)
	all := append(append(make([]*api.Pod, 0, len(owned)+len(orphans)), owned...), orphans...)
	var terminating int32
	for _, p := range owned {
		if controllerutil.IsPodTerminating(p) && matches(p.Labels) {
			terminating++
		}
	}
	active := controllerutil.ActivePods(all)
	cl := controllerutil.Claimer[*api.Pod]{
		Owner: rs, OwnerResource: c.kind.Resource, Selector: matches, Client: c.cfg.Client.Pods(),
		CanAdopt: controllerutil.RecheckOwner(rs, c.owners.Fresh),
	}
	pods, err := cl.Claim(ctx, active)
	if err != nil {
		return reconcile.Result{}, err
	}

	var manageErr error
	if needsSync && rs.DeletionTimestamp == nil {
		manageErr = c.manage(ctx, rs, pods)
	}
	now := c.cfg.Clock.Now()
	status := calculateStatus(rs, pods, terminating, manageErr, now)
	updated, err := c.updateStatus(ctx, rs, status)
	if err != nil {
		return reconcile.Result{}, errors.Join(manageErr, err)
	}
	if manageErr != nil {
		return reconcile.Result{}, manageErr
	}
	if updated.Spec.MinReadySeconds > 0 && updated.Status.ReadyReplicas == replicas(updated) &&
		updated.Status.AvailableReplicas != replicas(updated) {
		// Resync once the ready pods have been ready long enough.
		return reconcile.Result{RequeueAfter: time.Duration(updated.Spec.MinReadySeconds) * time.Second}, nil
	}
	return reconcile.Result{}, nil
}

func replicas(rs *apps.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}

// manage creates or deletes pods so that len(pods) moves toward the
// desired replicas, at most BurstReplicas at a time.
func (c *Controller) manage(ctx context.Context, rs *apps.ReplicaSet, pods []*api.Pod) error {
	k := key(rs.Namespace, rs.Name)
	diff := len(pods) - int(replicas(rs))
	switch {
	case diff < 0:
		n := min(-diff, c.cfg.BurstReplicas)
		ref := controllerutil.ControllerRef(rs, c.kind.Resource)
		created, err := controllerutil.CreatePods(ctx, c.exp, k, n, func(ctx context.Context, _ int) error {
			pod := controllerutil.PodFromTemplate(&rs.Spec.Template, rs.Namespace, rs.Name, ref)
			out, err := c.cfg.Client.Pods().Create(ctx, pod)
			if err != nil {
				return err
			}
			c.cfg.Recorder.Eventf(ctx, rs, c.kind.Resource, controllerutil.EventNormal, ReasonSuccessfulCreate, "Created pod: %s", out.Name)
			return nil
		})
		if err != nil {
			c.log.Warn("creating pods failed", "object", k, "wanted", n, "created", created, "err", err)
			c.cfg.Recorder.Eventf(ctx, rs, c.kind.Resource, controllerutil.EventWarning, ReasonFailedCreate, "Error creating: %v", err)
			return err
		}
	case diff > 0:
		n := min(diff, c.cfg.BurstReplicas)
		victims := controllerutil.PodsToDelete(append([]*api.Pod(nil), pods...), c.relatedPods(rs), n, c.cfg.Clock.Now())
		return controllerutil.DeletePods(ctx, c.cfg.Client.Pods(), c.exp, k, victims, func(p *api.Pod, err error) {
			if err != nil {
				c.cfg.Recorder.Eventf(ctx, rs, c.kind.Resource, controllerutil.EventWarning, ReasonFailedDelete, "Error deleting: %v", err)
				return
			}
			c.cfg.Recorder.Eventf(ctx, rs, c.kind.Resource, controllerutil.EventNormal, ReasonSuccessfulDelete, "Deleted pod: %s", p.Name)
		})
	}
	return nil
}

// relatedPods returns the active pods of every owner with the same
// controller as rs (rs's own pods if it has none): the pods whose
// placement ranks which of rs's pods to delete first.
func (c *Controller) relatedPods(rs *apps.ReplicaSet) []*api.Pod {
	owners := []*apps.ReplicaSet{rs}
	if ref := rs.ControllerOf(); ref != nil {
		owners = owners[:0]
		for _, o := range c.owners.InNamespace(rs.Namespace) {
			if r := o.ControllerOf(); r != nil && r.UID == ref.UID {
				owners = append(owners, o)
			}
		}
	}
	var out []*api.Pod
	for _, o := range owners {
		l, _ := c.pods.ByIndex(ControllerUIDIndex, o.UID)
		out = append(out, l...)
	}
	return out
}

// calculateStatus follows Kubernetes' calculateStatus: counts over the
// active pods the owner controls, terminating pods counted apart, and the
// ReplicaFailure condition set while creating or deleting fails.
func calculateStatus(rs *apps.ReplicaSet, pods []*api.Pod, terminating int32, manageErr error, now time.Time) apps.ReplicaSetStatus {
	st := *rs.Status.DeepCopy()
	var labeled, ready, available int32
	for _, p := range pods {
		if labelsContain(p.Labels, rs.Spec.Template.Labels) {
			labeled++
		}
		if controllerutil.IsPodReady(p) {
			ready++
			if controllerutil.IsPodAvailable(p, rs.Spec.MinReadySeconds, now) {
				available++
			}
		}
	}
	failure := -1
	for i, cond := range st.Conditions {
		if cond.Type == apps.ReplicaSetReplicaFailure {
			failure = i
		}
	}
	switch {
	case manageErr != nil && failure < 0:
		reason := ""
		if diff := len(pods) - int(replicas(rs)); diff < 0 {
			reason = ReasonFailedCreate
		} else if diff > 0 {
			reason = ReasonFailedDelete
		}
		st.Conditions = append(st.Conditions, apps.ReplicaSetCondition{Type: apps.ReplicaSetReplicaFailure,
			Status: api.ConditionTrue, Reason: reason, Message: manageErr.Error(), LastTransitionTime: store.NewTime(now)})
	case manageErr == nil && failure >= 0:
		st.Conditions = append(st.Conditions[:failure:failure], st.Conditions[failure+1:]...)
		if len(st.Conditions) == 0 {
			st.Conditions = nil
		}
	}
	st.Replicas = int32(len(pods))
	st.FullyLabeledReplicas = labeled
	st.ReadyReplicas = ready
	st.AvailableReplicas = available
	st.TerminatingReplicas = &terminating
	return st
}

func labelsContain(have, want map[string]string) bool {
	for k, v := range want {
		if x, ok := have[k]; !ok || x != v {
			return false
		}
	}
	return true
}

// updateStatus writes status (and observedGeneration) unless the stored
// status already says so; on a conflict it re-reads the owner once and
// tries again, as Kubernetes does.
func (c *Controller) updateStatus(ctx context.Context, rs *apps.ReplicaSet, st apps.ReplicaSetStatus) (*apps.ReplicaSet, error) {
	st.ObservedGeneration = rs.Generation
	if reflect.DeepEqual(rs.Status, st) {
		return rs, nil
	}
	cur := rs
	for attempt := 0; ; attempt++ {
		next := cur.DeepCopy()
		next.Status = st
		next.Status.ObservedGeneration = cur.Generation
		out, err := c.owners.UpdateStatus(ctx, next)
		if err == nil {
			return out, nil
		}
		if attempt > 0 || !errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrFenced) {
			return nil, fmt.Errorf("update status of %s/%s: %w", rs.Namespace, rs.Name, err)
		}
		if cur, err = c.owners.Fresh(ctx, rs.Namespace, rs.Name); err != nil {
			return nil, fmt.Errorf("update status of %s/%s: %w", rs.Namespace, rs.Name, err)
		}
	}
}
