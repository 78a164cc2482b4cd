package deployment

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
)

// Labels and annotations, as Kubernetes names them.
const (
	// PodTemplateHashLabel is added to a replica set's selector, template
	// and labels: the hash of the deployment template it runs.
	PodTemplateHashLabel = "pod-template-hash"
	// RevisionAnnotation numbers the rollouts of a deployment; kubectl
	// rollout history and undo read it.
	RevisionAnnotation = "deployment.kubernetes.io/revision"
	// RevisionHistoryAnnotation lists the earlier revisions a replica set
	// had, when a rollback made it the new one again.
	RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	// DesiredReplicasAnnotation is the deployment's replicas.
	DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	// MaxReplicasAnnotation is replicas + maxSurge.
	MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas"
)

// Event reasons, as Kubernetes' deployment controller reports them.
const (
	ReasonScalingReplicaSet = "ScalingReplicaSet"
)

// skipAnnotations are not copied from a deployment to its replica sets.
var skipAnnotations = map[string]bool{
	"kubectl.kubernetes.io/last-applied-configuration": true,
	RevisionAnnotation: true, RevisionHistoryAnnotation: true,
	DesiredReplicasAnnotation: true, MaxReplicasAnnotation: true,
	"deprecated.deployment.rollback.to": true,
}

func replicas(d *apps.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

func rsReplicas(rs *apps.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}

// sync reconciles one deployment.
func (c *Controller) sync(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	d, ok := c.ds.Get(req.Namespace, req.Name)
	if !ok {
		return reconcile.Result{}, nil
	}
	log := c.log.With("object", req.String())
	if d.Spec.Selector == nil || (len(d.Spec.Selector.MatchLabels) == 0 && len(d.Spec.Selector.MatchExpressions) == 0) {
		// Kubernetes refuses to act on a deployment that selects everything.
		log.Warn("deployment has an empty selector; not acting on it")
		return reconcile.Result{}, nil
	}
	sel, err := d.Spec.Selector.Selector()
	if err != nil {
		log.Error("invalid selector", "err", err)
		return reconcile.Result{}, nil
	}
	owned, _ := c.rss.ByIndex(rsByController, d.UID)
	var orphans []*apps.ReplicaSet
	inNS, _ := c.rss.ByIndex("namespace", d.Namespace)
	for _, rs := range inNS {
		if rs.ControllerOf() == nil {
			orphans = append(orphans, rs)
		}
	}
	cl := controllerutil.Claimer[*apps.ReplicaSet]{
		Owner: d, OwnerResource: apps.DeploymentResource, Client: c.cfg.Client.ReplicaSets(),
		Selector: func(l map[string]string) bool { return sel.Matches(l) },
		CanAdopt: controllerutil.RecheckOwner(d, c.cfg.Client.Deployments().Get),
	}
	rsList, err := cl.Claim(ctx, append(slices.Clone(owned), orphans...))
	if err != nil {
		return reconcile.Result{}, err
	}
	if d.DeletionTimestamp != nil {
		return reconcile.Result{}, c.syncStatus(ctx, d, findNewRS(d, rsList), rsList)
	}
	if d.Spec.Paused {
		return c.syncPaused(ctx, d, rsList)
	}
	// Recreate creates the new replica set only once the old pods are gone.
	create := d.Spec.Strategy.Type != apps.RecreateDeploymentStrategyType || !oldRunning(oldReplicaSets(rsList, findNewRS(d, rsList)))
	newRS, d, err := c.newReplicaSet(ctx, d, rsList, create)
	if err != nil {
		return reconcile.Result{}, err
	}
	if newRS != nil && !slices.ContainsFunc(rsList, func(rs *apps.ReplicaSet) bool { return rs.UID == newRS.UID }) {
		rsList = append(rsList, newRS)
	}
	old := oldReplicaSets(rsList, newRS)
	if d.Spec.Strategy.Type == apps.RecreateDeploymentStrategyType {
		err = c.recreate(ctx, d, newRS, old)
	} else {
		err = c.rollingUpdate(ctx, d, newRS, old)
	}
	if err != nil {
		return reconcile.Result{}, err
	}
	if complete(d, newRS, rsList) {
		if err := c.cleanup(ctx, d, old); err != nil {
			return reconcile.Result{}, err
		}
	}
	return c.syncRollout(ctx, d, newRS, rsList)
}

// syncPaused scales without rolling out: a paused deployment gets no new
// replica set, but a single active one follows replicas.
func (c *Controller) syncPaused(ctx context.Context, d *apps.Deployment, rsList []*apps.ReplicaSet) (reconcile.Result, error) {
	newRS := findNewRS(d, rsList)
	active := activeReplicaSets(rsList)
	target := newRS
	if len(active) == 1 {
		target = active[0]
	}
	if target != nil && len(active) <= 1 && rsReplicas(target) != replicas(d) {
		if _, err := c.scale(ctx, d, target, replicas(d)); err != nil {
			return reconcile.Result{}, err
		}
	}
	if err := c.cleanup(ctx, d, oldReplicaSets(rsList, newRS)); err != nil {
		return reconcile.Result{}, err
	}
	return reconcile.Result{}, c.syncStatus(ctx, d, newRS, rsList)
}

// equalIgnoreHash reports whether two templates are equal but for the
// pod-template-hash label.
func equalIgnoreHash(a, b *api.PodTemplateSpec) bool {
	a, b = a.DeepCopy(), b.DeepCopy()
	delete(a.Labels, PodTemplateHashLabel)
	delete(b.Labels, PodTemplateHashLabel)
	if len(a.Labels) == 0 {
		a.Labels = nil
	}
	if len(b.Labels) == 0 {
		b.Labels = nil
	}
	return reflect.DeepEqual(a, b)
}

// findNewRS returns the oldest replica set whose template is the
// deployment's (there is normally one).
func findNewRS(d *apps.Deployment, rsList []*apps.ReplicaSet) *apps.ReplicaSet {
	var out *apps.ReplicaSet
	for _, rs := range rsList {
		if equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template) &&
			(out == nil || rs.CreationTimestamp.Before(out.CreationTimestamp.Time)) {
			out = rs
		}
	}
	return out
}

