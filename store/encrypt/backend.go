package encrypt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// Backend wraps a store.Backend so that the values of the configured
// resources are encrypted before they reach it and decrypted when read:
// Get, Range, Delete's last state and watch events all carry plain values;
// the wrapped backend holds only ciphertext. Keys, revisions and
// preconditions are unchanged. Values of resources the configuration does
// not name pass through untouched.
type Backend struct {
	b      store.Backend
	prefix string
	byName map[string]*Transformer // resource key segment -> transformer; "*" for all
}

var (
	_ store.Backend    = (*Backend)(nil)
	_ store.SideWriter = (*Backend)(nil)
)

// New returns b wrapped with cfg's transformers, for keys under prefix
// (the typed stores' key prefix, store.DefaultKeyPrefix unless
// store.WithKeyPrefix says otherwise): a key prefix/<resource>/... is
// transformed by the configuration entry naming <resource>. cfg is
// validated first.
func New(b store.Backend, cfg *Configuration, prefix string) (*Backend, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("encryption configuration: %w", err)
	}
	e := &Backend{b: b, prefix: strings.TrimSuffix(prefix, "/") + "/", byName: map[string]*Transformer{}}
	for _, rc := range cfg.Resources {
		t, _ := newTransformer(rc.Providers) // validated above
		for _, r := range rc.Resources {
			name, _ := resourceName(r)
			e.byName[name] = t
		}
	}
	return e, nil
}

// transformer returns the transformer for key, or nil if its values are
// stored as they are.
func (e *Backend) transformer(key string) *Transformer {
	rest, ok := strings.CutPrefix(key, e.prefix)
	if !ok {
		return nil
	}
	name, _, _ := strings.Cut(rest, "/")
	if t := e.byName[name]; t != nil {
		return t
	}
	return e.byName["*"]
}

func (e *Backend) toStorage(key string, v []byte) ([]byte, error) {
	if t := e.transformer(key); t != nil {
		return t.ToStorage(v, key)
	}
	return v, nil
}

func (e *Backend) fromStorage(kv *store.KV) error {
	t := e.transformer(kv.Key)
	if t == nil {
		return nil
	}
	samePrev := len(kv.PrevValue) > 0 && len(kv.Value) > 0 && &kv.PrevValue[0] == &kv.Value[0]
	if kv.Value != nil {
		v, _, err := t.FromStorage(kv.Value, kv.Key)
		if err != nil {
			return err
		}
		kv.Value = v
	}
	if samePrev {
		kv.PrevValue = kv.Value
	} else if kv.PrevValue != nil {
		v, _, err := t.FromStorage(kv.PrevValue, kv.Key)
		if err != nil {
			return err
		}
		kv.PrevValue = v
	}
	return nil
}

// Get implements store.Backend.
func (e *Backend) Get(ctx context.Context, key string) (store.KV, error) {
	kv, err := e.b.Get(ctx, key)
	if err != nil {
		return kv, err
	}
	if err := e.fromStorage(&kv); err != nil {
		return store.KV{}, err
	}
	return kv, nil
}

// Range implements store.Backend.
func (e *Backend) Range(ctx context.Context, prefix string, opts store.RangeOptions) (store.RangeResult, error) {
	res, err := e.b.Range(ctx, prefix, opts)
	if err != nil {
		return res, err
	}
	for i := range res.KVs {
		if err := e.fromStorage(&res.KVs[i]); err != nil {
			return store.RangeResult{}, err
		}
	}
	return res, nil
}

// writeErr decrypts the latest state a *store.ConflictError carries; if it
// cannot, the state is dropped (Latest is optional).
func (e *Backend) writeErr(err error) error {
	var ce *store.ConflictError
	if errors.As(err, &ce) && ce.Latest != nil {
		if e.fromStorage(ce.Latest) != nil {
			ce.Latest = nil
		}
	}
	return err
}

// Create implements store.Backend.
func (e *Backend) Create(ctx context.Context, key string, value []byte, fences ...store.Fence) (int64, error) {
	v, err := e.toStorage(key, value)
	if err != nil {
		return 0, err
	}
	rev, err := e.b.Create(ctx, key, v, fences...)
	return rev, e.writeErr(err)
}

