package election_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/watch"
)

// objCandidate is an elector on an ObjectLock driven by its own fake clock.
type objCandidate struct {
	id     string
	clk    *clockwork.FakeClock
	el     *election.Elector
	ctxs   chan context.Context // each OnStartedLeading's context
	cancel context.CancelFunc
	done   chan struct{} // closed when Run has returned
	err    error         // what Run returned, once done is closed
}

const (
	objLease = 3 * time.Second
	objRenew = 2 * time.Second
	objRetry = time.Second
)

func newLeaseStore(t *testing.T) *store.Store[*election.Lease] {
	t.Helper()
	b := memory.New()
	t.Cleanup(func() { b.Close() })
	s, err := store.New[*election.Lease](b, election.LeaseResource)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func startObjCandidate(t *testing.T, s *store.Store[*election.Lease], id string, start time.Time, tune ...func(*election.Config)) *objCandidate {
	t.Helper()
	lock, err := election.NewObjectLock(s, "kube-system", "scheduler")
	if err != nil {
		t.Fatal(err)
	}
	c := &objCandidate{id: id, clk: clockwork.NewFakeClockAt(start), ctxs: make(chan context.Context, 8), done: make(chan struct{})}
	cfg := election.Config{
		Lock: lock, Identity: id, Clock: c.clk,
		LeaseDuration: objLease, RenewDeadline: objRenew, RetryPeriod: objRetry,
		Callbacks: election.Callbacks{OnStartedLeading: func(ctx context.Context) {
			c.ctxs <- ctx
			<-ctx.Done()
		}},
	}
	for _, f := range tune {
		f(&cfg)
	}
	c.el, err = election.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() { c.err = c.el.Run(ctx); close(c.done) }()
	t.Cleanup(func() { c.stop(t) })
	return c
}

// stop ends c's Run and waits for it to return.
func (c *objCandidate) stop(t *testing.T) {
	t.Helper()
	c.cancel()
	select {
	case <-c.done:
		if c.err != nil {
			t.Errorf("%s: Run = %v", c.id, c.err)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("%s: Run did not return after cancel", c.id)
	}
}

// renewOnce steps c's clock by the retry period and waits until the renewal
// has landed in the store.
func (c *objCandidate) renewOnce(t *testing.T, s *store.Store[*election.Lease]) {
	t.Helper()
	before := leaseRV(t, s)
	waitLeading(t, c.clk)
	c.clk.Advance(objRetry)
	waitFor(t, 10*time.Second, c.id+"'s renewal", func() bool { return leaseRV(t, s) != before })
}

// settle waits until c is waiting on its clock again after a step: as a
// follower for its next read (one timer), as a leader between renewals
// (two), so that the next step does not overtake a read or a renewal.
func (c *objCandidate) settle(t *testing.T) {
	t.Helper()
	waitFor(t, 10*time.Second, c.id+" to settle", func() bool {
		if c.el.IsLeader() {
			return armed(c.clk, 2)
		}
		return armed(c.clk, 1)
	})
}

// armed reports whether at least n timers are armed on clk right now.
func armed(clk *clockwork.FakeClock, n int) bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return clk.BlockUntilContext(ctx, n) == nil
}

func leaseRV(t *testing.T, s *store.Store[*election.Lease]) string {
	t.Helper()
	l, err := s.Get(context.Background(), "kube-system", "scheduler")
	if err != nil {
		t.Fatalf("read lease: %v", err)
	}
	return l.ResourceVersion
}

func leaseHolder(t *testing.T, s *store.Store[*election.Lease]) string {
	t.Helper()
	l, err := s.Get(context.Background(), "kube-system", "scheduler")
	if err != nil {
		t.Fatalf("read lease: %v", err)
	}
	return l.Spec.Holder()
}

// fencedWrite writes a work object with the fences in ctx, even after ctx
// has ended, as a paused leader that did not notice would.
func fencedWrite(ctx context.Context, s *store.Store[*election.Lease], who string) error {
	_, err := s.Create(context.WithoutCancel(ctx), &election.Lease{
		ObjectMeta: store.ObjectMeta{Namespace: "work", GenerateName: who + "-"},
	})
	return err
}

// Skew: the candidates' clocks disagree by hours. Expiry is judged only by
// each candidate's own observation time, so the skew changes nothing: the
// follower never takes over while the leader renews, and takes over one
// lease duration after the renewals stop.
func TestObjectLockClockSkew(t *testing.T) {
	s := newLeaseStore(t)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	a := startObjCandidate(t, s, "a", t0)
	actx := recv(t, a.ctxs, "a to lead")
	b := startObjCandidate(t, s, "b", t0.Add(time.Hour))  // an hour ahead
	c := startObjCandidate(t, s, "c", t0.Add(-time.Hour)) // an hour behind
	for round := range 6 {
		a.renewOnce(t, s)
		for _, f := range []*objCandidate{b, c} {
			waitClock(t, f.clk, 1)
			f.clk.Advance(objRetry)
			waitClock(t, f.clk, 1)
			if f.el.IsLeader() {
				t.Fatalf("round %d: %s took over from a renewing leader", round, f.id)
			}
		}
	}
	if got := leaseHolder(t, s); got != "a" {
		t.Fatalf("holder %q, want a", got)
	}
	if err := fencedWrite(actx, s, "a"); err != nil {
		t.Fatalf("leader a's fenced write: %v", err)
	}
	// c has shown that a slow clock changes nothing; it leaves, so that the
	// takeover below has one taker (a third candidate may legitimately
	// take the lock in the moment between the taker's delete and create).
	c.stop(t)
	if c.el.IsLeader() {
		t.Fatal("c led")
	}
	// a pauses (its clock stops, so it neither renews nor notices). b sees
	// the record unchanged for a lease duration on its own clock.
	var bctx context.Context
	for step := 0; bctx == nil; step++ {
		if step > 10 {
			t.Fatal("b did not take over within 10 retry periods of its clock")
		}
		waitClock(t, b.clk, 1)
		b.clk.Advance(objRetry)
		b.settle(t)
		select {
		case bctx = <-b.ctxs:
		default:
		}
	}
	if got := leaseHolder(t, s); got != "b" {
		t.Fatalf("holder %q after b took over, want b", got)
	}
	if !a.el.IsLeader() {
		t.Fatal("a noticed the takeover although its clock is paused; the test wants a stale leader")
	}
	// The paused leader's writes are fenced off; the new leader's go through.
	if err := fencedWrite(actx, s, "a"); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("stale leader a's fenced write = %v, want ErrFenced", err)
	}
	if err := fencedWrite(bctx, s, "b"); err != nil {
		t.Fatalf("new leader b's fenced write: %v", err)
	}
	// a resumes: its next renewal finds the term over and it steps down.
	waitLeading(t, a.clk)
	a.clk.Advance(objRetry)
	waitFor(t, 10*time.Second, "a to step down", func() bool { return !a.el.IsLeader() })
	if actx.Err() == nil {
		t.Error("a's leader context still open after it stepped down")
	}
}

