package job

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/batch"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/examples/controllers/replicaset"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// Condition reasons and event reasons, as Kubernetes' job controller
// writes them.
const (
	ReasonBackoffLimitExceeded     = "BackoffLimitExceeded"
	ReasonDeadlineExceeded         = "DeadlineExceeded"
	ReasonPodFailurePolicy         = "PodFailurePolicy"
	ReasonMaxFailedIndexesExceeded = "MaxFailedIndexesExceeded"
	ReasonFailedIndexes            = "FailedIndexes"
	ReasonCompletionsReached       = "CompletionsReached"
	ReasonSuspended                = "JobSuspended"
	ReasonResumed                  = "JobResumed"
	ReasonSuccessfulCreate         = "SuccessfulCreate"
	ReasonSuccessfulDelete         = "SuccessfulDelete"
	ReasonCompleted                = "Completed"
)

func (c *Controller) sync(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	k := req.String()
	j, ok := c.jobs.Get(req.Namespace, req.Name)
	if !ok {
		c.exp.Forget(k)
		return reconcile.Result{}, nil
	}
	owned, _ := c.pods.ByIndex(replicaset.ControllerUIDIndex, j.UID)
	now := c.cfg.Clock.Now()
	if j.DeletionTimestamp != nil || finishedCondition(j) != nil {
		// Nothing more is counted: let every pod go.
		if err := c.removeFinalizers(ctx, withFinalizer(owned)); err != nil {
			return reconcile.Result{}, err
		}
		if j.DeletionTimestamp != nil {
			return reconcile.Result{}, nil
		}
		return c.expire(ctx, j, now)
	}
	if j.Spec.Selector == nil {
		return reconcile.Result{}, nil
	}
	sel, err := j.Spec.Selector.Selector()
	if err != nil || sel.Empty() {
		c.log.Error("job selector is invalid", "object", k, "err", err)
		return reconcile.Result{}, nil
	}
	orphans, _ := c.pods.ByIndex(replicaset.OrphanIndex, j.Namespace)
	cl := controllerutil.Claimer[*api.Pod]{Owner: j, OwnerResource: batch.JobResource, Selector: sel.Matches,
		Client: c.cfg.Client.Pods(), CanAdopt: controllerutil.RecheckOwner(j, c.cfg.Client.Jobs().Get)}
	pods, err := cl.Claim(ctx, append(slices.Clone(owned), orphans...))
	if err != nil {
		return reconcile.Result{}, err
	}

	s := &state{job: j, now: now, status: *j.Status.DeepCopy(), pods: pods}
	if s.status.UncountedTerminatedPods == nil {
		s.status.UncountedTerminatedPods = &batch.UncountedTerminatedPods{}
	}
	// Step 1: record the newly ended pods as uncounted (and the
	// indexes they complete or fail) before their finalizers go.
	ignored := s.account()
	if err := c.writeStatus(ctx, s); err != nil {
		return reconcile.Result{}, err
	}
	// Step 2: remove the finalizers of what is recorded; step 3: count it.
	var strip []*api.Pod
	for _, p := range pods {
		if hasFinalizer(p) && (s.uncounted(p.UID) || ignored[p.UID]) {
			strip = append(strip, p)
		}
	}
	ferr := c.removeFinalizers(ctx, strip)
	s.flush(strip, ferr == nil)

	res, merr := c.decide(ctx, k, s)
	if err := c.writeStatus(ctx, s); err != nil {
		return reconcile.Result{}, errors.Join(ferr, merr, err)
	}
	if err := errors.Join(ferr, merr); err != nil {
		return reconcile.Result{}, err
	}
	if fin := finishedCondition(s.job); fin != nil {
		return c.expire(ctx, s.job, now)
	}
	return res, nil
}

// state is one sync's view of a job.
type state struct {
	job    *batch.Job
	now    time.Time
	status batch.JobStatus
	pods   []*api.Pod
}

func (s *state) uncounted(uid string) bool {
	u := s.status.UncountedTerminatedPods
	return slices.Contains(u.Succeeded, uid) || slices.Contains(u.Failed, uid)
}

func (s *state) completions() int32 {
	if s.job.Spec.Completions == nil {
		return 0
	}
	return *s.job.Spec.Completions
}

func (s *state) indexed() bool {
	return s.job.Spec.CompletionMode != nil && *s.job.Spec.CompletionMode == batch.IndexedCompletion
}

