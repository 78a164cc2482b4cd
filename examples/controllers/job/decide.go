package job

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/batch"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
)

// decide sets the job's targets and conditions from its counts and
// creates or deletes pods toward them; it updates s.status (active,
// ready, terminating, conditions) for the caller to write.
func (c *Controller) decide(ctx context.Context, k string, s *state) (reconcile.Result, error) {
	j := s.job
	spec := &j.Spec
	var active, terminating []*api.Pod
	var ready int32
	for _, p := range s.pods {
		switch {
		case p.DeletionTimestamp != nil && p.Status.Phase != api.PodSucceeded && p.Status.Phase != api.PodFailed:
			terminating = append(terminating, p)
		case controllerutil.IsPodActive(p):
			active = append(active, p)
			if controllerutil.IsPodReady(p) {
				ready++
			}
		}
	}
	res := reconcile.Result{}
	suspended := spec.Suspend != nil && *spec.Suspend
	switch sc := s.cond(batch.JobSuspended); {
	case suspended && sc == nil:
		s.setCond(batch.JobSuspended, api.ConditionTrue, ReasonSuspended, "Job suspended")
	case !suspended && sc != nil:
		s.setCond(batch.JobSuspended, api.ConditionFalse, ReasonResumed, "Job resumed")
		t := store.NewTime(s.now) // the deadline counts from the resume
		s.status.StartTime = &t
	}
	if !suspended && s.status.StartTime == nil {
		t := store.NewTime(s.now)
		s.status.StartTime = &t
	}

	u := s.status.UncountedTerminatedPods
	succeeded := s.status.Succeeded + int32(len(u.Succeeded))
	failed := s.status.Failed + int32(len(u.Failed))
	completed := s.parse(s.status.CompletedIndexes)
	var failedIdx []int32
	if s.status.FailedIndexes != nil {
		failedIdx = s.parse(*s.status.FailedIndexes)
	}
	comp := s.completions()
	rule := s.matchSuccessPolicy(completed)

	// Targets, first one wins (the pod failure policy's was set while
	// accounting).
	switch {
	case spec.BackoffLimitPerIndex == nil && spec.BackoffLimit != nil && failed > *spec.BackoffLimit:
		s.target(batch.JobFailureTarget, ReasonBackoffLimitExceeded, "Job has reached the specified backoff limit")
	case spec.MaxFailedIndexes != nil && int32(len(failedIdx)) > *spec.MaxFailedIndexes:
		s.target(batch.JobFailureTarget, ReasonMaxFailedIndexesExceeded, "Job has exceeded the specified maximal number of failed indexes")
	case !suspended && spec.ActiveDeadlineSeconds != nil && s.status.StartTime != nil &&
		!s.now.Before(s.status.StartTime.Add(time.Duration(*spec.ActiveDeadlineSeconds)*time.Second)):
		s.target(batch.JobFailureTarget, ReasonDeadlineExceeded, "Job was active longer than specified deadline")
	case rule >= 0:
		s.target(batch.JobSuccessCriteriaMet, ReasonSuccessPolicy, fmt.Sprintf("Matched rules at index %d", rule))
	case s.indexed() && int32(len(completed)+len(failedIdx)) >= comp && len(failedIdx) > 0:
		s.target(batch.JobFailureTarget, ReasonFailedIndexes, "Job has failed indexes")
	case s.indexed() && int32(len(completed)) >= comp,
		!s.indexed() && spec.Completions != nil && succeeded >= comp,
		!s.indexed() && spec.Completions == nil && succeeded > 0 && len(active) == 0:
		s.target(batch.JobSuccessCriteriaMet, ReasonCompletionsReached, "Reached expected number of succeeded pods")
	}
	if !suspended && spec.ActiveDeadlineSeconds != nil && s.status.StartTime != nil && s.cond(batch.JobFailureTarget) == nil {
		res.RequeueAfter = after(s.now, s.status.StartTime.Add(time.Duration(*spec.ActiveDeadlineSeconds)*time.Second))
	}

	var err error
	finishing := s.cond(batch.JobFailureTarget) != nil || s.cond(batch.JobSuccessCriteriaMet) != nil
	satisfied := c.exp.Satisfied(k)
	switch {
	case finishing || suspended:
		if satisfied {
			err = c.deletePods(ctx, k, j, active)
		}
		terminating = append(terminating, active...)
		active, ready = nil, 0
	case satisfied:
		var create, del []*api.Pod
		if s.indexed() {
			create, del = s.planIndexed(active, completed, failedIdx)
		} else {
			create, del = s.planNonIndexed(active, succeeded)
		}
		var wait time.Duration
		create, wait = s.delayCreates(create, c.cfg.PodFailureBackoff, c.cfg.MaxPodFailureBackoff)
		if wait > 0 && (res.RequeueAfter == 0 || wait < res.RequeueAfter) {
			res.RequeueAfter = wait
		}
		if err = c.deletePods(ctx, k, j, del); err == nil {
			err = c.createPods(ctx, k, j, create)
		}
	}
	s.status.Active = int32(len(active))
	s.status.Ready = &ready
	nTerm := int32(len(terminating))
	s.status.Terminating = &nTerm
	if err != nil {
		return res, err
	}

	// Finished once no pod is left running or uncounted.
	if finishing && len(active) == 0 && len(terminating) == 0 && len(u.Succeeded) == 0 && len(u.Failed) == 0 && len(withFinalizer(s.pods)) == 0 {
		if t := s.cond(batch.JobFailureTarget); t != nil {
			s.setCond(batch.JobFailed, api.ConditionTrue, t.Reason, t.Message)
			c.cfg.Recorder.Eventf(ctx, j, batch.JobResource, controllerutil.EventWarning, t.Reason, "%s", t.Message)
		} else if t := s.cond(batch.JobSuccessCriteriaMet); t != nil {
			s.setCond(batch.JobComplete, api.ConditionTrue, t.Reason, t.Message)
			ct := store.NewTime(s.now)
			s.status.CompletionTime = &ct
			c.cfg.Recorder.Eventf(ctx, j, batch.JobResource, controllerutil.EventNormal, ReasonCompleted, "Job completed")
		}
	}
	return res, nil
}

