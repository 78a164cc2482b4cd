package election

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/store"
)

// ErrStale is returned by Check when this process is still acting as leader
// (its OnStartedLeading has not returned) although its last successful
// renewal is older than RenewDeadline.
var ErrStale = errors.New("election: leader failed to renew past its deadline")

// Elector runs one candidate's side of an election. Make it with New; run it
// with Run. Its query methods are safe to call from any goroutine.
type Elector struct {
	cfg   Config // defaults applied, identity set
	judge bool   // the lock's expiry is judged by observation
	m     *metrics
	log   *slog.Logger

	running atomic.Bool

	mu         sync.Mutex
	leader     string // identity of the observed holder; "" if none
	leading    bool
	acting     bool // OnStartedLeading has not returned yet
	fence      store.Fence
	lastRenew  time.Time // start of the last successful acquire or renew
	lastRecord LeaseSpec // last record seen, for LeaseTransitions
}

// New validates cfg, fills in its defaults and returns an elector. An
// invalid cfg returns an error wrapping ErrInvalidConfig and nothing is
// started or written.
func New(cfg Config) (*Elector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := cfg.withDefaults()
	if c.Identity == "" {
		c.Identity = DefaultIdentity()
	}
	m, err := newMetrics(c.Registerer, c.Identity)
	if err != nil {
		return nil, err
	}
	e := &Elector{cfg: c, m: m, log: c.Logger.With("identity", c.Identity)}
	if j, ok := c.Lock.(ExpiryJudge); ok {
		e.judge = j.ExpiresByObservation()
	}
	return e, nil
}

// Identity returns this candidate's identity.
func (e *Elector) Identity() string { return e.cfg.Identity }

// IsLeader reports whether this candidate currently leads: it holds a term
// and, by its clock, the start of its last successful renewal is less than
// RenewDeadline ago.
func (e *Elector) IsLeader() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leadingLocked()
}

// leadingLocked reports whether this candidate holds a term whose renew
// deadline has not passed, even if the renew loop has not noticed yet.
func (e *Elector) leadingLocked() bool {
	return e.leading && e.cfg.Clock.Now().Sub(e.lastRenew) < e.cfg.RenewDeadline
}

// Leader returns the identity of the holder this candidate last observed,
// or "" if it saw the lock free.
func (e *Elector) Leader() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leader
}

// Term returns the current term while this candidate leads, else 0.
func (e *Elector) Term() int64 {
	f, _ := e.Fence()
	return f.CreateRevision
}

// Fence returns the current term's fence while this candidate leads (as
// IsLeader). Pass it to store.WithFence to make store writes conditional on
// the term.
func (e *Elector) Fence() (store.Fence, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.leadingLocked() {
		return store.Fence{}, false
	}
	return e.fence, true
}

// Check is a health check: it returns an error wrapping ErrStale while this
// process is still acting as leader (OnStartedLeading has not returned) but
// its last successful renewal is older than RenewDeadline, that is, when a
// leader has lost its lease but its work has not stopped. Otherwise nil.
func (e *Elector) Check() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.acting {
		return nil
	}
	if age := e.cfg.Clock.Now().Sub(e.lastRenew); age > e.cfg.RenewDeadline {
		return fmt.Errorf("%w: %s last renewed %v ago, deadline %v", ErrStale, e.cfg.Identity, age.Round(time.Millisecond), e.cfg.RenewDeadline)
	}
	return nil
}

// Run campaigns until ctx ends: it waits to acquire the lock, leads (calling
// OnStartedLeading and renewing) until leadership is lost or ctx ends, and
// after a loss campaigns again. It returns nil once ctx has ended and
// OnStartedLeading (if running) has returned; with ReleaseOnCancel it
// releases the lock first. It may be called again after it returns; a call
// while it runs returns an error wrapping ErrAlreadyRunning and changes
// nothing.
//
// Leadership (OnStartedLeading's context, IsLeader, Fence) ends
// RenewDeadline after the start of the last successful renewal, on Clock,
// even while a renewal is still in flight, whether or not the Lock honours
// its context. The lock serves one call at a time, so a renewal that
// outlives the term is still waited for before the lock is released or
// campaigned for again (and before Run returns).
func (e *Elector) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return fmt.Errorf("election: %s: %w", e.cfg.Identity, ErrAlreadyRunning)
	}
	defer e.running.Store(false)
	for {
		fence, start, spec, ok := e.campaign(ctx)
		if !ok {
			return nil
		}
		e.lead(ctx, fence, start, spec)
		if ctx.Err() != nil {
			return nil
		}
	}
}

