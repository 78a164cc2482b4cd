package job_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/batch"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/job"
	"github.com/setpoint-dev/setpoint/store"
)

// env runs an apiserver and a job controller on clk. The test plays the
// kubelet: it ends pods by writing their status.
func env(t *testing.T, clk clockwork.Clock) *client.Clientset {
	t.Helper()
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	cfg := job.Config{Client: cs, Clock: clk}
	if clk == nil {
		// The real-clock cases replace failed pods almost at once.
		cfg.PodFailureBackoff = time.Millisecond
	}
	c, err := job.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "job controller", c.Run)
	return cs
}

func ptr[T any](v T) *T { return &v }

func newJob(name string, completions, parallelism int32) *batch.Job {
	j := &batch.Job{}
	j.Namespace, j.Name = "default", name
	j.Spec.Completions, j.Spec.Parallelism = &completions, &parallelism
	j.Spec.Template.Spec.RestartPolicy = api.RestartPolicyNever
	j.Spec.Template.Spec.Containers = []api.Container{{Name: "c", Image: "busybox"}}
	return j
}

// podsOf lists the pods the job controls, sorted by name.
func podsOf(ctx context.Context, cs *client.Clientset, j *batch.Job) ([]*api.Pod, error) {
	l, err := cs.Pods().List(ctx, j.Namespace, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []*api.Pod
	for _, p := range l.Items {
		if ref := p.ControllerOf(); ref != nil && ref.UID == j.UID {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out, nil
}

func running(pods []*api.Pod) []*api.Pod {
	var out []*api.Pod
	for _, p := range pods {
		if p.Status.Phase != api.PodSucceeded && p.Status.Phase != api.PodFailed && p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

// end writes a terminal status for p, as a kubelet would: exit code 0
// succeeds, any other fails.
func end(ctx context.Context, cs *client.Clientset, p *api.Pod, code int32) error {
	p = p.DeepCopy()
	p.Status.Phase = api.PodSucceeded
	if code != 0 {
		p.Status.Phase = api.PodFailed
	}
	p.Status.ContainerStatuses = []api.ContainerStatus{{Name: "c", State: api.ContainerState{Terminated: &api.ContainerStateTerminated{ExitCode: code}}}}
	_, err := cs.Pods().UpdateStatus(ctx, p)
	return err
}

func getJob(ctx context.Context, cs *client.Clientset, j *batch.Job) (*batch.Job, error) {
	return cs.Jobs().Get(ctx, j.Namespace, j.Name)
}

func condition(j *batch.Job, t batch.JobConditionType) *batch.JobCondition {
	for i := range j.Status.Conditions {
		if c := &j.Status.Conditions[i]; c.Type == t && c.Status == api.ConditionTrue {
			return c
		}
	}
	return nil
}

// waitFinished waits for the job's Complete or Failed condition.
func waitFinished(t *testing.T, cs *client.Clientset, j *batch.Job, want batch.JobConditionType) *batch.Job {
	t.Helper()
	var cur *batch.Job
	controllertest.Eventually(t, fmt.Sprintf("job %s %s", j.Name, want), func() error {
		var err error
		if cur, err = getJob(context.Background(), cs, j); err != nil {
			return err
		}
		if condition(cur, want) == nil {
			return fmt.Errorf("conditions %+v, status %+v", cur.Status.Conditions, cur.Status)
		}
		return nil
	})
	return cur
}

// TestJobs runs the real-clock cases against one apiserver and
// controller (each with its own job).
func TestJobs(t *testing.T) {
	cs := env(t, nil)
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *client.Clientset)
	}{
		{"CompletionsAndParallelism", testCompletionsAndParallelism}, {"BackoffLimit", testBackoffLimit},
		{"Indexed", testIndexed}, {"PodFailurePolicy", testPodFailurePolicy}, {"InvalidJob", testInvalidJob}, {"SuccessPolicy", testSuccessPolicy},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, cs) })
	}
}

