package store

import (
	"context"
	"fmt"

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
	bw, err := s.b.Watch(ctx, s.listPrefix(namespace), opts.AfterRevision)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("watch %s: %w", s.res.Name, err)
	}
	out := watch.NewStream[T](watchBuffer)
	go func() {
		defer cancel()
		defer bw.Stop()
		out.Close(s.pump(ctx, bw, out, opts))
	}()
	return out, nil
}

// pump converts backend events into typed events until the stream ends and
// returns the reason.
func (s *Store[T]) pump(ctx context.Context, bw watch.Watcher[KV], out *watch.Stream[T], opts WatchOptions) error {
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
			return ctx.Err()
		}
		if !ok {
			if err := bw.Err(); err != nil {
				return err
			}
			return watch.ErrClosed
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
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return watch.ErrStopped
		}
	}
}