// campaign waits until this candidate acquires the lock. ok is false when
// ctx ended first.
func (e *Elector) campaign(ctx context.Context) (fence store.Fence, start time.Time, spec LeaseSpec, ok bool) {
	clk := e.cfg.Clock
	var (
		last       Observation
		seen       bool
		observedAt time.Time
	)
	for ctx.Err() == nil {
		gctx, cancel := context.WithTimeout(ctx, e.cfg.RenewDeadline)
		obs, err := e.cfg.Lock.Get(gctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				e.log.Warn("election: read lock", "err", err)
			}
			e.sleep(ctx, e.cfg.RetryPeriod)
			continue
		}
		now := clk.Now()
		if !seen || obs.Held != last.Held || obs.Version != last.Version || obs.Term != last.Term {
			observedAt, seen = now, true
		}
		last = obs
		e.observed(obs)

		wait := e.cfg.RetryPeriod
		may := !obs.Held
		if obs.Held && e.judge {
			expiry := e.expiry(obs.Spec)
			switch {
			case obs.Spec.Holder() == e.cfg.Identity:
				may = true // our own earlier term, which we no longer act on
			case now.Sub(observedAt) >= expiry:
				may = true
			default:
				wait = min(wait, observedAt.Add(expiry).Sub(now))
			}
		}
		if may {
			start = clk.Now()
			spec = e.newSpec(start)
			actx, cancel := context.WithTimeout(ctx, e.cfg.RenewDeadline)
			fence, err = e.cfg.Lock.Acquire(actx, spec, obs)
			cancel()
			if err == nil {
				return fence, start, spec, true
			}
			if !errors.Is(err, ErrHeld) && ctx.Err() == nil {
				e.log.Warn("election: acquire lock", "err", err)
			}
		}
		if p, ok := e.cfg.Lock.(Preparer); ok && obs.Held && obs.Spec.Holder() != e.cfg.Identity {
			pctx, cancel := context.WithTimeout(ctx, e.cfg.RetryPeriod)
			id, secs := e.cfg.Identity, durationSeconds(e.cfg.LeaseDuration)
			p.Prepare(pctx, LeaseSpec{HolderIdentity: &id, LeaseDurationSeconds: &secs})
			cancel()
		}
		e.waitChange(ctx, obs.Revision, wait)
	}
	return store.Fence{}, time.Time{}, LeaseSpec{}, false
}

// newSpec is the record of a term this candidate starts at start.
func (e *Elector) newSpec(start time.Time) LeaseSpec {
	id := e.cfg.Identity
	secs := durationSeconds(e.cfg.LeaseDuration)
	acquired, renewed := store.NewMicroTime(start), store.NewMicroTime(start)
	transitions := e.transitions()
	return LeaseSpec{
		HolderIdentity:       &id,
		LeaseDurationSeconds: &secs,
		AcquireTime:          &acquired,
		RenewTime:            &renewed,
		LeaseTransitions:     &transitions,
	}
}

// expiry is how long after observing spec a candidate may take over: this
// candidate's LeaseDuration, or the holder's promise if that is longer.
func (e *Elector) expiry(spec LeaseSpec) time.Duration {
	d := e.cfg.LeaseDuration
	if spec.LeaseDurationSeconds != nil && *spec.LeaseDurationSeconds > durationSeconds(d) {
		d = spec.Duration()
	}
	return d
}

func (e *Elector) transitions() int32 {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.lastRecord.Transitions()
	if h := e.lastRecord.Holder(); h != "" && h != e.cfg.Identity {
		t++
	}
	return t
}

