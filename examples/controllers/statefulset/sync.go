package statefulset

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/examples/controllers/replicaset"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
)

// Event reasons, as Kubernetes' stateful set controller emits them.
const (
	ReasonSuccessfulCreate = "SuccessfulCreate"
	ReasonSuccessfulDelete = "SuccessfulDelete"
	ReasonFailedCreate     = "FailedCreate"
)

// defaultHistoryLimit is revisionHistoryLimit's default.
const defaultHistoryLimit = 10

func (c *Controller) sync(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	set, ok := c.sets.Get(req.Namespace, req.Name)
	if !ok || set.Spec.Selector == nil {
		return reconcile.Result{}, nil
	}
	sel, err := set.Spec.Selector.Selector()
	if err != nil || sel.Empty() {
		c.log.Error("stateful set selector is invalid", "object", req.String(), "err", err)
		return reconcile.Result{}, nil
	}
	owned, _ := c.pods.ByIndex(replicaset.ControllerUIDIndex, set.UID)
	orphans, _ := c.pods.ByIndex(replicaset.OrphanIndex, set.Namespace)
	cl := controllerutil.Claimer[*api.Pod]{Owner: set, OwnerResource: apps.StatefulSetResource,
		Selector: func(l map[string]string) bool { return sel.Matches(l) }, Client: c.cfg.Client.Pods(),
		CanAdopt: controllerutil.RecheckOwner(set, c.cfg.Client.StatefulSets().Get)}
	var member []*api.Pod
	for _, p := range append(slices.Clone(owned), orphans...) {
		if ordinal(set, p) >= 0 {
			member = append(member, p)
		}
	}
	pods, err := cl.Claim(ctx, member)
	if err != nil {
		return reconcile.Result{}, err
	}
	if set.DeletionTimestamp != nil {
		return reconcile.Result{}, nil
	}

	revs, _ := c.revs.ByIndex(RevisionsByController, set.UID)
	revs = slices.Clone(revs)
	data, err := controllerutil.TemplatePatch(&set.Spec.Template)
	if err != nil {
		return reconcile.Result{}, err
	}
	var cc int32
	if set.Status.CollisionCount != nil {
		cc = *set.Status.CollisionCount
	}
	update, cc, err := controllerutil.EnsureRevision(ctx, c.cfg.Client.ControllerRevisions(), set, apps.StatefulSetResource,
		set.Spec.Template.Labels, revs, data, cc)
	if err != nil {
		return reconcile.Result{}, err
	}
	if !slices.ContainsFunc(revs, func(r *apps.ControllerRevision) bool { return r.Name == update.Name }) {
		revs = append(revs, update)
	}
	current := update
	for _, r := range revs {
		if r.Name == set.Status.CurrentRevision {
			current = r
		}
	}
	s := &setState{c: c, set: set, pods: pods, current: current, update: update, now: c.cfg.Clock.Now()}
	res, err := s.manage(ctx)
	st := s.status(cc)
	if serr := c.writeStatus(ctx, set, st); serr != nil {
		return reconcile.Result{}, errors.Join(err, serr)
	}
	if err != nil {
		return reconcile.Result{}, err
	}
	if herr := c.truncateHistory(ctx, set, st, pods, revs); herr != nil {
		return reconcile.Result{}, herr
	}
	return res, nil
}

// ordinal parses a pod's name "<set>-<n>" (n >= 0), or returns -1.
func ordinal(set *apps.StatefulSet, p *api.Pod) int {
	rest, ok := strings.CutPrefix(p.Name, set.Name+"-")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 || strconv.Itoa(n) != rest {
		return -1
	}
	return n
}

type setState struct {
	c               *Controller
	set             *apps.StatefulSet
	pods            []*api.Pod
	current, update *apps.ControllerRevision
	now             time.Time
}

func (s *setState) replicas() int {
	if r := s.set.Spec.Replicas; r != nil {
		return int(*r)
	}
	return 1
}

func (s *setState) start() int {
	if o := s.set.Spec.Ordinals; o != nil {
		return int(o.Start)
	}
	return 0
}

func (s *setState) parallel() bool {
	return s.set.Spec.PodManagementPolicy == apps.ParallelPodManagement
}

func revisionOf(p *api.Pod) string { return p.Labels[controllerutil.ControllerRevisionHashLabel] }

func terminating(p *api.Pod) bool { return p.DeletionTimestamp != nil }