// testCompletionsAndParallelism: a job of 5 completions, 2 at a time,
// never runs more than 2 pods, creates exactly 5 (all succeed), counts
// them, drops every tracking finalizer and completes with
// SuccessCriteriaMet first and Complete after it.
func testCompletionsAndParallelism(t *testing.T, cs *client.Clientset) {
	ctx := context.Background()
	j, err := cs.Jobs().Create(ctx, newJob("five", 5, 2))
	if err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "all pods run and succeed", func() error {
		pods, err := podsOf(ctx, cs, j)
		if err != nil {
			return err
		}
		r := running(pods)
		if len(r) > 2 {
			t.Fatalf("%d pods running at once, parallelism 2", len(r))
		}
		for _, p := range r {
			if err := end(ctx, cs, p, 0); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
		}
		if len(pods)-len(r) < 5 {
			return fmt.Errorf("%d pods ended", len(pods)-len(r))
		}
		return nil
	})
	cur := waitFinished(t, cs, j, batch.JobComplete)
	if cur.Status.Succeeded != 5 || cur.Status.Failed != 0 || cur.Status.Active != 0 || cur.Status.CompletionTime == nil {
		t.Errorf("status %+v, want 5 succeeded, none failed or active, a completion time", cur.Status)
	}
	if condition(cur, batch.JobSuccessCriteriaMet) == nil {
		t.Errorf("no SuccessCriteriaMet condition: %+v", cur.Status.Conditions)
	}
	pods, err := podsOf(ctx, cs, j)
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 5 {
		t.Errorf("%d pods created, want 5", len(pods))
	}
	for _, p := range pods {
		if slices.Contains(p.Finalizers, job.TrackingFinalizer) {
			t.Errorf("pod %s still holds %s", p.Name, job.TrackingFinalizer)
		}
	}
}

// testBackoffLimit: every pod fails; with backoffLimit 2 the job makes
// three pods, then fails with BackoffLimitExceeded and counts 3 failures.
func testBackoffLimit(t *testing.T, cs *client.Clientset) {
	ctx := context.Background()
	nj := newJob("flaky", 1, 1)
	nj.Spec.BackoffLimit = ptr(int32(2))
	j, err := cs.Jobs().Create(ctx, nj)
	if err != nil {
		t.Fatal(err)
	}
	failAll(t, cs, j, 1)
	cur := waitFinished(t, cs, j, batch.JobFailed)
	if c := condition(cur, batch.JobFailed); c.Reason != job.ReasonBackoffLimitExceeded {
		t.Errorf("Failed reason %q, want %q", c.Reason, job.ReasonBackoffLimitExceeded)
	}
	if cur.Status.Failed != 3 || cur.Status.Succeeded != 0 {
		t.Errorf("failed %d succeeded %d, want 3 and 0", cur.Status.Failed, cur.Status.Succeeded)
	}
	pods, _ := podsOf(ctx, cs, j)
	if len(pods) != 3 {
		t.Errorf("%d pods, want 3 (1 + backoffLimit retries)", len(pods))
	}
}

// failAll fails each running pod of j with code until j finishes.
func failAll(t *testing.T, cs *client.Clientset, j *batch.Job, code int32) {
	t.Helper()
	ctx := context.Background()
	controllertest.Eventually(t, "pods fail until the job ends", func() error {
		cur, err := getJob(ctx, cs, j)
		if err != nil {
			return err
		}
		if condition(cur, batch.JobFailed) != nil || condition(cur, batch.JobComplete) != nil {
			return nil
		}
		pods, err := podsOf(ctx, cs, j)
		if err != nil {
			return err
		}
		for _, p := range running(pods) {
			if err := end(ctx, cs, p, code); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
		}
		return errors.New("not finished")
	})
}

