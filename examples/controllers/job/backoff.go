package job

import (
	"slices"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/batch"
)

// Defaults of the pod-replacement delay, Kubernetes' job controller's
// DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff.
const (
	DefaultPodFailureBackoff    = 10 * time.Second
	DefaultMaxPodFailureBackoff = 6 * time.Minute
)

// ReasonSuccessPolicy is the reason of SuccessCriteriaMet and Complete
// when a rule of the job's successPolicy matched.
const ReasonSuccessPolicy = "SuccessPolicy"

// BackoffDelay is how long after its last failure a job (or an index)
// that has seen failures consecutive failed pods waits before it creates
// a replacement, as Kubernetes computes it: base after the first
// failure, doubling with each further one, capped at maxDelay, less the
// time already passed since the last failure; 0 once that time is up or
// with no failure.
func BackoffDelay(failures int32, lastFailure, now time.Time, base, maxDelay time.Duration) time.Duration {
	if failures <= 0 {
		return 0
	}
	d := base
	for i := int32(1); i < failures && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	if passed := now.Sub(lastFailure); passed < d {
		return d - passed
	}
	return 0
}

// finishTime is when a pod ended, as Kubernetes reads it: the latest end
// of its containers, else the time its Ready condition turned false, else
// its deletion time, else its creation time.
func finishTime(p *api.Pod) time.Time {
	var t time.Time
	for _, list := range [][]api.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range list {
			if term := cs.State.Terminated; term != nil && term.FinishedAt.After(t) {
				t = term.FinishedAt.Time
			}
		}
	}
	if !t.IsZero() {
		return t
	}
	for _, c := range p.Status.Conditions {
		if c.Type == api.PodReady && c.Status == api.ConditionFalse && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.Time
		}
	}
	if p.DeletionTimestamp != nil {
		return p.DeletionTimestamp.Time
	}
	return p.CreationTimestamp.Time
}

// replacementDelay is the job-level delay before new pods: failed pods
// (not ignored by the pod failure policy) since the last success, timed
// from the last of them.
func (s *state) replacementDelay(base, maxDelay time.Duration) time.Duration {
	type end struct {
		at     time.Time
		failed bool
	}
	var ends []end
	for _, p := range s.pods {
		switch {
		case p.Status.Phase == api.PodSucceeded:
			ends = append(ends, end{finishTime(p), false})
		case isFailed(p) && !s.ignoredFailure(p):
			ends = append(ends, end{finishTime(p), true})
		}
	}
	slices.SortStableFunc(ends, func(a, b end) int { return a.at.Compare(b.at) })
	var failures int32
	var last time.Time
	for _, e := range ends {
		if !e.failed {
			failures = 0
			continue
		}
		failures++
		last = e.at
	}
	return BackoffDelay(failures, last, s.now, base, maxDelay)
}

// indexDelays is, with backoffLimitPerIndex, each index's delay before
// its next pod: from its failure count (the last failed pod's annotation
// plus that pod) and the end of its last failed pod.
func (s *state) indexDelays(base, maxDelay time.Duration) map[int32]time.Duration {
	last := map[int32]*api.Pod{}
	for _, p := range s.pods {
		i := podIndex(p, s)
		if i < 0 || !isFailed(p) || s.ignoredFailure(p) {
			continue
		}
		if q, ok := last[i]; !ok || finishTime(p).After(finishTime(q)) {
			last[i] = p
		}
	}
	out := map[int32]time.Duration{}
	for i, p := range last {
		if d := BackoffDelay(indexFailures(p)+1, finishTime(p), s.now, base, maxDelay); d > 0 {
			out[i] = d
		}
	}
	return out
}

func (s *state) ignoredFailure(p *api.Pod) bool {
	r := matchPolicy(s.job.Spec.PodFailurePolicy, p)
	return r != nil && r.Action == batch.PodFailurePolicyActionIgnore
}

// delayCreates drops the pods that may not be created yet and returns
// the shortest delay among them (0: none held back).
func (s *state) delayCreates(create []*api.Pod, base, maxDelay time.Duration) ([]*api.Pod, time.Duration) {
	if len(create) == 0 {
		return nil, 0
	}
	if s.job.Spec.BackoffLimitPerIndex == nil {
		if d := s.replacementDelay(base, maxDelay); d > 0 {
			return nil, d
		}
		return create, 0
	}
	delays := s.indexDelays(base, maxDelay)
	var keep []*api.Pod
	var wait time.Duration
	for _, p := range create {
		i := podIndex(p, s)
		if d := delays[i]; d > 0 {
			if wait == 0 || d < wait {
				wait = d
			}
			continue
		}
		keep = append(keep, p)
	}
	return keep, wait
}

// matchSuccessPolicy returns the index of the first rule of an indexed
// job's successPolicy that the completed indexes satisfy, or -1, as
// Kubernetes decides: a rule with succeededIndexes needs all of them
// completed, or succeededCount of them if it sets that; a rule with only
// succeededCount needs that many completed indexes.
func (s *state) matchSuccessPolicy(completed []int32) int {
	pol := s.job.Spec.SuccessPolicy
	if pol == nil || !s.indexed() {
		return -1
	}
	for i, r := range pol.Rules {
		n := int32(len(completed))
		if r.SucceededIndexes != nil {
			want, err := ParseIndexes(*r.SucceededIndexes, s.completions())
			if err != nil {
				continue // the apiserver validates the rules
			}
			n = 0
			for _, x := range want {
				if slices.Contains(completed, x) {
					n++
				}
			}
			if r.SucceededCount == nil {
				if n == int32(len(want)) && n > 0 {
					return i
				}
				continue
			}
		}
		if r.SucceededCount != nil && n >= *r.SucceededCount {
			return i
		}
	}
	return -1
}
