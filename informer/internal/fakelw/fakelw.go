// Package fakelw is an in-memory, revisioned source of typed objects for
// informer tests. It implements the informer's ListerWatcher contract (a
// consistent paged list with its revision; a watch that streams every change
// after a revision, in order) and lets a test inject the failures a real
// store produces: list errors, broken watch streams, compaction (ErrGone) and
// progress bookmarks.
package fakelw

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

type entry[T store.Object] struct {
	typ watch.EventType
	obj T // nil for bookmarks
	rev int64
}

// breaker ends one watch from outside its producer goroutine.
type breaker struct {
	cancel context.CancelFunc
	err    error // guarded by Source.mu
}

type snapshot[T store.Object] struct {
	rev   int64
	items []T
}

// Source is a fake typed store. It is safe for concurrent use.
type Source[T store.Object] struct {
	copyFn func(T) T

	mu        sync.Mutex
	rev       int64
	objects   map[string]T
	log       []entry[T]
	compacted int64
	changed   chan struct{} // closed and replaced on every log append or break
	watchers  map[*watch.Stream[T]]*breaker
	snapshots map[int]snapshot[T]
	nextSnap  int
	listErr   error
	watchErr  error
	lists     int
	watches   int
	onList    func(call int)
}

// New returns an empty source at revision 1. copyFn makes the private copy
// every returned object gets (as a real store decodes fresh objects); nil
// means store.Clone.
func New[T store.Object](copyFn func(T) T) *Source[T] {
	if copyFn == nil {
		copyFn = store.Clone[T]
	}
	return &Source[T]{
		copyFn:    copyFn,
		rev:       1,
		objects:   map[string]T{},
		changed:   make(chan struct{}),
		watchers:  map[*watch.Stream[T]]*breaker{},
		snapshots: map[int]snapshot[T]{},
	}
}

// Revision returns the current revision.
func (s *Source[T]) Revision() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rev
}

// Create stores a copy of obj with a new revision and returns the stored
// copy's revision.
func (s *Source[T]) Create(obj T) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := store.KeyOf(obj)
	if _, ok := s.objects[k]; ok {
		return 0, fmt.Errorf("%w: %s", store.ErrAlreadyExists, k)
	}
	return s.write(watch.Added, k, obj), nil
}

// Update replaces the stored object with a copy of obj.
func (s *Source[T]) Update(obj T) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := store.KeyOf(obj)
	if _, ok := s.objects[k]; !ok {
		return 0, fmt.Errorf("%w: %s", store.ErrNotFound, k)
	}
	return s.write(watch.Modified, k, obj), nil
}

// Delete removes the object with key "namespace/name" (or "name").
func (s *Source[T]) Delete(key string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.objects[key]
	if !ok {
		return 0, fmt.Errorf("%w: %s", store.ErrNotFound, key)
	}
	delete(s.objects, key)
	s.rev++
	s.append(entry[T]{typ: watch.Deleted, obj: old, rev: s.rev})
	return s.rev, nil
}

func (s *Source[T]) write(typ watch.EventType, k string, obj T) int64 {
	c := s.copyFn(obj)
	s.rev++
	c.GetObjectMeta().ResourceVersion = strconv.FormatInt(s.rev, 10)
	s.objects[k] = c
	s.append(entry[T]{typ: typ, obj: c, rev: s.rev})
	return s.rev
}

// Bookmark sends a progress bookmark at the current revision to every
// watcher that asked for bookmarks.
func (s *Source[T]) Bookmark() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.append(entry[T]{typ: watch.Bookmark, rev: s.rev})
}

// Bump advances the revision without changing any object this source serves
// (as a write to another resource does), and returns the new revision.
func (s *Source[T]) Bump() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rev++
	return s.rev
}

func (s *Source[T]) append(e entry[T]) {
	s.log = append(s.log, e)
	close(s.changed)
	s.changed = make(chan struct{})
}

// Compact discards history up to the current revision: watches and list
// continuations from before it then fail with ErrGone.
func (s *Source[T]) Compact() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.compacted = s.rev
}

// Break ends every open watch stream with err (for example watch.ErrGone,
// or a transport error).
func (s *Source[T]) Break(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.watchers {
		if b.err == nil {
			b.err = err
		}
		b.cancel()
	}
}

// FailList makes every List return err until FailList(nil).
func (s *Source[T]) FailList(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listErr = err
}

// FailWatch makes every Watch return err until FailWatch(nil).
func (s *Source[T]) FailWatch(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watchErr = err
}

// OnList sets a hook called at the start of every List call with the
// call's number (1 for the first), outside the source's lock, so a test can
// change the source between the pages of one list.
func (s *Source[T]) OnList(hook func(call int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onList = hook
}

// Calls returns how many List and Watch calls the source has served (or
// failed).
func (s *Source[T]) Calls() (lists, watches int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists, s.watches
}

// Watchers returns the number of open watch streams.
func (s *Source[T]) Watchers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.watchers)
}