// testIndexed: an Indexed job runs one pod per index with the index in
// its annotation, label, hostname and JOB_COMPLETION_INDEX; a failed index
// is retried; completedIndexes lists them all at the end.
func testIndexed(t *testing.T, cs *client.Clientset) {
	ctx := context.Background()
	nj := newJob("idx", 3, 3)
	nj.Spec.CompletionMode = ptr(batch.IndexedCompletion)
	j, err := cs.Jobs().Create(ctx, nj)
	if err != nil {
		t.Fatal(err)
	}
	failedOnce := false
	controllertest.Eventually(t, "indexes run", func() error {
		pods, err := podsOf(ctx, cs, j)
		if err != nil {
			return err
		}
		r := running(pods)
		if len(r) < 3 && !failedOnce {
			return fmt.Errorf("%d running", len(r))
		}
		for _, p := range r {
			idx := p.Annotations[batch.JobCompletionIndexAnnotation]
			if p.Labels[job.CompletionIndexLabel] != idx || p.Spec.Hostname != "idx-"+idx || !strings.HasPrefix(p.Name, "idx-"+idx+"-") {
				t.Fatalf("pod %s: index %q, label %q, hostname %q", p.Name, idx, p.Labels[job.CompletionIndexLabel], p.Spec.Hostname)
			}
			env := p.Spec.Containers[0].Env
			if len(env) != 1 || env[0].Name != job.CompletionIndexEnv || env[0].ValueFrom == nil || env[0].ValueFrom.FieldRef == nil {
				t.Fatalf("pod %s env %+v", p.Name, env)
			}
			code := int32(0)
			if idx == "1" && !failedOnce {
				code, failedOnce = 7, true
			}
			if err := end(ctx, cs, p, code); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
		}
		cur, err := getJob(ctx, cs, j)
		if err != nil {
			return err
		}
		if condition(cur, batch.JobComplete) == nil {
			return fmt.Errorf("status %+v", cur.Status)
		}
		return nil
	})
	cur := waitFinished(t, cs, j, batch.JobComplete)
	if cur.Status.CompletedIndexes != "0-2" || cur.Status.Succeeded != 3 || cur.Status.Failed != 1 {
		t.Errorf("completedIndexes %q succeeded %d failed %d, want 0-2, 3, 1", cur.Status.CompletedIndexes, cur.Status.Succeeded, cur.Status.Failed)
	}
}

// testPodFailurePolicy: exit code 42 is ignored (not counted, the pod is
// replaced) and exit code 3 fails the job at once, despite backoffLimit 6.
func testPodFailurePolicy(t *testing.T, cs *client.Clientset) {
	ctx := context.Background()
	nj := newJob("policy", 1, 1)
	nj.Spec.BackoffLimit = ptr(int32(6))
	nj.Spec.PodFailurePolicy = &batch.PodFailurePolicy{Rules: []batch.PodFailurePolicyRule{
		{Action: batch.PodFailurePolicyActionIgnore, OnExitCodes: &batch.PodFailurePolicyOnExitCodesRequirement{Operator: batch.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}}},
		{Action: batch.PodFailurePolicyActionFailJob, OnExitCodes: &batch.PodFailurePolicyOnExitCodesRequirement{Operator: batch.PodFailurePolicyOnExitCodesOpIn, Values: []int32{3}}},
	}}
	j, err := cs.Jobs().Create(ctx, nj)
	if err != nil {
		t.Fatal(err)
	}
	var first *api.Pod
	controllertest.Eventually(t, "first pod", func() error {
		pods, err := podsOf(ctx, cs, j)
		if err != nil || len(pods) == 0 {
			return fmt.Errorf("no pod yet (%v)", err)
		}
		first = pods[0]
		return nil
	})
	if err := end(ctx, cs, first, 42); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "ignored failure replaced", func() error {
		pods, err := podsOf(ctx, cs, j)
		if err != nil {
			return err
		}
		if len(running(pods)) != 1 {
			return fmt.Errorf("%d running", len(running(pods)))
		}
		return nil
	})
	failAll(t, cs, j, 3)
	cur := waitFinished(t, cs, j, batch.JobFailed)
	if c := condition(cur, batch.JobFailed); c.Reason != job.ReasonPodFailurePolicy {
		t.Errorf("Failed reason %q, want PodFailurePolicy", c.Reason)
	}
	if condition(cur, batch.JobFailureTarget) == nil {
		t.Errorf("no FailureTarget condition: %+v", cur.Status.Conditions)
	}
	if cur.Status.Failed != 1 {
		t.Errorf("failed %d, want 1 (exit 42 is ignored)", cur.Status.Failed)
	}
}

