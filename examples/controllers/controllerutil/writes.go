package controllerutil

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

// PodDeleter deletes pods (the typed pods client implements it).
type PodDeleter interface {
	Delete(ctx context.Context, namespace, name string, opts ...store.DeleteOption) (*api.Pod, error)
}

// DeletePods deletes pods at once, each with a UID precondition, after
// recording them as deletions key expects; a delete that fails or finds
// the pod gone is marked observed at once, since no watch event will
// come for it. done, if not nil, is called for each pod deleted (err nil)
// and each failure other than not-found. The failures are returned
// joined.
func DeletePods(ctx context.Context, c PodDeleter, exp *Expectations, key string, pods []*api.Pod, done func(p *api.Pod, err error)) error {
	if len(pods) == 0 {
		return nil
	}
	keys := make([]string, len(pods))
	for i, p := range pods {
		keys[i] = PodKey(p)
	}
	exp.ExpectDeletions(key, keys)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Delete(ctx, p.Namespace, p.Name, store.WithPreconditionUID(p.UID))
			if err != nil {
				exp.DeletionObserved(key, PodKey(p))
				if errors.Is(err, store.ErrNotFound) {
					return
				}
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			if done != nil {
				done(p, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// createsInFlight bounds the pod creations one CreatePods call has in
// flight: enough to keep a busy apiserver's request pipeline full (the
// raw-POST floor of bench/ uses as many), few enough that a burst of 500
// does not open 500 requests at once.
const createsInFlight = 64

// CreatePods makes n creations that key expects, slow-starting (SlowStart
// from 1, at most createsInFlight at once; Kubernetes' slowStartBatch
// without the wait for the slowest call of each batch): create(ctx, i)
// makes the i-th (0 <= i < n). A
// failed creation, and each one never attempted, is marked observed, since
// no watch event will come for it. It returns how many succeeded and the
// first error.
func CreatePods(ctx context.Context, exp *Expectations, key string, n int, create func(ctx context.Context, i int) error) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	exp.ExpectCreations(key, n)
	var next atomic.Int32
	created, err := SlowStart(ctx, n, 1, createsInFlight, func(ctx context.Context) error {
		if err := create(ctx, int(next.Add(1)-1)); err != nil {
			exp.CreationObserved(key)
			return err
		}
		return nil
	})
	for range n - int(next.Load()) {
		exp.CreationObserved(key)
	}
	return created, err
}