// observed records obs and calls OnNewLeader when the holder changed.
func (e *Elector) observed(obs Observation) {
	holder := ""
	if obs.Held {
		holder = obs.Spec.Holder()
	}
	e.mu.Lock()
	if obs.Held {
		e.lastRecord = obs.Spec
	}
	changed := holder != e.leader
	e.leader = holder
	e.mu.Unlock()
	if changed && holder != "" && e.cfg.Callbacks.OnNewLeader != nil {
		e.cfg.Callbacks.OnNewLeader(holder)
	}
}

// waitChange blocks until the lock may have changed after rev, d has passed
// on the clock, or ctx ends.
func (e *Elector) waitChange(ctx context.Context, rev int64, d time.Duration) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	changed := make(chan error, 1)
	go func() { changed <- e.cfg.Lock.Wait(wctx, rev) }()
	t := e.cfg.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-changed:
		if err == nil {
			return
		}
		// The wait failed (no connection, no etcd leader): fall back to
		// the timer so a broken watch does not spin.
		select {
		case <-t.Chan():
		case <-ctx.Done():
		}
	case <-t.Chan():
	case <-ctx.Done():
	}
}

// sleep waits d on the clock, or until ctx ends.
func (e *Elector) sleep(ctx context.Context, d time.Duration) {
	t := e.cfg.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.Chan():
	case <-ctx.Done():
	}
}

type endReason int

const (
	endCanceled endReason = iota // Run's context ended
	endDeadline                  // no successful renewal within RenewDeadline
	endLost                      // the lock says the term is over
)

// lead runs one term: it starts OnStartedLeading, renews until the term ends,
// then stops the callback, waits for it, and releases the lock if
// appropriate.
func (e *Elector) lead(ctx context.Context, fence store.Fence, start time.Time, spec LeaseSpec) {
	e.mu.Lock()
	e.leading, e.acting, e.fence, e.lastRenew = true, true, fence, start
	changed := e.leader != e.cfg.Identity
	e.leader = e.cfg.Identity
	e.lastRecord = spec
	e.mu.Unlock()
	e.m.isLeader.Set(1)
	e.m.transitions.Inc()
	e.log.Info("election: became leader", "term", fence.CreateRevision)
	if changed && e.cfg.Callbacks.OnNewLeader != nil {
		e.cfg.Callbacks.OnNewLeader(e.cfg.Identity)
	}

	leaderCtx, stop := context.WithCancel(store.WithFence(ctx, fence))
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.cfg.Callbacks.OnStartedLeading(leaderCtx)
	}()

	reason, inflight := e.renewLoop(ctx, start, spec)

	e.mu.Lock()
	e.leading, e.fence = false, store.Fence{}
	e.mu.Unlock()
	e.m.isLeader.Set(0)
	stop()
	<-done
	e.mu.Lock()
	e.acting = false
	e.mu.Unlock()
	e.log.Info("election: stopped leading", "term", fence.CreateRevision, "reason", [...]string{"canceled", "renew deadline passed", "lock lost"}[reason])
	if e.cfg.Callbacks.OnStoppedLeading != nil {
		e.cfg.Callbacks.OnStoppedLeading()
	}
	if inflight != nil {
		// A renewal outlived the term. The lock serves one call at a
		// time: wait for it before releasing or campaigning again.
		if err := <-inflight; err != nil && !errors.Is(err, ErrLost) && ctx.Err() == nil {
			e.log.Warn("election: renewal that outlived the term failed", "err", err)
		}
	}
	if reason == endLost || (reason == endCanceled && !e.cfg.ReleaseOnCancel) {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.RenewDeadline)
	defer cancel()
	if err := e.cfg.Lock.Release(rctx); err != nil && !errors.Is(err, ErrNotHeld) {
		e.log.Warn("election: release lock", "err", err)
	}
}

