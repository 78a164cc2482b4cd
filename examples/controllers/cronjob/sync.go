package cronjob

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/batch"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// Event reasons, as Kubernetes' cronjob controller emits them.
const (
	ReasonSuccessfulCreate  = "SuccessfulCreate"
	ReasonSuccessfulDelete  = "SuccessfulDelete"
	ReasonMissSchedule      = "MissSchedule"
	ReasonTooManyMissed     = "TooManyMissedTimes"
	ReasonJobAlreadyActive  = "JobAlreadyActive"
	ReasonUnparseable       = "UnparseableSchedule"
	ReasonSawCompletedJob   = "SawCompletedJob"
	ScheduledTimeAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp"
	// maxMissed is how many missed start times Kubernetes tolerates before
	// it reports the cron job as too far behind.
	maxMissed = 100
)

func (c *Controller) sync(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	cj, ok := c.cjs.Get(req.Namespace, req.Name)
	if !ok || cj.DeletionTimestamp != nil {
		return reconcile.Result{}, nil
	}
	now := c.cfg.Clock.Now()
	jobs, _ := c.jobs.ByIndex(jobsByController, cj.UID)
	st := *cj.Status.DeepCopy()

	// Active list and lastSuccessfulTime from the child jobs.
	var finishedOK, finishedBad []*batch.Job
	st.Active = slices.DeleteFunc(st.Active, func(r api.ObjectReference) bool {
		return !slices.ContainsFunc(jobs, func(j *batch.Job) bool { return j.UID == r.UID && finished(j) == "" })
	})
	for _, j := range jobs {
		switch finished(j) {
		case "":
			if !slices.ContainsFunc(st.Active, func(r api.ObjectReference) bool { return r.UID == j.UID }) && j.DeletionTimestamp == nil {
				st.Active = append(st.Active, controllerutil.Ref(j, batch.JobResource))
			}
		case batch.JobComplete:
			finishedOK = append(finishedOK, j)
			if ct := j.Status.CompletionTime; ct != nil && (st.LastSuccessfulTime == nil || ct.After(st.LastSuccessfulTime.Time)) {
				t := *ct
				st.LastSuccessfulTime = &t
			}
		default:
			finishedBad = append(finishedBad, j)
		}
	}
	if len(st.Active) == 0 {
		st.Active = nil
	}
	// History limits (the oldest finished jobs go first).
	var errs []error
	errs = append(errs, c.trim(ctx, cj, finishedOK, cj.Spec.SuccessfulJobsHistoryLimit))
	errs = append(errs, c.trim(ctx, cj, finishedBad, cj.Spec.FailedJobsHistoryLimit))

	res, err := c.schedule(ctx, cj, jobs, &st, now)
	errs = append(errs, err)
	if !reflect.DeepEqual(st, cj.Status) {
		next := cj.DeepCopy()
		next.Status = st
		if _, err := c.cfg.Client.CronJobs().UpdateStatus(ctx, next); err != nil {
			errs = append(errs, fmt.Errorf("update status of cronjob %s/%s: %w", cj.Namespace, cj.Name, err))
		}
	}
	return res, errors.Join(errs...)
}

