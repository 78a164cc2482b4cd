package cronjob_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/batch"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/examples/controllers/cronjob"
	"github.com/setpoint-dev/setpoint/store"
)

// env runs an apiserver and a cron job controller (with events) on a
// fake clock. No job controller runs: the test ends jobs itself.
func env(t *testing.T) (*client.Clientset, *clockwork.FakeClock) {
	t.Helper()
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	clk := clockwork.NewFakeClockAt(time.Now())
	rec, err := controllerutil.NewRecorder(controllerutil.RecorderConfig{Client: cs.Events(), Component: "cronjob-controller", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	c, err := cronjob.New(cronjob.Config{Client: cs, Clock: clk, Recorder: rec, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "recorder", rec.Run)
	controllertest.Go(t, "cronjob controller", c.Run)
	return cs, clk
}

func newCronJob(name string, policy batch.ConcurrencyPolicy) *batch.CronJob {
	cj := &batch.CronJob{}
	cj.Namespace, cj.Name = "default", name
	cj.Spec.Schedule = "* * * * *"
	cj.Spec.ConcurrencyPolicy = policy
	cj.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = api.RestartPolicyNever
	cj.Spec.JobTemplate.Spec.Template.Spec.Containers = []api.Container{{Name: "c", Image: "busybox"}}
	return cj
}

// jobsOf lists cj's live jobs (not being deleted) by scheduled time.
func jobsOf(ctx context.Context, cs *client.Clientset, cj *batch.CronJob) ([]*batch.Job, error) {
	l, err := cs.Jobs().List(ctx, cj.Namespace, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []*batch.Job
	for _, j := range l.Items {
		if ref := j.ControllerOf(); ref != nil && ref.UID == cj.UID && j.DeletionTimestamp == nil {
			out = append(out, j)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out, nil
}

// scheduledAt reads a job's scheduled time.
func scheduledAt(t *testing.T, j *batch.Job) time.Time {
	v, err := time.Parse(time.RFC3339, j.Annotations[cronjob.ScheduledTimeAnnotation])
	if err != nil {
		t.Fatalf("job %s: scheduled time: %v", j.Name, err)
	}
	return v
}

// advanceUntil moves the fake clock a second at a time until cond holds.
func advanceUntil(t *testing.T, clk *clockwork.FakeClock, what string, cond func() error) {
	t.Helper()
	controllertest.Eventually(t, what, func() error {
		err := cond()
		if err != nil {
			clk.Advance(time.Second)
		}
		return err
	})
}

func nJobs(ctx context.Context, cs *client.Clientset, cj *batch.CronJob, n int, out *[]*batch.Job) func() error {
	return func() error {
		js, err := jobsOf(ctx, cs, cj)
		if err != nil {
			return err
		}
		*out = js
		if len(js) != n {
			return fmt.Errorf("%d jobs, want %d", len(js), n)
		}
		return nil
	}
}

func complete(ctx context.Context, cs *client.Clientset, j *batch.Job, at time.Time) error {
	j = j.DeepCopy()
	now := store.NewTime(at)
	j.Status.StartTime, j.Status.CompletionTime = &now, &now
	j.Status.Succeeded = 1
	j.Status.Conditions = []batch.JobCondition{
		{Type: batch.JobSuccessCriteriaMet, Status: api.ConditionTrue, LastTransitionTime: now, LastProbeTime: now},
		{Type: batch.JobComplete, Status: api.ConditionTrue, LastTransitionTime: now, LastProbeTime: now}}
	_, err := cs.Jobs().UpdateStatus(ctx, j)
	return err
}

// TestForbid: the first job starts at the first whole minute after
// creation, named after that minute; while it runs the next minute starts
// nothing (the controller says JobAlreadyActive); once it completes the
// missed minute runs, lastSuccessfulTime is set, and with
// successfulJobsHistoryLimit 1 the first job goes when the second completes.
func TestForbid(t *testing.T) {
	ctx := context.Background()
	cs, clk := env(t)
	ncj := newCronJob("forbid", batch.ForbidConcurrent)
	ncj.Spec.SuccessfulJobsHistoryLimit = new(int32)
	*ncj.Spec.SuccessfulJobsHistoryLimit = 1
	cj, err := cs.CronJobs().Create(ctx, ncj)
	if err != nil {
		t.Fatal(err)
	}
	var jobs []*batch.Job
	advanceUntil(t, clk, "first job", nJobs(ctx, cs, cj, 1, &jobs))
	first := scheduledAt(t, jobs[0])
	if first.Second() != 0 || !first.After(cj.CreationTimestamp.Add(-time.Second)) || first.After(clk.Now()) {
		t.Fatalf("first job scheduled at %v (created %v, now %v)", first, cj.CreationTimestamp, clk.Now())
	}
	if jobs[0].Name != fmt.Sprintf("forbid-%d", first.Unix()/60) {
		t.Errorf("job name %s, want forbid-<minutes>", jobs[0].Name)
	}
	// The next minute: refused while the first runs.
	advanceUntil(t, clk, "JobAlreadyActive event", func() error {
		if clk.Now().Before(first.Add(time.Minute)) {
			return errors.New("before the next minute")
		}
		l, err := cs.Events().List(ctx, "default", store.ListOptions{})
		if err != nil {
			return err
		}
		for _, e := range l.Items {
			if e.Reason == cronjob.ReasonJobAlreadyActive && e.InvolvedObject.UID == cj.UID {
				return nil
			}
		}
		return errors.New("no JobAlreadyActive event")
	})
	if js, _ := jobsOf(ctx, cs, cj); len(js) != 1 {
		t.Fatalf("%d jobs while the first runs under Forbid", len(js))
	}
	if err := complete(ctx, cs, jobs[0], clk.Now()); err != nil {
		t.Fatal(err)
	}
	advanceUntil(t, clk, "second job", nJobs(ctx, cs, cj, 2, &jobs))
	if got := scheduledAt(t, jobs[1]); !got.Equal(first.Add(time.Minute)) {
		t.Errorf("second job scheduled at %v, want the missed minute %v", got, first.Add(time.Minute))
	}
	controllertest.Eventually(t, "lastSuccessfulTime", func() error {
		cur, err := cs.CronJobs().Get(ctx, cj.Namespace, cj.Name)
		if err != nil {
			return err
		}
		if cur.Status.LastSuccessfulTime == nil || len(cur.Status.Active) != 1 || cur.Status.Active[0].UID != jobs[1].UID {
			return fmt.Errorf("status %+v", cur.Status)
		}
		return nil
	})
	if err := complete(ctx, cs, jobs[1], clk.Now()); err != nil {
		t.Fatal(err)
	}
	second := jobs[1].UID
	controllertest.Eventually(t, "history limit keeps the newest", func() error {
		js, err := jobsOf(ctx, cs, cj)
		if err != nil {
			return err
		}
		if len(js) == 0 || js[0].UID != second {
			return fmt.Errorf("%d jobs", len(js))
		}
		return nil
	})
}

// TestReplace: at the next minute the running job is deleted and a new
// one replaces it.
func TestReplace(t *testing.T) {
	ctx := context.Background()
	cs, clk := env(t)
	cj, err := cs.CronJobs().Create(ctx, newCronJob("replace", batch.ReplaceConcurrent))
	if err != nil {
		t.Fatal(err)
	}
	var jobs []*batch.Job
	advanceUntil(t, clk, "first job", nJobs(ctx, cs, cj, 1, &jobs))
	first := jobs[0]
	advanceUntil(t, clk, "replaced", func() error {
		if err := nJobs(ctx, cs, cj, 1, &jobs)(); err != nil {
			return err
		}
		if jobs[0].UID == first.UID {
			return errors.New("not replaced yet")
		}
		return nil
	})
	if got := scheduledAt(t, jobs[0]); !got.Equal(scheduledAt(t, first).Add(time.Minute)) {
		t.Errorf("replacement scheduled at %v, want a minute after %v", got, scheduledAt(t, first))
	}
}

// TestStartingDeadline: a cron job unsuspended 30 s after a schedule time
// with startingDeadlineSeconds 10 skips that time; the next one runs.
func TestStartingDeadline(t *testing.T) {
	ctx := context.Background()
	cs, clk := env(t)
	ncj := newCronJob("late", batch.AllowConcurrent)
	ncj.Spec.StartingDeadlineSeconds = new(int64)
	*ncj.Spec.StartingDeadlineSeconds = 10
	ncj.Spec.Suspend = new(bool)
	*ncj.Spec.Suspend = true
	cj, err := cs.CronJobs().Create(ctx, ncj)
	if err != nil {
		t.Fatal(err)
	}
	// Move to 30 s past the next whole minute.
	now := clk.Now()
	missed := now.Truncate(time.Minute).Add(time.Minute)
	clk.Advance(missed.Add(30 * time.Second).Sub(now))
	cj.Spec.Suspend = new(bool)
	if cj, err = cs.CronJobs().Update(ctx, cj); err != nil {
		t.Fatal(err)
	}
	var jobs []*batch.Job
	advanceUntil(t, clk, "a job", nJobs(ctx, cs, cj, 1, &jobs))
	if got := scheduledAt(t, jobs[0]); !got.Equal(missed.Add(time.Minute)) {
		t.Errorf("job scheduled at %v, want %v (the %v start was past its deadline)", got, missed.Add(time.Minute), missed)
	}
}

// TestInvalidSchedule: a schedule that does not parse is refused with 422
// naming spec.schedule; nothing is stored.
func TestInvalidSchedule(t *testing.T) {
	ctx := context.Background()
	cs, _ := env(t)
	for _, sched := range []string{"* * *", "61 * * * *", "@sometimes", "TZ=UTC * * * * *"} {
		cj := newCronJob("bad", batch.AllowConcurrent)
		cj.Spec.Schedule = sched
		_, err := cs.CronJobs().Create(ctx, cj)
		if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "spec.schedule") {
			t.Errorf("%q: %v, want 422 naming spec.schedule", sched, err)
		}
	}
	if l, _ := cs.CronJobs().List(ctx, "default", store.ListOptions{}); len(l.Items) != 0 {
		t.Errorf("%d cron jobs stored", len(l.Items))
	}
}