// account finds pods that ended and still hold the tracking finalizer,
// applies the pod failure policy to failed ones, and records them in
// uncountedTerminatedPods (completed and failed indexes too). It returns
// the pods the policy ignores: their finalizers go without a count.
func (s *state) account() map[string]bool {
	ignored := map[string]bool{}
	u := s.status.UncountedTerminatedPods
	completed := s.parse(s.status.CompletedIndexes)
	var failedIdx []int32
	if s.status.FailedIndexes != nil {
		failedIdx = s.parse(*s.status.FailedIndexes)
	}
	for _, p := range s.pods {
		if !hasFinalizer(p) || s.uncounted(p.UID) {
			continue
		}
		idx := podIndex(p, s)
		switch {
		case p.Status.Phase == api.PodSucceeded:
			if s.indexed() && idx >= 0 {
				if slices.Contains(completed, idx) {
					ignored[p.UID] = true // a duplicate of a completed index
					continue
				}
				completed = append(completed, idx)
			}
			u.Succeeded = append(u.Succeeded, p.UID)
		case isFailed(p):
			rule := matchPolicy(s.job.Spec.PodFailurePolicy, p)
			action := batch.PodFailurePolicyActionCount
			if rule != nil {
				action = rule.Action
			}
			switch action {
			case batch.PodFailurePolicyActionIgnore:
				ignored[p.UID] = true
				continue
			case batch.PodFailurePolicyActionFailJob:
				s.target(batch.JobFailureTarget, ReasonPodFailurePolicy, fmt.Sprintf("Container of pod %s/%s failed, matching a FailJob rule of the pod failure policy", p.Namespace, p.Name))
			}
			if s.job.Spec.BackoffLimitPerIndex != nil && idx >= 0 && !slices.Contains(failedIdx, idx) &&
				(action == batch.PodFailurePolicyActionFailIndex || indexFailures(p)+1 > *s.job.Spec.BackoffLimitPerIndex) {
				failedIdx = append(failedIdx, idx)
			}
			u.Failed = append(u.Failed, p.UID)
		}
	}
	s.status.CompletedIndexes = FormatIndexes(completed)
	if s.job.Spec.BackoffLimitPerIndex != nil {
		f := FormatIndexes(failedIdx)
		s.status.FailedIndexes = &f
	}
	return ignored
}

func (s *state) parse(set string) []int32 {
	idx, err := ParseIndexes(set, s.completions())
	if err != nil {
		return nil // written by us; a bad value is rebuilt
	}
	return idx
}

// flush moves the uncounted pods whose finalizers are gone into the
// counters.
func (s *state) flush(stripped []*api.Pod, ok bool) {
	u := s.status.UncountedTerminatedPods
	gone := map[string]bool{}
	for _, p := range stripped {
		gone[p.UID] = ok
	}
	present := map[string]bool{}
	for _, p := range s.pods {
		present[p.UID] = hasFinalizer(p) && !gone[p.UID]
	}
	keep := func(list []string, n *int32) []string {
		var out []string
		for _, uid := range list {
			if present[uid] {
				out = append(out, uid)
			} else {
				*n++
			}
		}
		return out
	}
	u.Succeeded = keep(u.Succeeded, &s.status.Succeeded)
	u.Failed = keep(u.Failed, &s.status.Failed)
}

// target adds a FailureTarget or SuccessCriteriaMet condition unless the
// job already has one of them.
func (s *state) target(t batch.JobConditionType, reason, msg string) {
	if s.cond(batch.JobFailureTarget) != nil || s.cond(batch.JobSuccessCriteriaMet) != nil {
		return
	}
	s.setCond(t, api.ConditionTrue, reason, msg)
}

func (s *state) cond(t batch.JobConditionType) *batch.JobCondition {
	for i := range s.status.Conditions {
		if s.status.Conditions[i].Type == t && s.status.Conditions[i].Status == api.ConditionTrue {
			return &s.status.Conditions[i]
		}
	}
	return nil
}

func (s *state) setCond(t batch.JobConditionType, st api.ConditionStatus, reason, msg string) {
	now := store.NewTime(s.now)
	for i := range s.status.Conditions {
		c := &s.status.Conditions[i]
		if c.Type == t {
			if c.Status != st {
				c.LastTransitionTime = now
			}
			c.Status, c.Reason, c.Message, c.LastProbeTime = st, reason, msg, now
			return
		}
	}
	s.status.Conditions = append(s.status.Conditions, batch.JobCondition{Type: t, Status: st, Reason: reason, Message: msg,
		LastProbeTime: now, LastTransitionTime: now})
}

func finishedCondition(j *batch.Job) *batch.JobCondition {
	for i := range j.Status.Conditions {
		c := &j.Status.Conditions[i]
		if (c.Type == batch.JobComplete || c.Type == batch.JobFailed) && c.Status == api.ConditionTrue {
			return c
		}
	}
	return nil
}

func hasFinalizer(p *api.Pod) bool { return slices.Contains(p.Finalizers, TrackingFinalizer) }

func withFinalizer(pods []*api.Pod) []*api.Pod {
	var out []*api.Pod
	for _, p := range pods {
		if hasFinalizer(p) {
			out = append(out, p)
		}
	}
	return out
}

// isFailed: a pod counts as failed when its phase is Failed, or when it
// is being deleted before it succeeded (Kubernetes, with finalizer
// tracking).
func isFailed(p *api.Pod) bool {
	return p.Status.Phase == api.PodFailed || (p.DeletionTimestamp != nil && p.Status.Phase != api.PodSucceeded)
}