func healthy(p *api.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase == api.PodRunning && controllerutil.IsPodReady(p)
}

func (s *setState) available(p *api.Pod) bool {
	return healthy(p) && controllerutil.IsPodAvailable(p, s.set.Spec.MinReadySeconds, s.now)
}

func (s *setState) partition() int {
	if ru := s.set.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		return int(*ru.Partition)
	}
	return 0
}

func (s *setState) maxUnavailable() int {
	ru := s.set.Spec.UpdateStrategy.RollingUpdate
	if ru == nil || ru.MaxUnavailable == nil {
		return 1
	}
	n, err := ru.MaxUnavailable.ScaledValue(s.replicas(), false)
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// manage creates, replaces and deletes pods as the package documentation
// describes; it stops early where OrderedReady must wait.
func (s *setState) manage(ctx context.Context) (reconcile.Result, error) {
	start, n := s.start(), s.replicas()
	slots := make([]*api.Pod, n)
	var condemned []*api.Pod
	for _, p := range s.pods {
		if o := ordinal(s.set, p) - start; o >= 0 && o < n {
			slots[o] = p
		} else {
			condemned = append(condemned, p)
		}
	}
	slices.SortFunc(condemned, func(a, b *api.Pod) int { return ordinal(s.set, b) - ordinal(s.set, a) })
	var res reconcile.Result

	// Replicas, lowest ordinal first.
	for i, p := range slots {
		ord := start + i
		switch {
		case p == nil:
			if err := s.create(ctx, ord); err != nil {
				return res, err
			}
			if !s.parallel() {
				return res, nil // wait for it to be Running and Ready
			}
			continue
		case p.Status.Phase == api.PodFailed || p.Status.Phase == api.PodSucceeded:
			// Recreated with the same identity once it is gone.
			if !terminating(p) {
				if err := s.delete(ctx, p); err != nil {
					return res, err
				}
			}
			if !s.parallel() {
				return res, nil
			}
			continue
		}
		if !s.parallel() && !healthy(p) {
			return res, nil
		}
		if !s.parallel() && !s.available(p) {
			return reconcile.Result{RequeueAfter: time.Duration(s.set.Spec.MinReadySeconds) * time.Second}, nil
		}
	}
	// Scale-down, highest ordinal first; OrderedReady waits for every
	// other pod to be healthy and deletes one at a time.
	for _, p := range condemned {
		if terminating(p) {
			if !s.parallel() {
				return res, nil
			}
			continue
		}
		if !s.parallel() && slices.ContainsFunc(s.pods, func(q *api.Pod) bool { return q != p && !healthy(q) }) {
			return res, nil
		}
		if err := s.delete(ctx, p); err != nil {
			return res, err
		}
		if err := s.retireClaims(ctx, ordinal(s.set, p)); err != nil {
			return res, err
		}
		if !s.parallel() {
			return res, nil
		}
	}
	if s.set.Spec.UpdateStrategy.Type == apps.OnDeleteStatefulSetStrategyType {
		return res, nil
	}
	// Rolling update: from the highest ordinal down to the partition, pods
	// of another revision are deleted (and recreated at the update
	// revision), while no more than maxUnavailable are unavailable.
	unavailable := 0
	for _, p := range slots {
		if p == nil || !s.available(p) {
			unavailable++
		}
	}
	for i := n - 1; i >= max(s.partition()-start, 0); i-- {
		p := slots[i]
		if p == nil || terminating(p) || revisionOf(p) == s.update.Name {
			continue
		}
		if s.available(p) {
			if unavailable >= s.maxUnavailable() {
				break
			}
			unavailable++
		}
		if err := s.delete(ctx, p); err != nil {
			return res, err
		}
	}
	return res, nil
}

// create makes the claims and the pod of an ordinal: the current
// revision below the partition of a rolling update, else the update
// revision (with OnDelete always the update revision: a pod the user
// deleted comes back with the new template, as in Kubernetes'
// newVersionedStatefulSetPod).
func (s *setState) create(ctx context.Context, ord int) error {
	rev := s.update
	if s.set.Spec.UpdateStrategy.Type != apps.OnDeleteStatefulSetStrategyType && ord < s.partition() {
		rev = s.current
	}
	tmpl, err := controllerutil.TemplateOf(rev)
	if err != nil {
		return err
	}
	if err := s.createClaims(ctx, ord); err != nil {
		return err
	}
	pod := s.newPod(tmpl, rev, ord)
	if _, err := s.c.cfg.Client.Pods().Create(ctx, pod); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return nil // the old one is still going
		}
		s.c.cfg.Recorder.Eventf(ctx, s.set, apps.StatefulSetResource, controllerutil.EventWarning, ReasonFailedCreate,
			"create Pod %s in StatefulSet %s failed error: %v", pod.Name, s.set.Name, err)
		return fmt.Errorf("create pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	s.c.cfg.Recorder.Eventf(ctx, s.set, apps.StatefulSetResource, controllerutil.EventNormal, ReasonSuccessfulCreate,
		"create Pod %s in StatefulSet %s successful", pod.Name, s.set.Name)
	return nil
}