func (s *state) parallelism() int {
	if p := s.job.Spec.Parallelism; p != nil {
		return int(*p)
	}
	return 1
}

// planNonIndexed: keep min(parallelism, completions left) pods running;
// without completions, start none once one pod succeeded.
func (s *state) planNonIndexed(active []*api.Pod, succeeded int32) (create, del []*api.Pod) {
	want := s.parallelism()
	switch {
	case s.job.Spec.Completions != nil:
		want = min(want, max(int(s.completions()-succeeded), 0))
	case succeeded > 0:
		want = min(want, len(active))
	}
	switch d := want - len(active); {
	case d > 0:
		for range min(d, maxPodCreateDeleteBurst) {
			create = append(create, s.newPod(-1, 0))
		}
	case d < 0:
		del = controllerutil.PodsToDelete(slices.Clone(active), active, -d, s.now)
	}
	return create, del
}

// planIndexed: one pod for each index that is neither completed, failed
// nor running, lowest first, up to parallelism running; pods of completed
// or failed indexes, duplicates and the excess over parallelism go.
func (s *state) planIndexed(active []*api.Pod, completed, failedIdx []int32) (create, del []*api.Pod) {
	running := map[int32]bool{}
	var keep []*api.Pod
	for _, p := range active {
		i := podIndex(p, s)
		if i < 0 || running[i] || slices.Contains(completed, i) || slices.Contains(failedIdx, i) {
			del = append(del, p)
			continue
		}
		running[i] = true
		keep = append(keep, p)
	}
	if extra := len(keep) - s.parallelism(); extra > 0 {
		slices.SortFunc(keep, func(a, b *api.Pod) int { return int(podIndex(b, s) - podIndex(a, s)) })
		del = append(del, keep[:extra]...)
		keep = keep[extra:]
	}
	failures := s.failuresByIndex()
	for i := int32(0); i < s.completions() && len(keep)+len(create) < s.parallelism() && len(create) < maxPodCreateDeleteBurst; i++ {
		if running[i] || slices.Contains(completed, i) || slices.Contains(failedIdx, i) {
			continue
		}
		create = append(create, s.newPod(i, failures[i]))
	}
	return create, del
}

// failuresByIndex counts each index's failed pods: the most any of its
// pods records (their annotation, plus one if it failed itself).
func (s *state) failuresByIndex() map[int32]int32 {
	out := map[int32]int32{}
	for _, p := range s.pods {
		i := podIndex(p, s)
		if i < 0 {
			continue
		}
		n := indexFailures(p)
		if isFailed(p) {
			n++
		}
		out[i] = max(out[i], n)
	}
	return out
}

// newPod returns a pod of the job's template with the tracking finalizer;
// index >= 0 makes it an indexed pod (annotation, label, hostname, env).
func (s *state) newPod(index, failures int32) *api.Pod {
	j := s.job
	p := controllerutil.PodFromTemplate(&j.Spec.Template, j.Namespace, j.Name, controllerutil.ControllerRef(j, batch.JobResource))
	p.Finalizers = append(p.Finalizers, TrackingFinalizer)
	if index < 0 {
		return p
	}
	is := strconv.Itoa(int(index))
	p.GenerateName = fmt.Sprintf("%s-%s-", j.Name, is)
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Annotations[batch.JobCompletionIndexAnnotation] = is
	p.Labels[CompletionIndexLabel] = is
	if j.Spec.BackoffLimitPerIndex != nil {
		p.Annotations[IndexFailureAnnotation] = strconv.Itoa(int(failures))
	}
	if p.Spec.Hostname == "" {
		p.Spec.Hostname = fmt.Sprintf("%s-%s", j.Name, is)
	}
	env := api.EnvVar{Name: CompletionIndexEnv, ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{
		FieldPath: fmt.Sprintf("metadata.annotations['%s']", batch.JobCompletionIndexAnnotation)}}}
	for i := range p.Spec.InitContainers {
		p.Spec.InitContainers[i].Env = append(p.Spec.InitContainers[i].Env, env)
	}
	for i := range p.Spec.Containers {
		p.Spec.Containers[i].Env = append(p.Spec.Containers[i].Env, env)
	}
	return p
}