// podIndex returns an indexed job's pod's completion index, or -1.
func podIndex(p *api.Pod, s *state) int32 {
	if !s.indexed() {
		return -1
	}
	v, ok := p.Annotations[batch.JobCompletionIndexAnnotation]
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 0 || n >= int64(s.completions()) {
		return -1
	}
	return int32(n)
}

// indexFailures is how many earlier pods of the pod's index failed.
func indexFailures(p *api.Pod) int32 {
	n, err := strconv.ParseInt(p.Annotations[IndexFailureAnnotation], 10, 32)
	if err != nil || n < 0 {
		return 0
	}
	return int32(n)
}

// removeFinalizers removes the tracking finalizer from pods, in parallel.
func (c *Controller) removeFinalizers(ctx context.Context, pods []*api.Pod) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.cfg.Client.Pods().GuaranteedUpdate(ctx, p.Namespace, p.Name, func(cur *api.Pod) (*api.Pod, error) {
				if cur.UID != p.UID {
					return cur, store.ErrNotFound
				}
				cur.Finalizers = slices.DeleteFunc(cur.Finalizers, func(f string) bool { return f == TrackingFinalizer })
				return cur, nil
			})
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("remove finalizer of pod %s/%s: %w", p.Namespace, p.Name, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// writeStatus writes s.status unless the job already has it; the stored
// job (for later steps) replaces s.job.
func (c *Controller) writeStatus(ctx context.Context, s *state) error {
	if u := s.status.UncountedTerminatedPods; u != nil && len(u.Succeeded) == 0 && len(u.Failed) == 0 {
		u.Succeeded, u.Failed = nil, nil
	}
	old := s.job.Status
	if old.UncountedTerminatedPods == nil {
		old.UncountedTerminatedPods = &batch.UncountedTerminatedPods{}
	}
	if reflect.DeepEqual(old, s.status) {
		return nil
	}
	next := s.job.DeepCopy()
	next.Status = *s.status.DeepCopy()
	out, err := c.cfg.Client.Jobs().UpdateStatus(ctx, next)
	if err != nil {
		return fmt.Errorf("update status of job %s/%s: %w", s.job.Namespace, s.job.Name, err)
	}
	s.job = out
	return nil
}

// expire deletes a finished job whose ttlSecondsAfterFinished has passed
// (foreground, so its pods go first), or asks to be called back then.
func (c *Controller) expire(ctx context.Context, j *batch.Job, now time.Time) (reconcile.Result, error) {
	fin := finishedCondition(j)
	if j.Spec.TTLSecondsAfterFinished == nil || fin == nil {
		return reconcile.Result{}, nil
	}
	at := fin.LastTransitionTime.Time
	if j.Status.CompletionTime != nil && fin.Type == batch.JobComplete {
		at = j.Status.CompletionTime.Time
	}
	deadline := at.Add(time.Duration(*j.Spec.TTLSecondsAfterFinished) * time.Second)
	if now.Before(deadline) {
		return reconcile.Result{RequeueAfter: after(now, deadline)}, nil
	}
	fg, uid := "Foreground", j.UID
	err := c.cfg.Client.Jobs().Call(ctx, "DELETE", j.Namespace, j.Name, "", nil,
		rest.DeleteOptions{Kind: "DeleteOptions", APIVersion: "v1", PropagationPolicy: &fg, Preconditions: &rest.Preconditions{UID: &uid}}, nil)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return reconcile.Result{}, fmt.Errorf("delete expired job %s/%s: %w", j.Namespace, j.Name, err)
	}
	c.log.Info("deleted finished job after its TTL", "object", j.Namespace+"/"+j.Name)
	return reconcile.Result{}, nil
}

// deletePods deletes pods (UID precondition), recording expectations.
func (c *Controller) deletePods(ctx context.Context, k string, j *batch.Job, pods []*api.Pod) error {
	return controllerutil.DeletePods(ctx, c.cfg.Client.Pods(), c.exp, k, pods, func(p *api.Pod, err error) {
		if err == nil {
			c.cfg.Recorder.Eventf(ctx, j, batch.JobResource, controllerutil.EventNormal, ReasonSuccessfulDelete, "Deleted pod: %s", p.Name)
		}
	})
}

// createPods creates pods, in slow-start batches, recording expectations.
func (c *Controller) createPods(ctx context.Context, k string, j *batch.Job, pods []*api.Pod) error {
	_, err := controllerutil.CreatePods(ctx, c.exp, k, len(pods), func(ctx context.Context, i int) error {
		out, err := c.cfg.Client.Pods().Create(ctx, pods[i])
		if err != nil {
			return err
		}
		c.cfg.Recorder.Eventf(ctx, j, batch.JobResource, controllerutil.EventNormal, ReasonSuccessfulCreate, "Created pod: %s", out.Name)
		return nil
	})
	if err != nil {
		c.cfg.Recorder.Eventf(ctx, j, batch.JobResource, controllerutil.EventWarning, "FailedCreate", "Error creating: %v", err)
	}
	return err
}