func oldReplicaSets(rsList []*apps.ReplicaSet, newRS *apps.ReplicaSet) []*apps.ReplicaSet {
	var out []*apps.ReplicaSet
	for _, rs := range rsList {
		if newRS == nil || rs.UID != newRS.UID {
			out = append(out, rs)
		}
	}
	return out
}

func activeReplicaSets(rsList []*apps.ReplicaSet) []*apps.ReplicaSet {
	var out []*apps.ReplicaSet
	for _, rs := range rsList {
		if rs != nil && rsReplicas(rs) > 0 {
			out = append(out, rs)
		}
	}
	return out
}

func revision(obj store.Object) int64 {
	v, _ := strconv.ParseInt(obj.GetObjectMeta().Annotations[RevisionAnnotation], 10, 64)
	return v
}

func maxRevision(rsList []*apps.ReplicaSet) int64 {
	var m int64
	for _, rs := range rsList {
		m = max(m, revision(rs))
	}
	return m
}

// newReplicaSet finds the replica set that runs d's template, gives it
// the next revision if a rollback made an old one new again, and creates
// it (if create) when there is none. It also sets d's revision
// annotation, and returns d as stored.
func (c *Controller) newReplicaSet(ctx context.Context, d *apps.Deployment, rsList []*apps.ReplicaSet, create bool) (*apps.ReplicaSet, *apps.Deployment, error) {
	existing := findNewRS(d, rsList)
	maxOld := maxRevision(oldReplicaSets(rsList, existing))
	next := strconv.FormatInt(maxOld+1, 10)
	if existing != nil {
		if revision(existing) < maxOld+1 || existing.Annotations[DesiredReplicasAnnotation] != strconv.Itoa(int(replicas(d))) {
			upd := existing.DeepCopy()
			if upd.Annotations == nil {
				upd.Annotations = map[string]string{}
			}
			if prev := upd.Annotations[RevisionAnnotation]; revision(existing) < maxOld+1 {
				if prev != "" {
					h := upd.Annotations[RevisionHistoryAnnotation]
					upd.Annotations[RevisionHistoryAnnotation] = strings.TrimPrefix(h+","+prev, ",")
				}
				upd.Annotations[RevisionAnnotation] = next
			}
			c.setReplicaAnnotations(d, upd)
			out, err := c.cfg.Client.ReplicaSets().Update(ctx, upd)
			if err != nil {
				return nil, d, fmt.Errorf("update revision of %s/%s: %w", existing.Namespace, existing.Name, err)
			}
			existing = out
		}
		d, err := c.setDeploymentRevision(ctx, d, existing.Annotations[RevisionAnnotation])
		return existing, d, err
	}
	if !create {
		return nil, d, nil
	}
	hash := controllerutil.ComputeHash(&d.Spec.Template, d.Status.CollisionCount)
	rs := &apps.ReplicaSet{}
	rs.Namespace, rs.Name = d.Namespace, d.Name+"-"+hash
	rs.Labels = maps.Clone(d.Spec.Template.Labels)
	if rs.Labels == nil {
		rs.Labels = map[string]string{}
	}
	rs.Labels[PodTemplateHashLabel] = hash
	rs.Annotations = map[string]string{}
	for k, v := range d.Annotations {
		if !skipAnnotations[k] {
			rs.Annotations[k] = v
		}
	}
	rs.Annotations[RevisionAnnotation] = next
	c.setReplicaAnnotations(d, rs)
	rs.OwnerReferences = []store.OwnerReference{controllerutil.ControllerRef(d, apps.DeploymentResource)}
	rs.Spec.MinReadySeconds = d.Spec.MinReadySeconds
	rs.Spec.Selector = d.Spec.Selector.DeepCopy()
	if rs.Spec.Selector.MatchLabels == nil {
		rs.Spec.Selector.MatchLabels = map[string]string{}
	}
	rs.Spec.Selector.MatchLabels[PodTemplateHashLabel] = hash
	rs.Spec.Template = *d.Spec.Template.DeepCopy()
	rs.Spec.Template.Labels = maps.Clone(rs.Labels)
	n := newRSReplicas(d, rsList, nil)
	rs.Spec.Replicas = &n
	created, err := c.cfg.Client.ReplicaSets().Create(ctx, rs)
	if errors.Is(err, store.ErrAlreadyExists) {
		// Ours from an earlier sync the cache has not shown yet, or a
		// hash collision: then count it, so the next hash differs.
		cur, gerr := c.cfg.Client.ReplicaSets().Get(ctx, rs.Namespace, rs.Name)
		if gerr == nil && cur.ControllerOf() != nil && cur.ControllerOf().UID == d.UID && equalIgnoreHash(&cur.Spec.Template, &d.Spec.Template) {
			return cur, d, nil
		}
		st := d.DeepCopy()
		st.Status.CollisionCount = new(int32)
		if d.Status.CollisionCount != nil {
			*st.Status.CollisionCount = *d.Status.CollisionCount + 1
		}
		if _, uerr := c.cfg.Client.Deployments().UpdateStatus(ctx, st); uerr != nil {
			return nil, d, uerr
		}
		return nil, d, fmt.Errorf("replica set %s/%s: hash collision", rs.Namespace, rs.Name)
	}
	if err != nil {
		return nil, d, fmt.Errorf("create replica set for %s/%s: %w", d.Namespace, d.Name, err)
	}
	c.cfg.Recorder.Eventf(ctx, d, apps.DeploymentResource, controllerutil.EventNormal, ReasonScalingReplicaSet,
		"Scaled up replica set %s from 0 to %d", created.Name, n)
	d, err = c.setDeploymentRevision(ctx, d, next)
	if err != nil {
		return created, d, err
	}
	if cond := condition(d.Status.Conditions, apps.DeploymentProgressing); d.Spec.ProgressDeadlineSeconds != nil {
		st := d.DeepCopy()
		setCondition(&st.Status, newCondition(apps.DeploymentProgressing, api.ConditionTrue, "NewReplicaSetCreated",
			fmt.Sprintf("Created new replica set %q", created.Name), c.cfg.Clock.Now()), cond)
		if out, err := c.cfg.Client.Deployments().UpdateStatus(ctx, st); err == nil {
			d = out
		}
	}
	return created, d, nil
}

