package informer

import (
	"context"
	"errors"
	"fmt"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// reflector is the informer's only cache writer: it lists, watches from the
// list's revision, and applies what it sees, relisting when the watch can no
// longer resume.
type reflector[T store.Object] struct {
	inf *Informer[T]
	bo  backoff
}

// run loops until ctx ends.
func (r *reflector[T]) run(ctx context.Context) {
	inf := r.inf
	needList := true
	for ctx.Err() == nil {
		if needList {
			if err := r.listAndReplace(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				inf.setLastError(err)
				inf.log.Warn("list failed", "err", err)
				r.sleep(ctx)
				continue
			}
			inf.setLastError(nil)
			needList = false
		}
		err := r.watch(ctx)
		if ctx.Err() != nil {
			return
		}
		inf.setLastError(err)
		if errors.Is(err, watch.ErrGone) {
			inf.log.Info("watch revision gone; relisting", "err", err)
			inf.stats.relists.Add(1)
			needList = true
		} else {
			inf.log.Warn("watch ended; resuming", "revision", inf.cache.Revision(), "err", err)
		}
		r.sleep(ctx)
	}
}

func (r *reflector[T]) sleep(ctx context.Context) {
	t := r.inf.cfg.Clock.NewTimer(r.bo.next())
	defer t.Stop()
	select {
	case <-t.Chan():
	case <-ctx.Done():
	}
}

// listAndReplace reads a complete, consistent list (all pages at the first
// page's revision) and replaces the cache with it. If the store compacts
// the first page's revision while the informer pages through, it lists
// again at once in a single request, which compaction cannot interrupt.
func (r *reflector[T]) listAndReplace(ctx context.Context) error {
	inf := r.inf
	inf.stats.lists.Add(1)
	err := r.list(ctx, inf.cfg.PageSize)
	if errors.Is(err, watch.ErrGone) && inf.cfg.PageSize > 0 && ctx.Err() == nil {
		inf.log.Info("paged list expired; listing in one request", "err", err)
		err = r.list(ctx, 0)
	}
	return err
}

func (r *reflector[T]) list(ctx context.Context, pageSize int64) error {
	inf := r.inf
	opts := store.ListOptions{Selector: inf.cfg.Selector, Filter: inf.cfg.Filter}
	if pageSize > 0 {
		opts.Limit = pageSize
	}
	items := make(map[string]T)
	var rev int64
	for {
		page, err := inf.lw.List(ctx, inf.cfg.Namespace, opts)
		if err != nil {
			inf.stats.listErrors.Add(1)
			return fmt.Errorf("informer %s: list: %w", inf.cfg.Name, err)
		}
		if rev == 0 {
			rev = page.Revision
		} else if page.Revision != rev {
			inf.stats.listErrors.Add(1)
			return fmt.Errorf("informer %s: list: page at revision %d, first page at %d", inf.cfg.Name, page.Revision, rev)
		}
		for _, obj := range page.Items {
			obj = r.transform(obj)
			items[store.KeyOf(obj)] = obj
		}
		if page.Continue == "" {
			break
		}
		opts.Continue = page.Continue
	}
	r.replace(items, rev)
	return nil
}

func (r *reflector[T]) transform(obj T) T {
	if t := r.inf.cfg.Transform; t != nil {
		return t(obj)
	}
	return obj
}

// replace swaps the cache to items at rev and tells handlers what changed:
// on the first list every object is an initial add; on a relist, objects
// new since the last view are adds, changed ones updates, and vanished ones
// deletes with finalStateUnknown.
func (r *reflector[T]) replace(items map[string]T, rev int64) {
	inf := r.inf
	inf.dmu.Lock()
	defer inf.dmu.Unlock()
	first := !inf.synced
	old := inf.cache.itemsLocked()
	for k, prev := range old {
		// Unchanged objects keep the instance readers already share.
		if cur, ok := items[k]; ok && cur.GetObjectMeta().ResourceVersion == prev.GetObjectMeta().ResourceVersion {
			items[k] = prev
		}
	}
	// The cache and its revision first, then the notes: a handler that
	// reads the cache or Revision when told of a change sees that change.
	inf.cache.replace(items, rev)
	inf.setRevision(rev)
	ls := inf.listeners
	if len(ls) > 0 {
		for k, obj := range items {
			prev, ok := old[k]
			switch {
			case !ok:
				for _, l := range ls {
					l.push(note[T]{kind: noteAdd, obj: obj, flag: first})
				}
			case prev.GetObjectMeta().ResourceVersion != obj.GetObjectMeta().ResourceVersion:
				for _, l := range ls {
					l.push(note[T]{kind: noteUpdate, old: prev, obj: obj})
				}
			}
		}
		for k, prev := range old {
			if _, ok := items[k]; !ok {
				for _, l := range ls {
					l.push(note[T]{kind: noteDelete, obj: prev, flag: true})
				}
			}
		}
	}
	if first {
		inf.synced = true
		for _, l := range ls {
			l.markSynced()
		}
		close(inf.syncedCh)
		inf.log.Info("synced", "objects", len(items), "revision", rev)
	}
}

// watch streams changes after the cache's revision until the stream ends,
// and returns why it ended.
func (r *reflector[T]) watch(ctx context.Context) error {
	inf := r.inf
	inf.stats.watches.Add(1)
	from := inf.cache.Revision()
	start := inf.cfg.Clock.Now()
	w, err := inf.lw.Watch(ctx, inf.cfg.Namespace, store.WatchOptions{
		Selector:      inf.cfg.Selector,
		Filter:        inf.cfg.Filter,
		AfterRevision: from,
		Bookmarks:     true,
	})
	if err != nil {
		return fmt.Errorf("informer %s: watch after revision %d: %w", inf.cfg.Name, from, err)
	}
	defer w.Stop()
	defer func() {
		// A watch that stayed healthy long enough resets the backoff.
		if inf.cfg.Clock.Now().Sub(start) >= inf.cfg.Backoff.ResetAfter {
			r.bo.reset()
		}
	}()
	for {
		var ev watch.Event[T]
		var ok bool
		select {
		case ev, ok = <-w.Events():
		case <-ctx.Done():
			return ctx.Err()
		}
		if !ok {
			err := w.Err()
			if err == nil {
				err = watch.ErrClosed
			}
			return fmt.Errorf("informer %s: watch: %w", inf.cfg.Name, err)
		}
		switch ev.Type {
		case watch.Error:
			err := ev.Err
			if err == nil {
				err = watch.ErrClosed
			}
			return fmt.Errorf("informer %s: watch: %w", inf.cfg.Name, err)
		case watch.Bookmark:
			if ev.Revision > inf.cache.Revision() {
				inf.dmu.Lock()
				inf.setRevision(ev.Revision)
				inf.dmu.Unlock()
			}
		case watch.Added, watch.Modified, watch.Deleted:
			if ev.Revision == 0 {
				// A source that does not fill Revision: use the object's.
				ev.Revision, _ = store.ParseRevision(ev.Object.GetObjectMeta().ResourceVersion)
			}
			if ev.Revision != 0 && ev.Revision <= inf.cache.Revision() {
				continue // already reflected (a source may repeat the start revision)
			}
			r.apply(ev)
		default:
			return fmt.Errorf("informer %s: watch: unknown event type %q", inf.cfg.Name, ev.Type)
		}
	}
}

// apply writes one watch event to the cache and queues the handler calls.
func (r *reflector[T]) apply(ev watch.Event[T]) {
	inf := r.inf
	obj := r.transform(ev.Object)
	key := store.KeyOf(obj)
	inf.dmu.Lock()
	defer inf.dmu.Unlock()
	// The cache and its revision first, then the notes: a handler that
	// reads the cache or Revision when told of a change sees that change.
	n, tell := note[T]{kind: noteAdd, obj: obj}, true
	if ev.Type == watch.Deleted {
		n.kind = noteDelete
		_, tell = inf.cache.remove(key) // not cached: nothing to tell
	} else if prev, existed := inf.cache.upsert(key, obj); existed {
		n.kind, n.old = noteUpdate, prev
	}
	if ev.Revision > 0 {
		inf.setRevision(ev.Revision)
	}
	if tell {
		for _, l := range inf.listeners {
			l.push(n)
		}
	}
}
