package store

import (
	"context"
	"errors"
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
// state) and one that makes it start matching as Added (see WatchCache for
// the rules when the previous state is unknown, and for objects whose
// stored value does not decode, which are skipped and reported, never fatal
// to the stream). Every object is the caller's own. A compacted
// AfterRevision gives ErrGone, as the error or as the stream's end. The
// stream ends when ctx is done, on Stop, on a backend error, or with
// watch.ErrTooSlow when the consumer leaves more than its byte budget
// untaken (WatchCacheConfig.WatcherBytes; DefaultWatcherBytes without a
// watch cache): watch again after the last revision processed. Err says
// which.
func (s *Store[T]) Watch(ctx context.Context, namespace string, opts WatchOptions) (watch.Watcher[T], error) {
	var c *WatchCache[T]
	if s.cache != nil {
		s.cache.start()
		c = s.cache.WatchCache
	}
	return watchVia(ctx, s, c, namespace, opts, delivery[T, T]{ownCopy[T], owned[T]})
}

// WatchEncoded is Watch for servers that write the events out: each object
// comes with its JSON encoding (watch.Encoded, which watch.Encoder writes
// without marshalling again). Through a watch cache, the object and its
// encoding are shared by every watcher of the event, encoded at most once,
// and must not be modified.
func (s *Store[T]) WatchEncoded(ctx context.Context, namespace string, opts WatchOptions) (watch.Watcher[*watch.Encoded[T]], error) {
	var c *WatchCache[T]
	if s.cache != nil {
		s.cache.start()
		c = s.cache.WatchCache
	}
	return watchVia(ctx, s, c, namespace, opts, delivery[T, *watch.Encoded[T]]{shared[T], shared[T]})
}

// WatchCache returns the store's own watch cache (see WithWatchCache), or nil.
func (s *Store[T]) WatchCache() *WatchCache[T] {
	if s.cache == nil {
		return nil
	}
	return s.cache.WatchCache
}

// watchVia checks the arguments and serves the watch from c, or from the
// backend when c is nil.
func watchVia[T Object, O any](ctx context.Context, s *Store[T], c *WatchCache[T], namespace string, opts WatchOptions, d delivery[T, O]) (watch.Watcher[O], error) {
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
	r := newRoute[T](s.listPrefix(namespace), opts)
	var w watch.Watcher[O]
	var err error
	if c == nil {
		w, err = direct(ctx, s, r, opts.AfterRevision, DefaultWatcherBytes, nil, d.direct)
	} else {
		after := opts.AfterRevision
		if after == 0 {
			if after, err = s.b.Revision(ctx); err != nil {
				return nil, fmt.Errorf("watch %s: %w", s.res.Name, err)
			}
		}
		w, err = subscribe(ctx, c, r, after, d)
	}
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", s.res.Name, err)
	}
	return w, nil
}

// direct serves one watch from its own backend watch, decoding each event
// for this watcher alone. It keeps reading the backend while its consumer is
// slow, up to budget bytes untaken (see watch.Outbox), and then ends with
// watch.ErrTooSlow. It ends with watch.ErrClosed when closed is closed.
func direct[T Object, O any](ctx context.Context, s *Store[T], r *route[T], afterRev, budget int64, closed <-chan struct{}, pick func(*change[T], *watch.Encoded[T], bool) O) (watch.Watcher[O], error) {
	bctx, stopBackend := context.WithCancel(ctx)
	bw, err := s.b.Watch(bctx, r.prefix, afterRev)
	if err != nil {
		stopBackend()
		return nil, err
	}
	out := watch.NewStream[O](watchBuffer)
	go func() {
		defer stopBackend()
		ob := watch.NewOutbox(out, budget)
		err := pumpDirect(ctx, s, r, bw, ob, budget, closed, pick)
		bw.Stop()
		stopBackend() // release the backend watch before waiting for the consumer
		if errors.Is(err, watch.ErrClosed) && isClosed(closed) {
			out.Close(err) // shutting down: do not wait for the consumer
			return
		}
		ob.Finish(ctx, err)
	}()
	return out, nil
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// pumpDirect moves backend events into ob until the stream ends, and
// returns why.
func pumpDirect[T Object, O any](ctx context.Context, s *Store[T], r *route[T], bw watch.Watcher[KV], ob *watch.Outbox[O], budget int64, closed <-chan struct{}, pick func(*change[T], *watch.Encoded[T], bool) O) error {
	for {
		var ev watch.Event[KV]
		var ok bool
		select {
		case ev, ok = <-bw.Events():
		case ob.C() <- ob.Head():
			ob.Pop()
			continue
		case <-ob.Done():
			return watch.ErrStopped
		case <-ctx.Done():
			return ctx.Err()
		case <-closed:
			return fmt.Errorf("watch %s: store closed: %w", s.res.Name, watch.ErrClosed)
		}
		if !ok {
			if isClosed(closed) {
				return fmt.Errorf("watch %s: store closed: %w", s.res.Name, watch.ErrClosed)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := bw.Err(); err != nil {
				return err
			}
			return watch.ErrClosed
		}
		var te watch.Event[*change[T]]
		var weight int64
		switch ev.Type {
		case watch.Bookmark:
			te = watch.Event[*change[T]]{Type: watch.Bookmark, Revision: ev.Revision}
		case watch.Added, watch.Modified, watch.Deleted:
			c := s.newChange(&ev, false, s.reportUndecodable)
			te = watch.Event[*change[T]]{Type: ev.Type, Object: c, Revision: ev.Revision}
			weight = c.size
		case watch.Error:
			if ev.Err != nil {
				return ev.Err
			}
			return watch.ErrClosed
		default:
			return fmt.Errorf("watch %s: backend sent unknown event type %q", s.res.Name, ev.Type)
		}
		out, ok := convert(r, te, pick)
		if !ok {
			continue
		}
		if !ob.Push(out, weight) {
			return fmt.Errorf("watch %s: %w: the consumer left more than %d bytes of events untaken; resume after the last revision processed", s.res.Name, watch.ErrTooSlow, budget)
		}
	}
}