// renewLoop renews every RetryPeriod until the term ends and says why it
// ended. The term ends at the latest RenewDeadline after the start of the
// last successful renewal, even while a renewal is still in flight; then
// inflight is that renewal's result, which the caller receives before it
// calls the lock again.
//
// Two timers are armed between renewals (the next renewal and the end of
// the term) and one while a renewal is in flight (the end of the term).
func (e *Elector) renewLoop(ctx context.Context, lastOK time.Time, spec LeaseSpec) (reason endReason, inflight <-chan error) {
	clk := e.cfg.Clock
	// term fires RenewDeadline after the start of the last successful
	// renewal: leadership ends then unless a renewal succeeds first.
	term := clk.NewTimer(lastOK.Add(e.cfg.RenewDeadline).Sub(clk.Now()))
	defer term.Stop()
	lastTry := lastOK
	for {
		if wait := lastTry.Add(e.cfg.RetryPeriod).Sub(clk.Now()); wait > 0 {
			t := clk.NewTimer(wait)
			select {
			case <-t.Chan():
			case <-term.Chan():
				t.Stop()
				return endDeadline, nil
			case <-ctx.Done():
				t.Stop()
				return endCanceled, nil
			}
		}
		now := clk.Now()
		deadline := lastOK.Add(e.cfg.RenewDeadline)
		if !now.Before(deadline) {
			return endDeadline, nil
		}
		lastTry = now
		renewed := store.NewMicroTime(now)
		spec.RenewTime = &renewed
		// The renewal runs on its own goroutine, so the term ends on time
		// even if the lock does not honour its context.
		result, cancel := e.renew(ctx, spec, deadline)
		var err error
		termEnded := false
		select {
		case err = <-result:
		case <-term.Chan():
			select {
			case err = <-result:
				// It returned as the term ended; a success still
				// counts from its start, which was before the end.
				termEnded = true
			default:
				cancel()
				e.m.renewFailures.Inc()
				e.log.Warn("election: renewal still in flight at the renew deadline; leadership ends", "renew_deadline", e.cfg.RenewDeadline)
				return endDeadline, result
			}
		case <-ctx.Done():
			cancel()
			return endCanceled, result
		}
		cancel()
		switch {
		case err == nil:
			lastOK = now
			e.mu.Lock()
			e.lastRenew = now
			e.mu.Unlock()
			if !term.Stop() {
				select { // drop a firing this success overtook
				case <-term.Chan():
				default:
				}
			}
			term.Reset(lastOK.Add(e.cfg.RenewDeadline).Sub(clk.Now()))
		case ctx.Err() != nil:
			return endCanceled, nil
		case errors.Is(err, ErrLost):
			e.m.renewFailures.Inc()
			e.log.Warn("election: lost lock", "err", err)
			return endLost, nil
		default:
			e.m.renewFailures.Inc()
			e.log.Warn("election: renew lock", "err", err)
			if termEnded {
				return endDeadline, nil
			}
		}
	}
}

// renew starts one Renew of spec on its own goroutine and returns the
// channel its result arrives on, and the cancel function of its context.
// The caller cancels it at the deadline; with the real clock the context
// also carries the deadline, for the lock to pass on (etcd's client does).
func (e *Elector) renew(ctx context.Context, spec LeaseSpec, deadline time.Time) (<-chan error, context.CancelFunc) {
	clk := e.cfg.Clock
	var rctx context.Context
	var cancel context.CancelFunc
	if clk == realClock {
		rctx, cancel = context.WithDeadline(ctx, deadline)
	} else {
		rctx, cancel = context.WithCancel(ctx)
	}
	result := make(chan error, 1)
	go func() {
		began := clk.Now()
		err := e.cfg.Lock.Renew(rctx, spec)
		e.m.renewLatency.Observe(clk.Since(began).Seconds())
		result <- err
	}()
	return result, cancel
}

// clockTimeout is context.WithTimeout measured on clk.
func clockTimeout(ctx context.Context, clk clockwork.Clock, d time.Duration) (context.Context, context.CancelFunc) {
	if clk == realClock {
		return context.WithTimeout(ctx, d)
	}
	cctx, cancel := context.WithCancel(ctx)
	t := clk.AfterFunc(d, cancel)
	return cctx, func() { t.Stop(); cancel() }
}
