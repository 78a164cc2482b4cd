package storetest

import (
	"context"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// WithoutPrevValues wraps b so that its watches leave out the previous value
// (store.KV.PrevValue) of the Modified events for which drop reports true,
// as etcd does when the previous revision was compacted before the watch
// read it. Everything else passes through. Tests use it to pin what a watch
// with a selector reports when the previous state is unknown.
func WithoutPrevValues(b store.Backend, drop func(key string, rev int64) bool) store.Backend {
	return &prevDropper{Backend: b, drop: drop}
}

type prevDropper struct {
	store.Backend
	drop func(key string, rev int64) bool
}

func (p *prevDropper) Watch(ctx context.Context, prefix string, afterRev int64) (watch.Watcher[store.KV], error) {
	inner, err := p.Backend.Watch(ctx, prefix, afterRev)
	if err != nil {
		return nil, err
	}
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
				if ev.Type == watch.Modified && p.drop(ev.Object.Key, ev.Revision) {
					ev.Object.PrevValue = nil
				}
				if !out.Send(ctx, ev) {
					out.Close(ctx.Err())
					return
				}
			case <-out.Done():
				out.Close(nil)
				return
			}
		}
	}()
	return out, nil
}