// TestDeadlineAndTTL, on a fake clock: a job past activeDeadlineSeconds
// fails with DeadlineExceeded and its pod is deleted; then it is deleted
// itself, not before ttlSecondsAfterFinished.
func TestDeadlineAndTTL(t *testing.T) {
	ctx := context.Background()
	clk := clockwork.NewFakeClockAt(time.Now())
	cs := env(t, clk)
	nj := newJob("slow", 1, 1)
	nj.Spec.ActiveDeadlineSeconds = ptr(int64(30))
	nj.Spec.TTLSecondsAfterFinished = ptr(int32(100))
	j, err := cs.Jobs().Create(ctx, nj)
	if err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "pod started", func() error {
		pods, err := podsOf(ctx, cs, j)
		if err != nil || len(running(pods)) != 1 {
			return fmt.Errorf("no running pod (%v)", err)
		}
		return nil
	})
	start := clk.Now()
	cur := func() *batch.Job {
		var cur *batch.Job
		controllertest.Eventually(t, "deadline", func() error {
			clk.Advance(time.Second)
			var err error
			if cur, err = getJob(ctx, cs, j); err != nil {
				return err
			}
			if condition(cur, batch.JobFailed) == nil {
				return fmt.Errorf("not failed: %+v", cur.Status.Conditions)
			}
			return nil
		})
		return cur
	}()
	if c := condition(cur, batch.JobFailed); c.Reason != job.ReasonDeadlineExceeded {
		t.Errorf("reason %q, want DeadlineExceeded", c.Reason)
	}
	if el := condition(cur, batch.JobFailureTarget).LastTransitionTime.Sub(cur.Status.StartTime.Time); el < 30*time.Second || cur.Status.StartTime.Before(start.Add(-time.Second)) {
		t.Errorf("failed %v after start, before the 30s deadline", el)
	}
	finished := condition(cur, batch.JobFailed).LastTransitionTime.Time
	pods, _ := podsOf(ctx, cs, j)
	if len(running(pods)) != 0 {
		t.Errorf("%d pods still running after the deadline", len(running(pods)))
	}
	controllertest.Eventually(t, "TTL deletes the job", func() error {
		got, err := getJob(ctx, cs, j)
		if errors.Is(err, store.ErrNotFound) || (err == nil && got.DeletionTimestamp != nil) {
			if el := clk.Now().Sub(finished); el < 100*time.Second {
				t.Fatalf("deleted %v after finishing, before the 100s TTL", el)
			}
			return nil
		}
		if err != nil {
			return err
		}
		clk.Advance(time.Second)
		return errors.New("job still there")
	})
}

// testInvalidJob: a job whose manual selector does not match its
// template is refused with 422 naming the field, and no pod appears.
func testInvalidJob(t *testing.T, cs *client.Clientset) {
	ctx := context.Background()
	nj := newJob("bad", 1, 1)
	nj.Spec.ManualSelector = ptr(true)
	nj.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": "x"}}
	nj.Spec.Template.Labels = map[string]string{"app": "y"}
	_, err := cs.Jobs().Create(ctx, nj)
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "selector") {
		t.Fatalf("create: %v, want 422 naming the selector", err)
	}
	if _, err := cs.Jobs().Get(ctx, "default", "bad"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get the refused job: %v, want not found", err)
	}
}
