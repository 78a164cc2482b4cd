package store

import (
	"strings"
	"sync"

	"github.com/setpoint-dev/setpoint/watch"
)

// change is one backend event decoded once for every watcher of a store: the
// object (with its JSON encoding, computed at most once and shared by every
// HTTP watcher that writes it) and, for a modification, the previous state,
// decoded the first time a watcher's selector needs it.
type change[T Object] struct {
	s      *Store[T]
	report func(where, key string, rev int64, err error) // undecodable values
	key    string
	rev    int64
	size   int64             // stored bytes, the weight against byte budgets
	obj    *watch.Encoded[T] // nil when the stored value does not decode
	raw    []byte            // the stored value, kept when T has no DeepCopy

	keep     bool // keep the stored bytes for ownCopy
	hasPrev  bool // the backend sent the previous value
	prevOnce sync.Once
	prevRaw  []byte            // until decoded
	prev     *watch.Encoded[T] // nil when unknown or undecodable
	prevRawK []byte            // the previous value, kept when T has no DeepCopy
}

// Size is the change's weight against watch byte budgets (watch.Sizer).
func (c *change[T]) Size() int64 {
	if c == nil {
		return 0
	}
	return c.size
}

// newChange decodes a backend event. An object that does not decode is
// reported (logged and counted, through report) here, once per event, and
// left nil. With shared, the change is for many watchers, and ownCopy may
// need the stored bytes again.
func (s *Store[T]) newChange(ev *watch.Event[KV], shared bool, report func(where, key string, rev int64, err error)) *change[T] {
	kv := &ev.Object
	c := &change[T]{s: s, report: report, key: kv.Key, rev: ev.Revision, size: kv.Size(), keep: shared && !s.hasDeepCopy}
	obj, err := s.decode(kv.Key, kv.Value, ev.Revision)
	if err != nil {
		report("watch", kv.Key, ev.Revision, err)
	} else {
		c.obj = watch.NewEncoded(obj)
		if c.keep {
			c.raw = kv.Value
		}
	}
	if ev.Type == watch.Modified && kv.PrevValue != nil {
		c.hasPrev, c.prevRaw = true, kv.PrevValue
	}
	return c
}

// prevState says what is known of the state before a modification.
type prevState int

const (
	prevUnknown    prevState = iota // the backend did not send it
	prevReadable                    // decoded
	prevUnreadable                  // sent, but it does not decode
)

// previous returns the state before the change, decoding it on first use.
func (c *change[T]) previous() (*watch.Encoded[T], prevState) {
	if !c.hasPrev {
		return nil, prevUnknown
	}
	c.prevOnce.Do(func() {
		// As Kubernetes does, the previous state is reported at the
		// change's revision: it is the object as of just before it.
		obj, err := c.s.decode(c.key, c.prevRaw, c.rev)
		if err != nil {
			c.report("watch (previous value)", c.key, c.rev, err)
		} else {
			c.prev = watch.NewEncoded(obj)
			if c.keep {
				c.prevRawK = c.prevRaw
			}
		}
		c.prevRaw = nil
	})
	if c.prev == nil {
		return nil, prevUnreadable
	}
	return c.prev, prevReadable
}

// route is what one watcher wants: the key prefix of its namespace and its
// selector and filter. It decides, once per watcher and event, what the
// watcher is told. This is the one place the rules live, for Store.Watch
// and the REST handler, through the watch cache or straight from the
// backend:
//
//   - Without a selector or filter, events pass as they are.
//   - With one, a modification that makes an object start matching is
//     Added, one that makes it stop matching is Deleted (carrying the
//     previous state, at the change's revision), and one that concerns no
//     matching state is not sent.
//   - When the backend did not send the previous state of a modification
//     (etcd omits it when that revision was compacted before the watch read
//     it), the previous state counts as not matching, as in Kubernetes'
//     watch cache: the change is Added if the object matches now and not
//     sent otherwise. (A watcher that had the object and would have been
//     told Deleted keeps it until it relists; an unfiltered watcher, which
//     has every object, gets the Modified.)
//   - A stored value that does not decode is never fatal to the stream: the
//     object is treated as absent. Its Added, Deleted and Modified events
//     are skipped (they were reported when decoded), except that a
//     modification that makes a readable object unreadable is Deleted with
//     the last readable state, to watchers that had it, and one that makes
//     an unreadable object readable again is Added. An ERROR would end every
//     watcher covering the object, and each would meet the same event again
//     when it resumed; a relist does not show it either, since List skips
//     unreadable objects.
type route[T Object] struct {
	prefix    string
	selector  Selector
	filter    func(Object) bool
	filtering bool
	bookmarks bool
}

