package election_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/election/etcdlock"
)

// A leader whose work does not stop after its renew deadline is reported
// unhealthy until the work stops; metrics follow the leadership.
func TestHealthCheckAndMetrics(t *testing.T) {
	endpoint := startEtcd(t)
	c := newClient(t, endpoint)
	lock, err := etcdlock.New(c, "/election/health")
	if err != nil {
		t.Fatal(err)
	}
	clk := clockwork.NewFakeClockAt(time.Unix(1_700_000_000, 0))
	reg := prometheus.NewRegistry()
	started := make(chan struct{}, 4)
	ctxEnded := make(chan struct{}, 4)
	release := make(chan struct{})
	stopped := make(chan struct{}, 4)
	el, err := election.New(election.Config{
		Lock: lock, Identity: "stuck",
		LeaseDuration: 4 * time.Second, RenewDeadline: 3 * time.Second, RetryPeriod: time.Second,
		Clock: clk, Registerer: reg,
		Callbacks: election.Callbacks{
			OnStartedLeading: func(ctx context.Context) {
				started <- struct{}{}
				<-ctx.Done()
				ctxEnded <- struct{}{}
				<-release // keeps "working" after its context ended
			},
			OnStoppedLeading: func() { stopped <- struct{}{} },
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- el.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	recv(t, started, "OnStartedLeading")
	if !el.IsLeader() || el.Term() <= 0 {
		t.Fatalf("IsLeader() = %v, Term() = %d after OnStartedLeading", el.IsLeader(), el.Term())
	}
	if err := el.Check(); err != nil {
		t.Fatalf("Check() on a fresh leader = %v", err)
	}
	isLeader := func() float64 {
		return metricValue(t, reg, "setpoint_election_is_leader")
	}
	if isLeader() != 1 {
		t.Errorf("is_leader = %v, want 1", isLeader())
	}

	// One renewal, driven by the clock.
	waitLeading(t, clk)
	clk.Advance(time.Second)
	waitFor(t, 10*time.Second, "a renewal to be measured", func() bool {
		return histogramCount(t, reg, "setpoint_election_renew_duration_seconds") >= 1
	})
	if err := el.Check(); err != nil {
		t.Fatalf("Check() after a renewal = %v", err)
	}

	// Time jumps past the renew deadline with no renewal in between (as in a
	// process pause): leadership ends, the context ends, and while the
	// callback keeps going the health check fails.
	waitLeading(t, clk)
	clk.Advance(5 * time.Second)
	recv(t, ctxEnded, "the leader's context to end")
	if el.IsLeader() {
		t.Error("IsLeader() = true after the renew deadline passed")
	}
	if err := el.Check(); !errors.Is(err, election.ErrStale) {
		t.Errorf("Check() while the deposed leader still works = %v, want ErrStale", err)
	}
	if isLeader() != 0 {
		t.Errorf("is_leader = %v after losing, want 0", isLeader())
	}
	select {
	case <-stopped:
		t.Fatal("OnStoppedLeading ran before OnStartedLeading returned")
	default:
	}
	close(release)
	recv(t, stopped, "OnStoppedLeading")
	waitFor(t, 10*time.Second, "Check to turn healthy", func() bool { return el.Check() == nil })
	// It campaigns again and, the lock being free, leads again.
	recv(t, started, "OnStartedLeading for the second term")
	if got := metricValue(t, reg, "setpoint_election_leader_transitions_total"); got != 2 {
		t.Errorf("leader_transitions_total = %v, want 2", got)
	}
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// waitLeading waits until a leader on clk is between renewals: its next
// renewal and the end of its term are both timed (during a renewal only the
// end of the term is).
func waitLeading(t *testing.T, clk *clockwork.FakeClock) {
	t.Helper()
	waitClock(t, clk, 2)
}

// waitClock waits until at least n timers are armed on clk.
func waitClock(t *testing.T, clk *clockwork.FakeClock, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := clk.BlockUntilContext(ctx, n); err != nil {
		t.Fatalf("waiting for %d armed timers: %v", n, err)
	}
}

// metricValue gathers reg and returns the value of the gauge or counter
// called name (0 if absent).
func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name || len(mf.Metric) == 0 {
			continue
		}
		m := mf.Metric[0]
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Counter != nil:
			return m.Counter.GetValue()
		}
	}
	return 0
}

func histogramCount(t *testing.T, reg *prometheus.Registry, name string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.Metric) > 0 && mf.Metric[0].Histogram != nil {
			return mf.Metric[0].Histogram.GetSampleCount()
		}
	}
	return 0
}
