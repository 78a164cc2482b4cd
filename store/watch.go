package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/setpoint-dev/setpoint/watch"
)

// WatchOptions select what a Watch delivers.
type WatchOptions struct {
	// Selector filters by labels; the zero value matches everything.
	Selector Selector
	// Filter is an extra predicate (field selectors); nil matches all.
	Filter func(Object) bool
	// AfterRevision streams changes after this revision (typically a List's
	// Revision); 0 means after the current revision.
	AfterRevision int64
	// Bookmarks asks for watch.Bookmark events (progress notifications)
	// when the backend provides them.
	Bookmarks bool
}

// watchBuffer is the number of events a typed watcher buffers.
const watchBuffer = 128

// Watch streams changes to objects in namespace ("" = all) after
// opts.AfterRevision, in revision order, none skipped: Added, Modified and
// Deleted (with the last state, its ResourceVersion the deletion revision).
// With a Selector or Filter, only matching objects are delivered; a change
// that makes an object stop matching arrives as Deleted (with its previous
// state) and one that makes it start matching as Added. A compacted
// AfterRevision gives ErrGone, as the error or as the stream's end. The
// stream ends when ctx is done, on Stop, or on a backend error; Err says
// which.
func (s *Store[T]) Watch(ctx context.Context, namespace string, opts WatchOptions) (watch.Watcher[T], error) {
	if namespace != "" {
		if !s.res.Namespaced {
			return nil, fmt.Errorf("watch %s: %w", s.res.Name, &FieldError{Field: "namespace", Value: namespace, Reason: "must be empty for a cluster-scoped resource"})
		}
		if err := ValidateNamespace(namespace); err != nil {
			return nil, fmt.Errorf("watch %s: %w", s.res.Name, err)
		}
	}
	if opts.AfterRevision < 0 {
		return nil, fmt.Errorf("watch %s: %w", s.res.Name, &FieldError{Field: "afterRevision", Value: FormatRevision(opts.AfterRevision), Reason: "must not be negative"})
	}
	ctx, cancel := context.WithCancel(ctx)
	var bw watch.Watcher[KV]
	var err error
	if s.cache != nil {
		if opts.AfterRevision == 0 {
			if opts.AfterRevision, err = s.b.Revision(ctx); err != nil {
				cancel()
				return nil, fmt.Errorf("watch %s: %w", s.res.Name, err)
			}
		}
		bw, err = s.cache.subscribe(ctx, s.b, s.prefix, opts.AfterRevision, opts.Bookmarks)
	} else {
		bw, err = s.b.Watch(ctx, s.listPrefix(namespace), opts.AfterRevision)
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("watch %s: %w", s.res.Name, err)
	}
	var reopen func(afterRev int64) (watch.Watcher[KV], error)
	if s.cache != nil {
		reopen = func(afterRev int64) (watch.Watcher[KV], error) {
			return s.cache.subscribe(ctx, s.b, s.prefix, afterRev, opts.Bookmarks)
		}
	}
	out := watch.NewStream[T](watchBuffer)
	if s.cache != nil {
		// Close ends the watch even while it waits for its consumer.
		go func() {
			select {
			case <-s.cache.done:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	go func() {
		defer cancel()
		out.Close(s.pump(ctx, bw, reopen, out, s.listPrefix(namespace), opts))
	}()
	return out, nil
}

// maxReopens bounds how often in a row a watch-cache subscription is
// reopened without an event in between.
const maxReopens = 3

// pump converts backend events into typed events until the stream ends and
// returns the reason. With reopen (a watch-cache subscription), a stream
// that ends with ErrGone (the shared cache fell behind a compaction) or
// ErrTooSlow (this watch fell out of the cache's window) is reopened after
// the last revision this watch passed on, so nothing is skipped or repeated:
// the cache serves it if it can, else the backend, which decides whether
// that revision is really gone.
func (s *Store[T]) pump(ctx context.Context, bw watch.Watcher[KV], reopen func(int64) (watch.Watcher[KV], error), out *watch.Stream[T], prefix string, opts WatchOptions) error {
	defer func() { bw.Stop() }()
	last, reopens := opts.AfterRevision, 0
	var closed <-chan struct{} // nil (never ready) without a watch cache
	if s.cache != nil {
		closed = s.cache.done
	}
	stopped := func() error {
		select {
		case <-closed:
			return fmt.Errorf("watch %s: store closed: %w", s.res.Name, watch.ErrClosed)
		default:
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return watch.ErrStopped
	}
	filtering := !opts.Selector.Empty() || opts.Filter != nil
	match := func(obj T) bool {
		if !opts.Selector.Matches(obj.GetObjectMeta().Labels) {
			return false
		}
		return opts.Filter == nil || opts.Filter(obj)
	}
	for {
		var ev watch.Event[KV]
		var ok bool
		select {
		case ev, ok = <-bw.Events():
		case <-out.Done():
			return watch.ErrStopped
		case <-ctx.Done():
			return stopped()
		case <-closed:
			return stopped()
		}
		if !ok {
			select {
			case <-closed:
				return stopped()
			default:
			}
			if ctx.Err() != nil {
				return stopped()
			}
			err := bw.Err()
			if reopen != nil && last > 0 && (errors.Is(err, watch.ErrGone) || errors.Is(err, watch.ErrTooSlow)) && reopens < maxReopens {
				reopens++
				bw.Stop()
				if bw, err = reopen(last); err == nil {
					continue
				}
				bw = watch.NewStream[KV](0) // for the deferred Stop
			}
			if err != nil {
				return err
			}
			return watch.ErrClosed
		}
		if ev.Revision > last {
			last, reopens = ev.Revision, 0
		}
		var te watch.Event[T]
		switch ev.Type {
		case watch.Bookmark:
			if !opts.Bookmarks {
				continue
			}
			te = watch.Event[T]{Type: watch.Bookmark, Revision: ev.Revision}
		case watch.Error:
			if ev.Err != nil {
				return ev.Err
			}
			return watch.ErrClosed
		case watch.Added, watch.Modified, watch.Deleted:
			if !strings.HasPrefix(ev.Object.Key, prefix) {
				continue // another namespace, from the shared watch cache
			}
			obj, err := s.decode(ev.Object.Key, ev.Object.Value, ev.Revision)
			if err != nil {
				return fmt.Errorf("watch %s: revision %d: %w", s.res.Name, ev.Revision, err)
			}
			te = watch.Event[T]{Type: ev.Type, Object: obj, Revision: ev.Revision}
			if filtering {
				now := match(obj)
				if ev.Type == watch.Modified {
					was := true
					if ev.Object.PrevValue != nil {
						prev, err := s.decode(ev.Object.Key, ev.Object.PrevValue, ev.Revision)
						if err != nil {
							return fmt.Errorf("watch %s: revision %d: previous value: %w", s.res.Name, ev.Revision, err)
						}
						was = match(prev)
						if was && !now {
							te.Object = prev
						}
					}
					switch {
					case was && !now:
						te.Type = watch.Deleted
					case !was && now:
						te.Type = watch.Added
					case !was && !now:
						continue
					}
				} else if !now {
					continue
				}
			}
		default:
			return fmt.Errorf("watch %s: backend sent unknown event type %q", s.res.Name, ev.Type)
		}
		if !out.Send(ctx, te) {
			return stopped()
		}
	}
}
