package job_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// TestBackoffDelay: Kubernetes' pod-replacement delay: 10 s after the
// first failure, doubling, capped at 6 min, less the time since the last
// failure.
func TestBackoffDelay(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		failures int32
		passed   time.Duration
		want     time.Duration
	}{
		{0, 0, 0},
		{1, 0, 10 * time.Second},
		{2, 0, 20 * time.Second},
		{3, 0, 40 * time.Second},
		{6, 0, 320 * time.Second},
		{7, 0, 6 * time.Minute}, // 640 s, capped
		{50, 0, 6 * time.Minute},
		{1, 4 * time.Second, 6 * time.Second},
		{1, 10 * time.Second, 0},
		{3, time.Hour, 0},
	} {
		got := job.BackoffDelay(tc.failures, t0, t0.Add(tc.passed), job.DefaultPodFailureBackoff, job.DefaultMaxPodFailureBackoff)
		if got != tc.want {
			t.Errorf("%d failures, %v since the last: %v, want %v", tc.failures, tc.passed, got, tc.want)
		}
	}
}

// failAt ends p as failed at the fake clock's now (the container's
// finishedAt, which is what the delay counts from).
func failAt(ctx context.Context, cs *client.Clientset, p *api.Pod, at time.Time) error {
	p = p.DeepCopy()
	p.Status.Phase = api.PodFailed
	p.Status.ContainerStatuses = []api.ContainerStatus{{Name: "c", State: api.ContainerState{Terminated: &api.ContainerStateTerminated{
		ExitCode: 1, FinishedAt: store.NewTime(at)}}}}
	_, err := cs.Pods().UpdateStatus(ctx, p)
	return err
}

// TestPodReplacementBackoff: on the fake clock, a failed pod is not
// replaced in the sync that counts its failure, but once 10 s have
// passed; after a second failure the delay is 20 s.
func TestPodReplacementBackoff(t *testing.T) {
	ctx := context.Background()
	clk := clockwork.NewFakeClockAt(time.Now())
	cs := env(t, clk)
	nj := newJob("backoff", 1, 1)
	nj.Spec.BackoffLimit = ptr(int32(5))
	j, err := cs.Jobs().Create(ctx, nj)
	if err != nil {
		t.Fatal(err)
	}
	for round, delay := range []time.Duration{10 * time.Second, 20 * time.Second} {
		var p *api.Pod
		controllertest.Eventually(t, "a running pod", func() error {
			pods, err := podsOf(ctx, cs, j)
			if err != nil {
				return err
			}
			if r := running(pods); len(r) == 1 && len(pods) == round+1 {
				p = r[0]
				return nil
			}
			return fmt.Errorf("%d pods, %d running", len(pods), len(running(pods)))
		})
		failedAt := clk.Now()
		if err := failAt(ctx, cs, p, failedAt); err != nil {
			t.Fatal(err)
		}
		// The failure is counted (uncounted list empty again) by the
		// sync that would create the replacement: its creates go first.
		controllertest.Eventually(t, "failure counted", func() error {
			cur, err := getJob(ctx, cs, j)
			if err != nil {
				return err
			}
			if u := cur.Status.UncountedTerminatedPods; cur.Status.Failed != int32(round+1) || (u != nil && len(u.Failed) > 0) {
				return fmt.Errorf("status %+v", cur.Status)
			}
			return nil
		})
		pods, err := podsOf(ctx, cs, j)
		if err != nil {
			t.Fatal(err)
		}
		if len(pods) != round+1 {
			t.Fatalf("round %d: %d pods right after the failure, want %d (no replacement before %v)", round, len(pods), round+1, delay)
		}
		controllertest.Eventually(t, "replaced after the delay", func() error {
			pods, err := podsOf(ctx, cs, j)
			if err != nil {
				return err
			}
			if len(running(pods)) == 1 {
				if el := clk.Since(failedAt); el < delay {
					t.Fatalf("round %d: replaced %v after the failure, want %v", round, el, delay)
				}
				return nil
			}
			if clk.Since(failedAt) < delay {
				clk.Advance(time.Second)
			}
			return errors.New("not replaced yet")
		})
	}
}

// testSuccessPolicy: an Indexed job of 5 whose successPolicy asks for
// indexes 0 and 1 succeeds once they have: SuccessCriteriaMet and then
// Complete, both with reason SuccessPolicy, and its other pods deleted.
// A second job's rule asks for any 2 of its 4 indexes.
func testSuccessPolicy(t *testing.T, cs *client.Clientset) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		rule batch.SuccessPolicyRule
		end  []string
	}{
		{"policy-idx", batch.SuccessPolicyRule{SucceededIndexes: ptr("0-1")}, []string{"0", "1"}},
		{"policy-count", batch.SuccessPolicyRule{SucceededCount: ptr(int32(2))}, []string{"2", "3"}},
	} {
		nj := newJob(tc.name, 4, 4)
		nj.Spec.CompletionMode = ptr(batch.IndexedCompletion)
		nj.Spec.SuccessPolicy = &batch.SuccessPolicy{Rules: []batch.SuccessPolicyRule{tc.rule}}
		j, err := cs.Jobs().Create(ctx, nj)
		if err != nil {
			t.Fatal(err)
		}
		controllertest.Eventually(t, tc.name+": chosen indexes succeed", func() error {
			pods, err := podsOf(ctx, cs, j)
			if err != nil {
				return err
			}
			done := 0
			for _, p := range pods {
				if !slices.Contains(tc.end, p.Annotations[batch.JobCompletionIndexAnnotation]) {
					continue
				}
				if p.Status.Phase == api.PodSucceeded {
					done++
				} else if err := end(ctx, cs, p, 0); err != nil && !errors.Is(err, store.ErrConflict) {
					return err
				}
			}
			if done < len(tc.end) {
				return fmt.Errorf("%d of the chosen indexes succeeded", done)
			}
			return nil
		})
		cur := waitFinished(t, cs, j, batch.JobComplete)
		met := condition(cur, batch.JobSuccessCriteriaMet)
		if met == nil || met.Reason != job.ReasonSuccessPolicy || condition(cur, batch.JobComplete).Reason != job.ReasonSuccessPolicy {
			t.Errorf("%s: conditions %+v, want SuccessCriteriaMet and Complete with reason SuccessPolicy", tc.name, cur.Status.Conditions)
		}
		if cur.Status.Succeeded != 2 {
			t.Errorf("%s: succeeded %d, want 2", tc.name, cur.Status.Succeeded)
		}
		pods, err := podsOf(ctx, cs, j)
		if err != nil {
			t.Fatal(err)
		}
		if r := running(pods); len(r) != 0 {
			t.Errorf("%s: %d pods still running after success", tc.name, len(r))
		}
	}
}
