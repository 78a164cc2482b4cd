package daemonset

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/examples/controllers/replicaset"
	"github.com/setpoint-dev/setpoint/examples/controllers/statefulset"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
)

// Event reasons, as Kubernetes' daemon set controller emits them.
const (
	ReasonSuccessfulCreate = "SuccessfulCreate"
	ReasonSuccessfulDelete = "SuccessfulDelete"
	ReasonFailedCreate     = "FailedCreate"
	defaultHistoryLimit    = 10
)

// nodePlan is one node's part of a sync.
type nodePlan struct {
	node      *api.Node
	run, keep bool
	cur, old  []*api.Pod // live pods at the update revision, at others
}

func (c *Controller) sync(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	k := req.String()
	ds, ok := c.dss.Get(req.Namespace, req.Name)
	if !ok {
		c.exp.Forget(k)
		return reconcile.Result{}, nil
	}
	if ds.Spec.Selector == nil {
		return reconcile.Result{}, nil
	}
	sel, err := ds.Spec.Selector.Selector()
	if err != nil || sel.Empty() {
		c.log.Error("daemon set selector is invalid", "object", k, "err", err)
		return reconcile.Result{}, nil
	}
	owned, _ := c.pods.ByIndex(replicaset.ControllerUIDIndex, ds.UID)
	orphans, _ := c.pods.ByIndex(replicaset.OrphanIndex, ds.Namespace)
	cl := controllerutil.Claimer[*api.Pod]{Owner: ds, OwnerResource: apps.DaemonSetResource,
		Selector: func(l map[string]string) bool { return sel.Matches(l) }, Client: c.cfg.Client.Pods(),
		CanAdopt: controllerutil.RecheckOwner(ds, c.cfg.Client.DaemonSets().Get)}
	pods, err := cl.Claim(ctx, append(slices.Clone(owned), orphans...))
	if err != nil || ds.DeletionTimestamp != nil {
		return reconcile.Result{}, err
	}
	revs, _ := c.revs.ByIndex(statefulset.RevisionsByController, ds.UID)
	revs = slices.Clone(revs)
	data, err := controllerutil.TemplatePatch(&ds.Spec.Template)
	if err != nil {
		return reconcile.Result{}, err
	}
	var cc int32
	if ds.Status.CollisionCount != nil {
		cc = *ds.Status.CollisionCount
	}
	update, cc, err := controllerutil.EnsureRevision(ctx, c.cfg.Client.ControllerRevisions(), ds, apps.DaemonSetResource, ds.Spec.Template.Labels, revs, data, cc)
	if err != nil {
		return reconcile.Result{}, err
	}
	hash := update.Labels[controllerutil.ControllerRevisionHashLabel]

	now := c.cfg.Clock.Now()
	probe := &api.Pod{Spec: *ds.Spec.Template.Spec.DeepCopy()}
	addTolerations(&probe.Spec)
	byNode := map[string][]*api.Pod{}
	var create []string
	var del []*api.Pod
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			byNode[targetNode(p)] = append(byNode[targetNode(p)], p)
		}
	}
	var plans []*nodePlan
	seen := map[string]bool{}
	for _, n := range c.nodes.List() {
		seen[n.Name] = true
		pl := &nodePlan{node: n}
		pl.run, pl.keep = shouldRun(probe, n)
		for _, p := range byNode[n.Name] {
			switch {
			case !pl.keep && !pl.run:
				del = append(del, p)
			case p.Status.Phase == api.PodFailed:
				del = append(del, p) // recreated at the next sync
			case p.Labels[controllerutil.ControllerRevisionHashLabel] == hash:
				pl.cur = append(pl.cur, p)
			default:
				pl.old = append(pl.old, p)
			}
		}
		// Keep the oldest pod of each revision; duplicates go.
		for _, list := range []*[]*api.Pod{&pl.cur, &pl.old} {
			slices.SortFunc(*list, func(a, b *api.Pod) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
			if len(*list) > 1 {
				del = append(del, (*list)[1:]...)
				*list = (*list)[:1]
			}
		}
		if pl.run && len(pl.cur) == 0 && len(pl.old) == 0 {
			create = append(create, n.Name)
		}
		plans = append(plans, pl)
	}
	for name, ps := range byNode {
		if !seen[name] {
			del = append(del, ps...) // its node is gone
		}
	}
	var res reconcile.Result
	if ds.Spec.UpdateStrategy.Type != apps.OnDeleteDaemonSetStrategyType {
		c2, d2, wait := c.rollingUpdate(ds, plans, now)
		create, del = append(create, c2...), append(del, d2...)
		if wait > 0 {
			res.RequeueAfter = wait
		}
	}
	var merr error
	if c.exp.Satisfied(k) {
		merr = c.manage(ctx, k, ds, hash, create, del)
	}
	st := status(ds, plans, now, cc)
	if !reflect.DeepEqual(ds.Status, st) {
		next := ds.DeepCopy()
		next.Status = st
		if _, err := c.cfg.Client.DaemonSets().UpdateStatus(ctx, next); err != nil {
			return reconcile.Result{}, errors.Join(merr, fmt.Errorf("update status of daemonset %s: %w", k, err))
		}
	}
	if merr != nil {
		return reconcile.Result{}, merr
	}
	return res, c.truncateHistory(ctx, ds, pods, append(revs, update), update.Name)
}

