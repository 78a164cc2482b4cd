package server

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// objCache is a list-watch copy of one resource, for admission lookups
// that need not be linearizable (a miss is checked against the store).
type objCache[T store.Object] struct {
	st  *store.Store[T]
	log *slog.Logger

	mu     sync.RWMutex
	m      map[string]T
	synced bool
}

func newObjCache[T store.Object](st *store.Store[T], log *slog.Logger) *objCache[T] {
	return &objCache[T]{st: st, log: log, m: map[string]T{}}
}

// get returns the cached object with key namespace/name (or name).
func (c *objCache[T]) get(key string) (T, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.m[key]
	return v, ok && c.synced
}

// any reports whether fn holds for some cached object; ok is false before
// the first list.
func (c *objCache[T]) any(fn func(T) bool) (found, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, v := range c.m {
		if fn(v) {
			return true, c.synced
		}
	}
	return false, c.synced
}

// run keeps the cache up to date until ctx ends, relisting when the watch
// breaks.
func (c *objCache[T]) run(ctx context.Context) {
	for ctx.Err() == nil {
		err := c.listWatch(ctx)
		if ctx.Err() != nil {
			return
		}
		c.log.Debug("admission cache relisting", "resource", c.st.Resource().Name, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *objCache[T]) listWatch(ctx context.Context) error {
	l, err := c.st.List(ctx, "", store.ListOptions{})
	if err != nil {
		return err
	}
	m := make(map[string]T, len(l.Items))
	for _, o := range l.Items {
		m[store.KeyOf(o)] = o
	}
	c.mu.Lock()
	c.m, c.synced = m, true
	c.mu.Unlock()
	w, err := c.st.Watch(ctx, "", store.WatchOptions{AfterRevision: l.Revision})
	if err != nil {
		return err
	}
	defer w.Stop()
	for ev := range w.Events() {
		c.mu.Lock()
		switch ev.Type {
		case watch.Added, watch.Modified:
			c.m[store.KeyOf(ev.Object)] = ev.Object
		case watch.Deleted:
			delete(c.m, store.KeyOf(ev.Object))
		}
		c.mu.Unlock()
	}
	if err := w.Err(); err != nil {
		return err
	}
	return errors.New("watch ended")
}
