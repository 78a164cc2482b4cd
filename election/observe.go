package election

import (
	"context"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/watch"
)

// LeaderChange is one event of Observe's stream: the lock's holder as of a
// store revision.
type LeaderChange struct {
	// Identity is the holder's identity; for a Deleted event, the last
	// holder's.
	Identity string
	// Term is the holder's term (0 if unknown).
	Term int64
	// Spec is the lock record as read.
	Spec LeaseSpec
}

// ObserveOption configures Observe.
type ObserveOption func(*observeOptions)

type observeOptions struct {
	retry time.Duration
	clock clockwork.Clock
}

// WithObserveRetry sets how long Observe waits after a failed read before
// reading again, and the longest it waits for a change before re-reading.
// Default 1s.
func WithObserveRetry(d time.Duration) ObserveOption {
	return func(o *observeOptions) {
		if d > 0 {
			o.retry = d
		}
	}
}

// WithObserveClock sets the clock Observe's waits are timed on; tests pass
// clockwork.NewFakeClock(). nil (the default) is the real clock.
func WithObserveClock(c clockwork.Clock) ObserveOption {
	return func(o *observeOptions) { o.clock = c }
}

// Observe follows an election without taking part: it returns a stream
// that delivers watch.Added with the new holder each time the lock changes
// hands, and watch.Deleted (with the last holder) when the lock becomes
// free. Event revisions are the store revisions of the reads that saw the
// change, so they strictly increase. The first event describes the state at
// the start (Added if held; nothing if free). A holder is reported once its
// term is known. The stream ends with ctx's error when ctx ends, or
// ErrStopped after Stop.
func Observe(ctx context.Context, r Reader, opts ...ObserveOption) watch.Watcher[LeaderChange] {
	o := observeOptions{retry: time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if o.clock == nil {
		o.clock = realClock
	}
	s := watch.NewStream[LeaderChange](16)
	go func() {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-s.Done():
				cancel()
			case <-ctx.Done():
			}
		}()
		var last Observation
		for ctx.Err() == nil {
			obs, err := r.Get(ctx)
			if err != nil {
				pause(ctx, o.clock, o.retry)
				continue
			}
			var ev *watch.Event[LeaderChange]
			switch {
			case obs.Held && obs.Term == 0:
				// An acquisition in progress (the object lock's holder
				// has not recorded its term yet): report it once it has.
			case obs.Held && (!last.Held || obs.Term != last.Term || obs.Spec.Holder() != last.Spec.Holder()):
				ev = &watch.Event[LeaderChange]{Type: watch.Added, Revision: obs.Revision,
					Object: LeaderChange{Identity: obs.Spec.Holder(), Term: obs.Term, Spec: obs.Spec}}
			case !obs.Held && last.Held:
				ev = &watch.Event[LeaderChange]{Type: watch.Deleted, Revision: obs.Revision,
					Object: LeaderChange{Identity: last.Spec.Holder(), Term: last.Term, Spec: last.Spec}}
			}
			if !(obs.Held && obs.Term == 0) {
				last = obs
			}
			if ev != nil && !s.Send(ctx, *ev) {
				break
			}
			wctx, wcancel := clockTimeout(ctx, o.clock, o.retry)
			if err := r.Wait(wctx, obs.Revision); err != nil && ctx.Err() == nil && wctx.Err() == nil {
				pause(ctx, o.clock, o.retry)
			}
			wcancel()
		}
		s.Close(context.Cause(ctx))
	}()
	return s
}

func pause(ctx context.Context, clk clockwork.Clock, d time.Duration) {
	t := clk.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.Chan():
	case <-ctx.Done():
	}
}