// rollingUpdate picks the nodes whose pods are replaced now: with
// maxSurge 0, old pods are deleted (unavailable ones at once, available
// ones while fewer than maxUnavailable nodes are unavailable); with
// maxSurge, a new pod is started next to an available old one on up to
// maxSurge nodes, and the old pod goes once the new one is available.
func (c *Controller) rollingUpdate(ds *apps.DaemonSet, plans []*nodePlan, now time.Time) (create []string, del []*api.Pod, wait time.Duration) {
	desired := 0
	for _, pl := range plans {
		if pl.run {
			desired++
		}
	}
	maxUnavail, maxSurge := 1, 0
	if ru := ds.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		if ru.MaxUnavailable != nil {
			if n, err := ru.MaxUnavailable.ScaledValue(desired, true); err == nil {
				maxUnavail = n
			}
		}
		if ru.MaxSurge != nil {
			if n, err := ru.MaxSurge.ScaledValue(desired, true); err == nil {
				maxSurge = n
			}
		}
	}
	avail := func(p *api.Pod) bool { return controllerutil.IsPodAvailable(p, ds.Spec.MinReadySeconds, now) }
	unavailable, surging := 0, 0
	for _, pl := range plans {
		if !pl.run {
			continue
		}
		ok := slices.ContainsFunc(pl.cur, avail) || slices.ContainsFunc(pl.old, avail)
		if !ok {
			unavailable++
		}
		if len(pl.cur) > 0 && len(pl.old) > 0 {
			surging++
		}
	}
	for _, pl := range plans {
		if !pl.run || len(pl.old) == 0 {
			continue
		}
		old := pl.old[0]
		switch {
		case !avail(old) && len(pl.cur) == 0:
			del = append(del, old) // already unavailable: no cost
		case len(pl.cur) > 0:
			if avail(pl.cur[0]) {
				del = append(del, old)
			} else if ds.Spec.MinReadySeconds > 0 && controllerutil.IsPodReady(pl.cur[0]) {
				wait = time.Duration(ds.Spec.MinReadySeconds) * time.Second
			}
		case maxSurge > 0:
			if surging < maxSurge {
				surging++
				create = append(create, pl.node.Name)
			}
		case unavailable < maxUnavail:
			unavailable++
			del = append(del, old)
		}
	}
	return create, del, wait
}