// Drift: the follower's clock runs faster than the leader's. Within the
// tolerance (lease duration / retry period) nothing happens; beyond it the
// follower takes over from a leader that still renews on its own schedule,
// exactly as documented, and fencing is what keeps the old leader's writes
// out.
func TestObjectLockClockDrift(t *testing.T) {
	s := newLeaseStore(t)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	reg := prometheus.NewRegistry()
	a := startObjCandidate(t, s, "a", t0, func(c *election.Config) { c.Registerer = reg })
	actx := recv(t, a.ctxs, "a to lead")
	b := startObjCandidate(t, s, "b", t0)

	// b's clock runs at twice a's rate: a renews every 2s of b's time,
	// inside the 3s lease.
	for round := range 5 {
		a.renewOnce(t, s)
		waitClock(t, b.clk, 1)
		b.clk.Advance(2 * objRetry)
		waitClock(t, b.clk, 1)
		if b.el.IsLeader() {
			t.Fatalf("round %d: b took over at 2x drift, within tolerance", round)
		}
	}
	if err := fencedWrite(actx, s, "a"); err != nil {
		t.Fatalf("leader a's fenced write: %v", err)
	}

	// Now b's clock runs at 4x: between two of a's renewals b sees 4s pass
	// with no change and takes over.
	waitClock(t, b.clk, 1)
	b.clk.Advance(4 * objRetry)
	bctx := recv(t, b.ctxs, "b to take over at 4x drift")
	if !a.el.IsLeader() {
		t.Fatal("a already stepped down; the test wants two self-declared leaders")
	}
	if err := fencedWrite(actx, s, "a"); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("deposed leader a's fenced write = %v, want ErrFenced", err)
	}
	if err := fencedWrite(bctx, s, "b"); err != nil {
		t.Fatalf("new leader b's fenced write: %v", err)
	}
	waitLeading(t, a.clk)
	a.clk.Advance(objRetry)
	waitFor(t, 10*time.Second, "a to step down after its renewal fails", func() bool { return !a.el.IsLeader() })
	waitFor(t, 10*time.Second, "a's metrics to show the failed renewal", func() bool {
		return metricValue(t, reg, "setpoint_election_renew_failures_total") == 1 &&
			metricValue(t, reg, "setpoint_election_is_leader") == 0
	})
	if got := histogramCount(t, reg, "setpoint_election_renew_duration_seconds"); got != 6 {
		t.Errorf("renew_duration_seconds has %d samples, want 6 (5 renewals and the failed one)", got)
	}
	if got := metricValue(t, reg, "setpoint_election_leader_transitions_total"); got != 1 {
		t.Errorf("leader_transitions_total = %v, want 1", got)
	}
	if got := leaseHolder(t, s); got != "b" {
		t.Errorf("holder %q, want b", got)
	}
}