func newRoute[T Object](prefix string, opts WatchOptions) *route[T] {
	return &route[T]{
		prefix:    prefix,
		selector:  opts.Selector,
		filter:    opts.Filter,
		filtering: !opts.Selector.Empty() || opts.Filter != nil,
		bookmarks: opts.Bookmarks,
	}
}

func (r *route[T]) match(e *watch.Encoded[T]) bool {
	obj := e.Object
	if !r.selector.Matches(obj.GetObjectMeta().Labels) {
		return false
	}
	return r.filter == nil || r.filter(obj)
}

// decide returns the event type to send and the state it carries (the
// object's, or the previous one's), or ok false to send nothing.
func (r *route[T]) decide(typ watch.EventType, c *change[T]) (out watch.EventType, state *watch.Encoded[T], fromPrev bool, ok bool) {
	if !strings.HasPrefix(c.key, r.prefix) {
		return "", nil, false, false // another namespace
	}
	switch typ {
	case watch.Added, watch.Deleted:
		if c.obj == nil || !r.match(c.obj) {
			return "", nil, false, false
		}
		return typ, c.obj, false, true
	case watch.Modified:
	default:
		return "", nil, false, false
	}
	prev, ps := c.previous()
	if c.obj == nil { // now unreadable: it leaves the watches that had it
		if ps == prevReadable && r.match(prev) {
			return watch.Deleted, prev, true, true
		}
		return "", nil, false, false
	}
	now := r.match(c.obj)
	var was bool
	switch {
	case ps == prevUnreadable:
		was = false // nobody had it
	case !r.filtering:
		was = true
	case ps == prevUnknown:
		was = false // Kubernetes' watch cache rule
	default:
		was = r.match(prev)
	}
	switch {
	case was && now:
		return watch.Modified, c.obj, false, true
	case now:
		return watch.Added, c.obj, false, true
	case was:
		return watch.Deleted, prev, true, true
	}
	return "", nil, false, false
}

// convert turns one cache event into what this watcher is sent, with pick
// choosing the delivered form of the object.
func convert[T Object, O any](r *route[T], ev watch.Event[*change[T]], pick func(c *change[T], e *watch.Encoded[T], prev bool) O) (watch.Event[O], bool) {
	switch ev.Type {
	case watch.Bookmark:
		if !r.bookmarks {
			return watch.Event[O]{}, false
		}
		return watch.Event[O]{Type: watch.Bookmark, Revision: ev.Revision}, true
	case watch.Error:
		return watch.Event[O]{Type: watch.Error, Err: ev.Err}, true
	}
	typ, state, fromPrev, ok := r.decide(ev.Type, ev.Object)
	if !ok {
		return watch.Event[O]{}, false
	}
	return watch.Event[O]{Type: typ, Object: pick(ev.Object, state, fromPrev), Revision: ev.Revision}, true
}

// ownCopy returns a copy of a shared cached object that the caller owns:
// Store.Watch's contract. It uses the type's generated DeepCopy when it has
// one, otherwise it decodes the stored bytes again.
func ownCopy[T Object](c *change[T], e *watch.Encoded[T], prev bool) T {
	if c.s.hasDeepCopy {
		return any(e.Object).(interface{ DeepCopy() T }).DeepCopy()
	}
	raw := c.raw
	if prev {
		raw = c.prevRawK
	}
	obj, err := c.s.decode(c.key, raw, c.rev)
	if err != nil { // it decoded a moment ago; cannot happen
		return Clone(e.Object)
	}
	return obj
}

// shared hands the cached object itself to the watcher, read-only.
func shared[T Object](_ *change[T], e *watch.Encoded[T], _ bool) *watch.Encoded[T] { return e }

// owned hands over an object decoded for this watcher alone.
func owned[T Object](_ *change[T], e *watch.Encoded[T], _ bool) T { return e.Object }

// delivery says how a watch hands objects over: through the cache (shared
// by every watcher) and from its own backend watch.
type delivery[T Object, O any] struct {
	cached, direct func(*change[T], *watch.Encoded[T], bool) O
}