// schedule starts the job of the latest unmet schedule time if the rules
// allow, and returns when to look again.
func (c *Controller) schedule(ctx context.Context, cj *batch.CronJob, jobs []*batch.Job, st *batch.CronJobStatus, now time.Time) (reconcile.Result, error) {
	if cj.Spec.Suspend != nil && *cj.Spec.Suspend {
		return reconcile.Result{}, nil
	}
	loc := c.cfg.Location
	if tz := cj.Spec.TimeZone; tz != nil {
		l, err := time.LoadLocation(*tz)
		if err != nil {
			c.cfg.Recorder.Eventf(ctx, cj, batch.CronJobResource, controllerutil.EventWarning, "UnknownTimeZone", "invalid timeZone: %q: %v", *tz, err)
			return reconcile.Result{}, nil
		}
		loc = l
	}
	sched, err := cron.ParseStandard(cj.Spec.Schedule)
	if err != nil {
		// The apiserver refuses these; one stored earlier is reported.
		c.cfg.Recorder.Eventf(ctx, cj, batch.CronJobResource, controllerutil.EventWarning, ReasonUnparseable, "unparseable schedule: %q : %v", cj.Spec.Schedule, err)
		return reconcile.Result{}, nil
	}
	earliest := cj.CreationTimestamp.Time
	if st.LastScheduleTime != nil {
		earliest = st.LastScheduleTime.Time
	}
	// The cron job in the cache may predate the status write that
	// recorded the last start; its jobs say when they were scheduled.
	for _, j := range jobs {
		if t, err := time.Parse(time.RFC3339, j.Annotations[ScheduledTimeAnnotation]); err == nil && t.After(earliest) {
			earliest = t
		}
	}
	if d := cj.Spec.StartingDeadlineSeconds; d != nil {
		if from := now.Add(-time.Duration(*d) * time.Second); from.After(earliest) {
			earliest = from
		}
	}
	scheduled, missed := mostRecent(sched, earliest.In(loc), now.In(loc))
	nextRun := reconcile.Result{RequeueAfter: max(sched.Next(now.In(loc)).Sub(now), time.Millisecond)}
	if scheduled.IsZero() {
		return nextRun, nil
	}
	if missed > maxMissed {
		c.cfg.Recorder.Eventf(ctx, cj, batch.CronJobResource, controllerutil.EventWarning, ReasonTooManyMissed,
			"too many missed start times: %d. Set or decrease .spec.startingDeadlineSeconds or check clock skew", missed)
	}
	if d := cj.Spec.StartingDeadlineSeconds; d != nil && scheduled.Add(time.Duration(*d)*time.Second).Before(now) {
		c.cfg.Recorder.Eventf(ctx, cj, batch.CronJobResource, controllerutil.EventWarning, ReasonMissSchedule,
			"Missed scheduled time to start a job: %s", scheduled.UTC().Format(time.RFC1123Z))
		return nextRun, nil
	}
	switch {
	case cj.Spec.ConcurrencyPolicy == batch.ForbidConcurrent && len(st.Active) > 0:
		// Not now; the schedule time stays unmet until the active job ends
		// (or its starting deadline passes).
		c.cfg.Recorder.Eventf(ctx, cj, batch.CronJobResource, controllerutil.EventNormal, ReasonJobAlreadyActive, "Not starting job because prior execution is running and concurrency policy is Forbid")
		return nextRun, nil
	case cj.Spec.ConcurrencyPolicy == batch.ReplaceConcurrent:
		for _, r := range st.Active {
			if err := c.deleteJob(ctx, cj, r.Name, r.UID); err != nil {
				return reconcile.Result{}, err
			}
		}
		st.Active = nil
	}
	j := jobFor(cj, scheduled)
	out, err := c.cfg.Client.Jobs().Create(ctx, j)
	switch {
	case errors.Is(err, store.ErrAlreadyExists):
		// Created by an earlier sync whose status write was lost: adopt
		// its time if it is ours.
		got, gerr := c.cfg.Client.Jobs().Get(ctx, j.Namespace, j.Name)
		if gerr != nil {
			return reconcile.Result{}, gerr
		}
		if ref := got.ControllerOf(); ref == nil || ref.UID != cj.UID {
			return reconcile.Result{}, fmt.Errorf("cronjob %s/%s: job %s exists and is not controlled by it", cj.Namespace, cj.Name, j.Name)
		}
		out = got
	case err != nil:
		c.cfg.Recorder.Eventf(ctx, cj, batch.CronJobResource, controllerutil.EventWarning, "FailedCreate", "Error creating job: %v", err)
		return reconcile.Result{}, err
	default:
		c.cfg.Recorder.Eventf(ctx, cj, batch.CronJobResource, controllerutil.EventNormal, ReasonSuccessfulCreate, "Created job %s", out.Name)
	}
	if finished(out) == "" && !slices.ContainsFunc(st.Active, func(r api.ObjectReference) bool { return r.UID == out.UID }) {
		st.Active = append(st.Active, controllerutil.Ref(out, batch.JobResource))
	}
	t := store.NewTime(scheduled)
	st.LastScheduleTime = &t
	return nextRun, nil
}