// manage creates a pod (of the update revision, hash revHash) on each
// node of create and deletes del.
func (c *Controller) manage(ctx context.Context, k string, ds *apps.DaemonSet, revHash string, create []string, del []*api.Pod) error {
	err := controllerutil.DeletePods(ctx, c.cfg.Client.Pods(), c.exp, k, del, func(p *api.Pod, err error) {
		if err == nil {
			c.cfg.Recorder.Eventf(ctx, ds, apps.DaemonSetResource, controllerutil.EventNormal, ReasonSuccessfulDelete, "Deleted pod: %s", p.Name)
		}
	})
	if err != nil {
		return err
	}
	_, err = controllerutil.CreatePods(ctx, c.exp, k, len(create), func(ctx context.Context, i int) error {
		p := controllerutil.PodFromTemplate(&ds.Spec.Template, ds.Namespace, ds.Name, controllerutil.ControllerRef(ds, apps.DaemonSetResource))
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		p.Labels[controllerutil.ControllerRevisionHashLabel] = revHash
		addTolerations(&p.Spec)
		withNodeAffinity(&p.Spec, create[i])
		out, err := c.cfg.Client.Pods().Create(ctx, p)
		if err != nil {
			return err
		}
		c.cfg.Recorder.Eventf(ctx, ds, apps.DaemonSetResource, controllerutil.EventNormal, ReasonSuccessfulCreate, "Created pod: %s", out.Name)
		return nil
	})
	if err != nil {
		c.cfg.Recorder.Eventf(ctx, ds, apps.DaemonSetResource, controllerutil.EventWarning, ReasonFailedCreate, "Error creating: %v", err)
	}
	return err
}

// status counts nodes as Kubernetes' daemon set status does.
func status(ds *apps.DaemonSet, plans []*nodePlan, now time.Time, cc int32) apps.DaemonSetStatus {
	st := apps.DaemonSetStatus{ObservedGeneration: ds.Generation, Conditions: ds.Status.Conditions}
	if cc > 0 || ds.Status.CollisionCount != nil {
		st.CollisionCount = &cc
	}
	for _, pl := range plans {
		has := len(pl.cur)+len(pl.old) > 0
		if !pl.run {
			if has {
				st.NumberMisscheduled++
			}
			continue
		}
		st.DesiredNumberScheduled++
		if !has {
			continue
		}
		st.CurrentNumberScheduled++
		p := append(append([]*api.Pod(nil), pl.cur...), pl.old...)
		if slices.ContainsFunc(p, controllerutil.IsPodReady) {
			st.NumberReady++
		}
		if slices.ContainsFunc(p, func(p *api.Pod) bool { return controllerutil.IsPodAvailable(p, ds.Spec.MinReadySeconds, now) }) {
			st.NumberAvailable++
		}
		if len(pl.cur) > 0 {
			st.UpdatedNumberScheduled++
		}
	}
	st.NumberUnavailable = st.DesiredNumberScheduled - st.NumberAvailable
	return st
}

func (c *Controller) truncateHistory(ctx context.Context, ds *apps.DaemonSet, pods []*api.Pod, revs []*apps.ControllerRevision, update string) error {
	live := map[string]bool{update: true}
	for _, r := range revs {
		for _, p := range pods {
			if p.Labels[controllerutil.ControllerRevisionHashLabel] == r.Labels[controllerutil.ControllerRevisionHashLabel] {
				live[r.Name] = true
			}
		}
	}
	limit := defaultHistoryLimit
	if ds.Spec.RevisionHistoryLimit != nil {
		limit = int(*ds.Spec.RevisionHistoryLimit)
	}
	seen := map[string]bool{}
	var uniq []*apps.ControllerRevision
	for _, r := range revs {
		if !seen[r.Name] {
			seen[r.Name] = true
			uniq = append(uniq, r)
		}
	}
	for _, r := range controllerutil.HistoryToDelete(uniq, live, limit) {
		if _, err := c.cfg.Client.ControllerRevisions().Delete(ctx, r.Namespace, r.Name, store.WithPreconditionUID(r.UID)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("delete revision %s/%s: %w", r.Namespace, r.Name, err)
		}
	}
	return nil
}