func TestNewObjectLockRejectsBadInput(t *testing.T) {
	s := newLeaseStore(t)
	for _, tc := range []struct{ ns, name string }{{"", "x"}, {"ns", ""}, {"ns", "Bad_Name"}, {"ns", "-x"}} {
		if _, err := election.NewObjectLock(s, tc.ns, tc.name); !errors.Is(err, election.ErrInvalidConfig) {
			t.Errorf("NewObjectLock(%q, %q) = %v, want ErrInvalidConfig", tc.ns, tc.name, err)
		}
	}
	if _, err := election.NewObjectLock(nil, "ns", "x"); !errors.Is(err, election.ErrInvalidConfig) {
		t.Errorf("NewObjectLock(nil store) = %v, want ErrInvalidConfig", err)
	}
}

// Followers of an object lock learn each holder with its term, as recorded
// in the Lease, through Observe.
func TestObserveObjectLock(t *testing.T) {
	s := newLeaseStore(t)
	follower, err := election.NewObjectLock(s, "kube-system", "scheduler")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := election.Observe(ctx, follower, election.WithObserveRetry(100*time.Millisecond))
	a := startObjCandidate(t, s, "a", time.Unix(0, 0))
	recv(t, a.ctxs, "a to lead")
	ev := nextEvent(t, w)
	if ev.Type != watch.Added || ev.Object.Identity != "a" || ev.Object.Term != a.el.Term() || ev.Object.Term == 0 {
		t.Fatalf("got %+v, want Added for a with term %d", ev, a.el.Term())
	}
	l, err := s.Get(ctx, "kube-system", "scheduler")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.Annotations[election.TermAnnotation], store.FormatRevision(a.el.Term()); got != want {
		t.Errorf("term annotation %q, want %q", got, want)
	}
	if l.APIVersion != election.LeaseAPIVersion || l.Kind != election.LeaseKind || l.Spec.Holder() != "a" {
		t.Errorf("stored lease %+v, want a coordination.k8s.io/v1 Lease held by a", l)
	}
}