// CreateWithSideWrites implements store.SideWriter when the wrapped
// backend does; side writes are transformed like any write.
func (e *Backend) CreateWithSideWrites(ctx context.Context, key string, value []byte, side []store.SideWrite, fences ...store.Fence) (int64, error) {
	sw, ok := e.b.(store.SideWriter)
	if !ok {
		return 0, fmt.Errorf("%w: create %s: the backend %T cannot make side writes", store.ErrInvalid, key, e.b)
	}
	v, err := e.toStorage(key, value)
	if err != nil {
		return 0, err
	}
	out := make([]store.SideWrite, len(side))
	for i, s := range side {
		if !s.CheckOnly { // a condition writes nothing
			if s.Value, err = e.toStorage(s.Key, s.Value); err != nil {
				return 0, err
			}
		}
		out[i] = s
	}
	rev, err := sw.CreateWithSideWrites(ctx, key, v, out, fences...)
	return rev, e.writeErr(err)
}

// Update implements store.Backend.
func (e *Backend) Update(ctx context.Context, key string, value []byte, rev int64, fences ...store.Fence) (int64, error) {
	v, err := e.toStorage(key, value)
	if err != nil {
		return 0, err
	}
	nrev, err := e.b.Update(ctx, key, v, rev, fences...)
	return nrev, e.writeErr(err)
}

// Delete implements store.Backend.
func (e *Backend) Delete(ctx context.Context, key string, rev int64, fences ...store.Fence) (store.KV, int64, error) {
	kv, drev, err := e.b.Delete(ctx, key, rev, fences...)
	if err != nil {
		return kv, drev, e.writeErr(err)
	}
	if err := e.fromStorage(&kv); err != nil {
		// The delete happened; only its last state is unreadable.
		return store.KV{Key: kv.Key, CreateRevision: kv.CreateRevision, ModRevision: kv.ModRevision}, drev, nil
	}
	return kv, drev, nil
}

// Watch implements store.Backend. A value that cannot be decrypted ends
// the stream with an error wrapping ErrDecrypt.
func (e *Backend) Watch(ctx context.Context, prefix string, afterRev int64) (watch.Watcher[store.KV], error) {
	in, err := e.b.Watch(ctx, prefix, afterRev)
	if err != nil {
		return nil, err
	}
	w := &watcher{in: in, out: make(chan watch.Event[store.KV]), stop: make(chan struct{})}
	go w.run(e)
	return w, nil
}

// Revision implements store.Backend.
func (e *Backend) Revision(ctx context.Context) (int64, error) { return e.b.Revision(ctx) }

// Compact implements store.Backend.
func (e *Backend) Compact(ctx context.Context, rev int64) error { return e.b.Compact(ctx, rev) }

// Close closes the wrapped backend.
func (e *Backend) Close() error { return e.b.Close() }

// Unwrap returns the wrapped backend (raw, encrypted values).
func (e *Backend) Unwrap() store.Backend { return e.b }

type watcher struct {
	in       watch.Watcher[store.KV]
	out      chan watch.Event[store.KV]
	stop     chan struct{}
	stopOnce sync.Once
	mu       sync.Mutex
	err      error
}

func (w *watcher) run(e *Backend) {
	var err error
	defer func() {
		w.in.Stop()
		if err == nil {
			err = w.in.Err()
		}
		if err == nil {
			err = watch.ErrStopped
		}
		w.mu.Lock()
		w.err = err
		w.mu.Unlock()
		close(w.out)
	}()
	for {
		select {
		case <-w.stop:
			err = watch.ErrStopped
			return
		case ev, ok := <-w.in.Events():
			if !ok {
				return
			}
			if ev.Type != watch.Bookmark && ev.Type != watch.Error {
				if err = e.fromStorage(&ev.Object); err != nil {
					return
				}
			}
			select {
			case w.out <- ev:
			case <-w.stop:
				err = watch.ErrStopped
				return
			}
		}
	}
}

func (w *watcher) Events() <-chan watch.Event[store.KV] { return w.out }

func (w *watcher) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *watcher) Stop() { w.stopOnce.Do(func() { close(w.stop) }) }