// newPod is the pod of ordinal ord from tmpl: its stable name, hostname
// and subdomain, identity labels, and a volume per claim template.
func (s *setState) newPod(tmpl *api.PodTemplateSpec, rev *apps.ControllerRevision, ord int) *api.Pod {
	set := s.set
	p := controllerutil.PodFromTemplate(tmpl, set.Namespace, set.Name, controllerutil.ControllerRef(set, apps.StatefulSetResource))
	p.GenerateName = ""
	p.Name = fmt.Sprintf("%s-%d", set.Name, ord)
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Labels[PodNameLabel] = p.Name
	p.Labels[PodIndexLabel] = strconv.Itoa(ord)
	p.Labels[controllerutil.ControllerRevisionHashLabel] = rev.Name
	p.Spec.Hostname = p.Name
	p.Spec.Subdomain = set.Spec.ServiceName
	for _, t := range set.Spec.VolumeClaimTemplates {
		v := api.Volume{Name: t.Name, VolumeSource: api.VolumeSource{PersistentVolumeClaim: &api.PersistentVolumeClaimVolumeSource{ClaimName: claimName(set, t.Name, ord)}}}
		if i := slices.IndexFunc(p.Spec.Volumes, func(x api.Volume) bool { return x.Name == t.Name }); i >= 0 {
			p.Spec.Volumes[i] = v
		} else {
			p.Spec.Volumes = append(p.Spec.Volumes, v)
		}
	}
	return p
}

func claimName(set *apps.StatefulSet, tmpl string, ord int) string {
	return fmt.Sprintf("%s-%s-%d", tmpl, set.Name, ord)
}

func (s *setState) retention() (whenDeleted, whenScaled apps.PersistentVolumeClaimRetentionPolicyType) {
	whenDeleted, whenScaled = apps.RetainPersistentVolumeClaimRetentionPolicyType, apps.RetainPersistentVolumeClaimRetentionPolicyType
	if p := s.set.Spec.PersistentVolumeClaimRetentionPolicy; p != nil {
		if p.WhenDeleted != "" {
			whenDeleted = p.WhenDeleted
		}
		if p.WhenScaled != "" {
			whenScaled = p.WhenScaled
		}
	}
	return whenDeleted, whenScaled
}

// createClaims creates the missing claims of an ordinal from the
// templates, labelled with the selector's labels; with whenDeleted=Delete
// the stateful set owns them, so the garbage collector removes them with
// it.
func (s *setState) createClaims(ctx context.Context, ord int) error {
	whenDeleted, _ := s.retention()
	for _, t := range s.set.Spec.VolumeClaimTemplates {
		pvc := t.DeepCopy()
		pvc.ResourceVersion, pvc.UID = "", ""
		pvc.Namespace, pvc.Name = s.set.Namespace, claimName(s.set, t.Name, ord)
		if pvc.Labels == nil {
			pvc.Labels = map[string]string{}
		}
		for k, v := range s.set.Spec.Selector.MatchLabels {
			pvc.Labels[k] = v
		}
		if whenDeleted == apps.DeletePersistentVolumeClaimRetentionPolicyType {
			ref := controllerutil.ControllerRef(s.set, apps.StatefulSetResource)
			pvc.OwnerReferences = append(pvc.OwnerReferences, ref)
		}
		pvc.Status = api.PersistentVolumeClaimStatus{}
		if _, err := s.c.cfg.Client.PersistentVolumeClaims().Create(ctx, pvc); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			s.c.cfg.Recorder.Eventf(ctx, s.set, apps.StatefulSetResource, controllerutil.EventWarning, ReasonFailedCreate,
				"create Claim %s for Pod %s-%d in StatefulSet %s failed error: %v", pvc.Name, s.set.Name, ord, s.set.Name, err)
			return fmt.Errorf("create claim %s/%s: %w", pvc.Namespace, pvc.Name, err)
		}
	}
	return nil
}

