package election

import (
	"context"
	"time"

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
	// Record is the lock record as read.
	Record LeaseRecord
}

// ObserveOption configures Observe.
type ObserveOption func(*observeOptions)

type observeOptions struct {
	retry time.Duration
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
				pause(ctx, o.retry)
				continue
			}
			var ev *watch.Event[LeaderChange]
			switch {
			case obs.Held && obs.Term == 0:
				// An acquisition in progress (the object lock's holder
				// has not recorded its term yet): report it once it has.
			case obs.Held && (!last.Held || obs.Term != last.Term || obs.Record.HolderIdentity != last.Record.HolderIdentity):
				ev = &watch.Event[LeaderChange]{Type: watch.Added, Revision: obs.Revision,
					Object: LeaderChange{Identity: obs.Record.HolderIdentity, Term: obs.Term, Record: obs.Record}}
			case !obs.Held && last.Held:
				ev = &watch.Event[LeaderChange]{Type: watch.Deleted, Revision: obs.Revision,
					Object: LeaderChange{Identity: last.Record.HolderIdentity, Term: last.Term, Record: last.Record}}
			}
			if !(obs.Held && obs.Term == 0) {
				last = obs
			}
			if ev != nil && !s.Send(ctx, *ev) {
				break
			}
			wctx, wcancel := context.WithTimeout(ctx, o.retry)
			if err := r.Wait(wctx, obs.Revision); err != nil && ctx.Err() == nil && wctx.Err() == nil {
				pause(ctx, o.retry)
			}
			wcancel()
		}
		s.Close(context.Cause(ctx))
	}()
	return s
}

func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