// mostRecent returns the latest schedule time in (earliest, now] and how
// many there are (counting stops a little past maxMissed).
func mostRecent(s cron.Schedule, earliest, now time.Time) (time.Time, int) {
	var last time.Time
	n := 0
	for t := s.Next(earliest); !t.After(now); t = s.Next(t) {
		last = t
		if n++; n > maxMissed {
			// Too many to walk: the latest time is found in a window
			// before now, widened until it holds one.
			for _, back := range []time.Duration{25 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour, 5 * 367 * 24 * time.Hour} {
				from := now.Add(-back)
				if from.Before(last) {
					from = last
				}
				found := false
				for u := s.Next(from); !u.After(now); u = s.Next(u) {
					last, found = u, true
				}
				if found {
					break
				}
			}
			break
		}
	}
	return last, n
}

// jobFor returns the job of cj for the schedule time t: named
// "<cronjob>-<minutes since the epoch>", as Kubernetes names them.
func jobFor(cj *batch.CronJob, t time.Time) *batch.Job {
	tmpl := cj.Spec.JobTemplate.DeepCopy()
	j := &batch.Job{}
	j.Namespace = cj.Namespace
	j.Name = fmt.Sprintf("%s-%d", cj.Name, t.Unix()/60)
	j.Labels = tmpl.Labels
	j.Annotations = tmpl.Annotations
	if j.Annotations == nil {
		j.Annotations = map[string]string{}
	}
	j.Annotations[ScheduledTimeAnnotation] = t.Format(time.RFC3339)
	j.OwnerReferences = []store.OwnerReference{controllerutil.ControllerRef(cj, batch.CronJobResource)}
	j.Spec = tmpl.Spec
	return j
}

// finished returns the job's Complete or Failed condition type, or "".
func finished(j *batch.Job) batch.JobConditionType {
	for _, c := range j.Status.Conditions {
		if (c.Type == batch.JobComplete || c.Type == batch.JobFailed) && c.Status == api.ConditionTrue {
			return c.Type
		}
	}
	return ""
}

// trim deletes the oldest of finished jobs beyond limit (nil: keep all).
func (c *Controller) trim(ctx context.Context, cj *batch.CronJob, jobs []*batch.Job, limit *int32) error {
	if limit == nil || len(jobs) <= int(*limit) {
		return nil
	}
	slices.SortFunc(jobs, func(a, b *batch.Job) int {
		return jobStart(a).Compare(jobStart(b))
	})
	var errs []error
	for _, j := range jobs[:len(jobs)-int(*limit)] {
		errs = append(errs, c.deleteJob(ctx, cj, j.Name, j.UID))
	}
	return errors.Join(errs...)
}

func jobStart(j *batch.Job) time.Time {
	if j.Status.StartTime != nil {
		return j.Status.StartTime.Time
	}
	return j.CreationTimestamp.Time
}

// deleteJob deletes a child job with background propagation (its pods go
// too) and a UID precondition.
func (c *Controller) deleteJob(ctx context.Context, cj *batch.CronJob, name, uid string) error {
	bg := "Background"
	err := c.cfg.Client.Jobs().Call(ctx, "DELETE", cj.Namespace, name, "", nil,
		rest.DeleteOptions{Kind: "DeleteOptions", APIVersion: "v1", PropagationPolicy: &bg, Preconditions: &rest.Preconditions{UID: &uid}}, nil)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete job %s/%s: %w", cj.Namespace, name, err)
	}
	if err == nil {
		c.cfg.Recorder.Eventf(ctx, cj, batch.CronJobResource, controllerutil.EventNormal, ReasonSuccessfulDelete, "Deleted job %s", name)
	}
	return nil
}
