package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/events"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// eventsBackend is the backend the events.k8s.io/v1 store sees: the core
// events' keys (both resources are named "events"), with every value
// converted between the stored core shape and the events.k8s.io shape.
// So the two APIs serve one set of objects, with one resourceVersion
// history, as in Kubernetes; a watch of either sees writes made through
// the other.
type eventsBackend struct{ store.Backend }

var (
	_ store.Backend    = eventsBackend{}
	_ store.SideWriter = eventsBackend{}
)

// toV1 converts a stored core event to the events.k8s.io JSON the store
// decodes; a value that is not a core event is passed on as it is (the
// store then reports it).
func toV1(b []byte) []byte {
	if b == nil {
		return nil
	}
	var e api.Event
	if err := json.Unmarshal(b, &e); err != nil {
		return b
	}
	out, err := json.Marshal(registry.ToEventsV1(&e))
	if err != nil {
		return b
	}
	return out
}

// toCore converts the events.k8s.io JSON the store writes to a core event.
func toCore(b []byte) ([]byte, error) {
	var e events.Event
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%w: events.k8s.io event: %v", store.ErrInvalid, err)
	}
	return json.Marshal(registry.FromEventsV1(&e))
}

func convertKV(kv store.KV) store.KV {
	kv.Value, kv.PrevValue = toV1(kv.Value), toV1(kv.PrevValue)
	return kv
}

func (b eventsBackend) Get(ctx context.Context, key string) (store.KV, error) {
	kv, err := b.Backend.Get(ctx, key)
	return convertKV(kv), err
}

func (b eventsBackend) Range(ctx context.Context, prefix string, opts store.RangeOptions) (store.RangeResult, error) {
	r, err := b.Backend.Range(ctx, prefix, opts)
	for i := range r.KVs {
		r.KVs[i] = convertKV(r.KVs[i])
	}
	return r, err
}

func (b eventsBackend) Create(ctx context.Context, key string, value []byte, fences ...store.Fence) (int64, error) {
	v, err := toCore(value)
	if err != nil {
		return 0, err
	}
	return b.Backend.Create(ctx, key, v, fences...)
}

// CreateWithSideWrites is Create with side writes (the quota's charge,
// the namespace condition), which the core backend makes.
func (b eventsBackend) CreateWithSideWrites(ctx context.Context, key string, value []byte, side []store.SideWrite, fences ...store.Fence) (int64, error) {
	sw, ok := b.Backend.(store.SideWriter)
	if !ok {
		return 0, fmt.Errorf("%w: create %s: the backend %T cannot make side writes", store.ErrInvalid, key, b.Backend)
	}
	v, err := toCore(value)
	if err != nil {
		return 0, err
	}
	return sw.CreateWithSideWrites(ctx, key, v, side, fences...)
}

func (b eventsBackend) Update(ctx context.Context, key string, value []byte, rev int64, fences ...store.Fence) (int64, error) {
	v, err := toCore(value)
	if err != nil {
		return 0, err
	}
	rev, err = b.Backend.Update(ctx, key, v, rev, fences...)
	var ce *store.ConflictError
	if err != nil && errors.As(err, &ce) && ce.Latest != nil {
		l := convertKV(*ce.Latest)
		ce.Latest = &l
	}
	return rev, err
}

func (b eventsBackend) Delete(ctx context.Context, key string, rev int64, fences ...store.Fence) (store.KV, int64, error) {
	kv, r, err := b.Backend.Delete(ctx, key, rev, fences...)
	return convertKV(kv), r, err
}

// Watch converts every event's values on the way.
func (b eventsBackend) Watch(ctx context.Context, prefix string, afterRev int64) (watch.Watcher[store.KV], error) {
	in, err := b.Backend.Watch(ctx, prefix, afterRev)
	if err != nil {
		return nil, err
	}
	out := watch.NewStream[store.KV](64)
	go func() {
		defer in.Stop()
		for {
			select {
			case <-out.Done():
				out.Close(watch.ErrStopped)
				return
			case e, ok := <-in.Events():
				if !ok {
					out.Close(in.Err())
					return
				}
				e.Object = convertKV(e.Object)
				if !out.Send(ctx, e) {
					out.Close(ctx.Err())
					return
				}
			}
		}
	}()
	return out, nil
}

// Close leaves the shared backend open; its owner closes it.
func (b eventsBackend) Close() error { return nil }