func matches(o store.Object, namespace string, sel store.Selector, filter func(store.Object) bool) bool {
	m := o.GetObjectMeta()
	if namespace != "" && m.Namespace != namespace {
		return false
	}
	if !sel.Matches(m.Labels) {
		return false
	}
	return filter == nil || filter(o)
}

// List returns the objects in namespace ("" = all) that match opts, in key
// order, paged by opts.Limit with continue tokens consistent at the first
// page's revision.
func (s *Source[T]) List(ctx context.Context, namespace string, opts store.ListOptions) (*store.List[T], error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.lists++
	hook, call := s.onList, s.lists
	s.mu.Unlock()
	if hook != nil {
		hook(call)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listErr != nil {
		return nil, s.listErr
	}
	var snap snapshot[T]
	id, off := 0, 0
	if opts.Continue != "" {
		a, b, ok := strings.Cut(opts.Continue, ":")
		var err1, err2 error
		id, err1 = strconv.Atoi(a)
		off, err2 = strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%w: malformed continue token %q", store.ErrInvalid, opts.Continue)
		}
		snap, ok = s.snapshots[id]
		if !ok {
			return nil, fmt.Errorf("%w: unknown continue token %q", store.ErrInvalid, opts.Continue)
		}
		if snap.rev < s.compacted {
			return nil, &watch.GoneError{Requested: snap.rev, Oldest: s.compacted}
		}
	} else {
		keys := make([]string, 0, len(s.objects))
		for k, o := range s.objects {
			if matches(o, namespace, opts.Selector, opts.Filter) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		snap = snapshot[T]{rev: s.rev, items: make([]T, len(keys))}
		for i, k := range keys {
			snap.items[i] = s.objects[k]
		}
		id = s.nextSnap
		s.nextSnap++
		s.snapshots[id] = snap
	}
	end := len(snap.items)
	if opts.Limit > 0 && off+int(opts.Limit) < end {
		end = off + int(opts.Limit)
	}
	out := &store.List[T]{Revision: snap.rev, Items: make([]T, 0, end-off)}
	for _, o := range snap.items[off:end] {
		out.Items = append(out.Items, s.copyFn(o))
	}
	if end < len(snap.items) {
		out.Continue = fmt.Sprintf("%d:%d", id, end)
	} else {
		delete(s.snapshots, id)
	}
	return out, nil
}

// Watch streams every change in namespace after opts.AfterRevision (0: from
// now) that matches opts. An update that makes an object stop matching is
// not translated into a delete: tests use namespaces, not changing labels.
func (s *Source[T]) Watch(ctx context.Context, namespace string, opts store.WatchOptions) (watch.Watcher[T], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watches++
	if s.watchErr != nil {
		return nil, s.watchErr
	}
	after := opts.AfterRevision
	if after == 0 {
		after = s.rev
	}
	if after < s.compacted {
		return nil, &watch.GoneError{Requested: after, Oldest: s.compacted}
	}
	// Find the first log entry after the start revision.
	pos := sort.Search(len(s.log), func(i int) bool { return s.log[i].rev > after })
	w := watch.NewStream[T](16)
	wctx, cancel := context.WithCancel(ctx)
	b := &breaker{cancel: cancel}
	s.watchers[w] = b
	go s.follow(wctx, w, b, pos, namespace, opts)
	return w, nil
}

func (s *Source[T]) follow(ctx context.Context, w *watch.Stream[T], b *breaker, pos int, namespace string, opts store.WatchOptions) {
	defer func() {
		s.mu.Lock()
		delete(s.watchers, w)
		err := b.err
		s.mu.Unlock()
		b.cancel()
		if err == nil {
			err = ctx.Err()
		}
		w.Close(err)
	}()
	for {
		s.mu.Lock()
		batch := s.log[pos:len(s.log):len(s.log)]
		pos = len(s.log)
		changed := s.changed
		s.mu.Unlock()
		for _, e := range batch {
			if e.typ == watch.Bookmark {
				if !opts.Bookmarks {
					continue
				}
				if !w.Send(ctx, watch.Event[T]{Type: watch.Bookmark, Revision: e.rev}) {
					return
				}
				continue
			}
			if !matches(e.obj, namespace, opts.Selector, opts.Filter) {
				continue
			}
			if !w.Send(ctx, watch.Event[T]{Type: e.typ, Object: s.copyFn(e.obj), Revision: e.rev}) {
				return
			}
		}
		select {
		case <-changed:
		case <-w.Done():
			return
		case <-ctx.Done():
			return
		}
	}
}