func (c *Controller) setReplicaAnnotations(d *apps.Deployment, rs *apps.ReplicaSet) {
	rs.Annotations[DesiredReplicasAnnotation] = strconv.Itoa(int(replicas(d)))
	rs.Annotations[MaxReplicasAnnotation] = strconv.Itoa(int(replicas(d)) + maxSurge(d))
}

// setDeploymentRevision records the new replica set's revision on the
// deployment, as kubectl expects.
func (c *Controller) setDeploymentRevision(ctx context.Context, d *apps.Deployment, rev string) (*apps.Deployment, error) {
	if d.Annotations[RevisionAnnotation] == rev {
		return d, nil
	}
	upd := d.DeepCopy()
	if upd.Annotations == nil {
		upd.Annotations = map[string]string{}
	}
	upd.Annotations[RevisionAnnotation] = rev
	out, err := c.cfg.Client.Deployments().Update(ctx, upd)
	if err != nil {
		return d, fmt.Errorf("set revision of %s/%s: %w", d.Namespace, d.Name, err)
	}
	return out, nil
}

// scale sets rs's replicas (and the deployment's annotations on it) and
// reports the change as an Event.
func (c *Controller) scale(ctx context.Context, d *apps.Deployment, rs *apps.ReplicaSet, n int32) (*apps.ReplicaSet, error) {
	from := rsReplicas(rs)
	upd := rs.DeepCopy()
	upd.Spec.Replicas = &n
	if upd.Annotations == nil {
		upd.Annotations = map[string]string{}
	}
	c.setReplicaAnnotations(d, upd)
	out, err := c.cfg.Client.ReplicaSets().Update(ctx, upd)
	if err != nil {
		return nil, fmt.Errorf("scale replica set %s/%s to %d: %w", rs.Namespace, rs.Name, n, err)
	}
	if from != n {
		dir := "up"
		if n < from {
			dir = "down"
		}
		c.cfg.Recorder.Eventf(ctx, d, apps.DeploymentResource, controllerutil.EventNormal, ReasonScalingReplicaSet,
			"Scaled %s replica set %s from %d to %d", dir, rs.Name, from, n)
	}
	return out, nil
}

// cleanup deletes the oldest fully scaled-down old replica sets beyond
// revisionHistoryLimit.
func (c *Controller) cleanup(ctx context.Context, d *apps.Deployment, old []*apps.ReplicaSet) error {
	if d.Spec.RevisionHistoryLimit == nil {
		return nil
	}
	var dead []*apps.ReplicaSet
	for _, rs := range old {
		if rsReplicas(rs) == 0 && rs.Status.Replicas == 0 && rs.DeletionTimestamp == nil {
			dead = append(dead, rs)
		}
	}
	extra := len(dead) - int(*d.Spec.RevisionHistoryLimit)
	if extra <= 0 {
		return nil
	}
	slices.SortFunc(dead, func(a, b *apps.ReplicaSet) int {
		if r := revision(a) - revision(b); r != 0 {
			return int(r)
		}
		return a.CreationTimestamp.Compare(b.CreationTimestamp.Time)
	})
	for _, rs := range dead[:extra] {
		_, err := c.cfg.Client.ReplicaSets().Delete(ctx, rs.Namespace, rs.Name, store.WithPreconditionUID(rs.UID))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("delete old replica set %s/%s: %w", rs.Namespace, rs.Name, err)
		}
	}
	return nil
}