// retireClaims deletes a condemned ordinal's claims when whenScaled is
// Delete.
func (s *setState) retireClaims(ctx context.Context, ord int) error {
	if _, whenScaled := s.retention(); whenScaled != apps.DeletePersistentVolumeClaimRetentionPolicyType {
		return nil
	}
	for _, t := range s.set.Spec.VolumeClaimTemplates {
		if _, err := s.c.cfg.Client.PersistentVolumeClaims().Delete(ctx, s.set.Namespace, claimName(s.set, t.Name, ord)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("delete claim of %s-%d: %w", s.set.Name, ord, err)
		}
	}
	return nil
}

func (s *setState) delete(ctx context.Context, p *api.Pod) error {
	_, err := s.c.cfg.Client.Pods().Delete(ctx, p.Namespace, p.Name, store.WithPreconditionUID(p.UID))
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("delete pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	if err == nil {
		s.c.cfg.Recorder.Eventf(ctx, s.set, apps.StatefulSetResource, controllerutil.EventNormal, ReasonSuccessfulDelete,
			"delete Pod %s in StatefulSet %s successful", p.Name, s.set.Name)
	}
	return nil
}

// status counts the pods as Kubernetes does; a rolling update whose pods
// are all updated and ready makes the update revision current.
func (s *setState) status(cc int32) apps.StatefulSetStatus {
	st := apps.StatefulSetStatus{ObservedGeneration: s.set.Generation, CurrentRevision: s.current.Name, UpdateRevision: s.update.Name,
		Conditions: s.set.Status.Conditions}
	if cc > 0 || s.set.Status.CollisionCount != nil {
		st.CollisionCount = &cc
	}
	for _, p := range s.pods {
		if terminating(p) {
			continue
		}
		st.Replicas++
		if healthy(p) {
			st.ReadyReplicas++
			if s.available(p) {
				st.AvailableReplicas++
			}
		}
		switch revisionOf(p) {
		case s.current.Name:
			st.CurrentReplicas++
		}
		if revisionOf(p) == s.update.Name {
			st.UpdatedReplicas++
		}
	}
	n := int32(s.replicas())
	if s.set.Spec.UpdateStrategy.Type != apps.OnDeleteStatefulSetStrategyType && st.UpdatedReplicas == n && st.ReadyReplicas == n && st.Replicas == n {
		st.CurrentRevision, st.CurrentReplicas = st.UpdateRevision, st.UpdatedReplicas
	}
	if s.set.Spec.UpdateStrategy.Type == apps.OnDeleteStatefulSetStrategyType && st.UpdatedReplicas == n && st.Replicas == n {
		st.CurrentRevision, st.CurrentReplicas = st.UpdateRevision, st.UpdatedReplicas
	}
	return st
}

func (c *Controller) writeStatus(ctx context.Context, set *apps.StatefulSet, st apps.StatefulSetStatus) error {
	if reflect.DeepEqual(set.Status, st) {
		return nil
	}
	next := set.DeepCopy()
	next.Status = st
	if _, err := c.cfg.Client.StatefulSets().UpdateStatus(ctx, next); err != nil {
		return fmt.Errorf("update status of statefulset %s/%s: %w", set.Namespace, set.Name, err)
	}
	return nil
}

// truncateHistory deletes the oldest revisions beyond
// revisionHistoryLimit that no pod and neither status revision uses.
func (c *Controller) truncateHistory(ctx context.Context, set *apps.StatefulSet, st apps.StatefulSetStatus, pods []*api.Pod, revs []*apps.ControllerRevision) error {
	live := map[string]bool{st.CurrentRevision: true, st.UpdateRevision: true}
	for _, p := range pods {
		live[revisionOf(p)] = true
	}
	limit := defaultHistoryLimit
	if set.Spec.RevisionHistoryLimit != nil {
		limit = int(*set.Spec.RevisionHistoryLimit)
	}
	for _, r := range controllerutil.HistoryToDelete(revs, live, limit) {
		if _, err := c.cfg.Client.ControllerRevisions().Delete(ctx, r.Namespace, r.Name, store.WithPreconditionUID(r.UID)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("delete revision %s/%s: %w", r.Namespace, r.Name, err)
		}
	}
	return nil
}
