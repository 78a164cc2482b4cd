package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// Faulty wraps a backend so that tests can make it fail the way real ones
// do, to pin what watchers see then: its watches can leave out previous
// values (as etcd does when the previous revision was compacted before the
// watch read it), be broken all at once (as an etcd restart does), and
// Revision can fail for a while (the backend is unavailable). Everything
// else passes through. It is safe for concurrent use.
type Faulty struct {
	store.Backend

	mu           sync.Mutex
	dropPrev     func(key string, rev int64) bool
	failRevision int
	kills        []chan error
}

// NewFaulty wraps b; until told otherwise it behaves as b.
func NewFaulty(b store.Backend) *Faulty { return &Faulty{Backend: b} }

// CreateWithSideWrites passes through to the wrapped backend, which must
// be a store.SideWriter (ErrInvalid otherwise).
func (f *Faulty) CreateWithSideWrites(ctx context.Context, key string, value []byte, side []store.SideWrite, fences ...store.Fence) (int64, error) {
	sw, ok := f.Backend.(store.SideWriter)
	if !ok {
		return 0, fmt.Errorf("%w: create %s: the backend %T cannot make side writes", store.ErrInvalid, key, f.Backend)
	}
	return sw.CreateWithSideWrites(ctx, key, value, side, fences...)
}

// DropPrevValues makes watches leave out the previous value
// (store.KV.PrevValue) of the Modified events for which drop reports true.
func (f *Faulty) DropPrevValues(drop func(key string, rev int64) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dropPrev = drop
}

// FailRevision makes the next n Revision calls fail.
func (f *Faulty) FailRevision(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failRevision = n
}

// BreakWatches ends every open watch with err.
func (f *Faulty) BreakWatches(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range f.kills {
		k <- err
	}
	f.kills = nil
}

// errUnavailable is what a failing Revision returns.
var errUnavailable = errors.New("storetest: backend unavailable")

// Revision fails while FailRevision says so, and is b's otherwise.
func (f *Faulty) Revision(ctx context.Context) (int64, error) {
	f.mu.Lock()
	if f.failRevision > 0 {
		f.failRevision--
		f.mu.Unlock()
		return 0, errUnavailable
	}
	f.mu.Unlock()
	return f.Backend.Revision(ctx)
}

// Watch is b's watch, with the faults the test asked for.
func (f *Faulty) Watch(ctx context.Context, prefix string, afterRev int64) (watch.Watcher[store.KV], error) {
	inner, err := f.Backend.Watch(ctx, prefix, afterRev)
	if err != nil {
		return nil, err
	}
	kill := make(chan error, 1)
	f.mu.Lock()
	f.kills = append(f.kills, kill)
	f.mu.Unlock()
	out := watch.NewStream[store.KV](16)
	go func() {
		defer inner.Stop()
		for {
			select {
			case ev, ok := <-inner.Events():
				if !ok {
					out.Close(inner.Err())
					return
				}
				f.mu.Lock()
				drop := f.dropPrev
				f.mu.Unlock()
				if ev.Type == watch.Modified && drop != nil && drop(ev.Object.Key, ev.Revision) {
					ev.Object.PrevValue = nil
				}
				if !out.Send(ctx, ev) {
					out.Close(ctx.Err())
					return
				}
			case err := <-kill:
				out.Close(err)
				return
			case <-out.Done():
				out.Close(nil)
				return
			}
		}
	}()
	return out, nil
}
