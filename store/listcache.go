package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/btree"
	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/watch"
)

// Defaults of the watch cache's list serving.
const (
	// DefaultListWait bounds how long a list waits for the watch cache to
	// reach the revision it must be served at before it is read from the
	// backend instead (Kubernetes' cacher waits 3 s as well).
	DefaultListWait = 3 * time.Second
	// DefaultListSnapshots is how many earlier states the cache keeps for
	// the continue tokens of paged lists.
	DefaultListSnapshots = 16
	// DefaultListSnapshotAge is how long such a state is kept.
	DefaultListSnapshotAge = 75 * time.Second
)

// progressEvery is how often a waiting list asks the backend again for a
// progress notification.
const progressEvery = 100 * time.Millisecond

// loadPage is how many keys the cache reads at a time when it loads the
// current state.
const loadPage = 5000

// ProgressRequester is implemented by a Backend whose watches can be asked
// for a progress notification (a watch.Bookmark at the current revision)
// now: a watch cache uses it so that a consistent list need not wait for a
// write to its own resource to see that it is up to date.
type ProgressRequester interface {
	// RequestProgress asks every watch of the backend to report the
	// current revision soon.
	RequestProgress(ctx context.Context) error
}

// CurrentWatcher is implemented by a Backend that can open a watch at its
// current revision with nothing to catch up on, and tell which revision
// that is (store/etcd does). A watch cache then opens its watch first and
// loads the state at that revision, so that its watch never starts behind
// the backend: etcd can report progress out of order to a watch that is
// catching up (see store/etcd), and a cache that loaded first and watched
// from the load's revision would then have to start again.
type CurrentWatcher interface {
	// WatchCurrent is Watch from the backend's current revision; it
	// returns the watch and the revision the watch starts after: the
	// watch delivers exactly the changes after it.
	WatchCurrent(ctx context.Context, prefix string) (watch.Watcher[KV], int64, error)
}

// cacheItem is one current object of a watch cache: its key and the
// decoded object, shared (read-only) with the event that wrote it.
type cacheItem[T Object] struct {
	key string
	obj *watch.Encoded[T]
}

func lessItem[T Object](a, b *cacheItem[T]) bool { return a.key < b.key }

type itemTree[T Object] = btree.BTreeG[*cacheItem[T]]

// indexSnap is an earlier state kept for continue tokens.
type indexSnap[T Object] struct {
	rev  int64
	tree *itemTree[T]
	at   time.Time
}

// listIndex is the current state of one generation of a watch cache: every
// object of the resource in key order, at the revision of the last event
// applied. Snapshots are lazy copy-on-write clones of the B-tree: taking
// one is O(1), and a write after it copies the O(log n) nodes on its path.
type listIndex[T Object] struct {
	clock  clockwork.Clock
	maxAge time.Duration
	keep   int

	mu      sync.Mutex
	tree    *itemTree[T]
	rev     int64
	frozen  *itemTree[T]   // a read-only clone of tree at rev; nil after a write
	snaps   []indexSnap[T] // kept for continue tokens, oldest first
	changed chan struct{}  // closed when rev advances; nil without waiters
}

func newListIndex[T Object](cfg WatchCacheConfig, tree *itemTree[T], rev int64) *listIndex[T] {
	return &listIndex[T]{clock: cfg.Clock, maxAge: cfg.ListSnapshotAge, keep: cfg.ListSnapshots, tree: tree, rev: rev}
}

// load reads the whole resource at the backend's current revision into a
// new index. When the backend is a CurrentWatcher, it first opens the
// generation's watch at the current revision and loads the state at the
// revision that watch starts after; first is that watch, which the caller
// owns (nil otherwise).
func (c *WatchCache[T]) load(ctx context.Context) (idx *listIndex[T], first watch.Watcher[KV], err error) {
	s := c.s
	var rev int64
	if cw, ok := s.b.(CurrentWatcher); ok {
		if first, rev, err = cw.WatchCurrent(ctx, s.prefix); err != nil {
			return nil, nil, fmt.Errorf("opening the watch: %w", err)
		}
		defer func() {
			if err != nil {
				first.Stop()
				first = nil
			}
		}()
	} else if rev, err = s.b.Revision(ctx); err != nil {
		return nil, nil, fmt.Errorf("reading the backend's revision: %w", err)
	}
	idx, err = c.loadAt(ctx, rev)
	return idx, first, err
}

// loadAt reads the whole resource at revision rev into a new index.
func (c *WatchCache[T]) loadAt(ctx context.Context, rev int64) (*listIndex[T], error) {
	s := c.s
	tree := btree.NewG(32, lessItem[T])
	start := ""
	for {
		res, err := s.b.Range(ctx, s.prefix, RangeOptions{StartKey: start, Revision: rev, Limit: loadPage})
		if err != nil {
			return nil, fmt.Errorf("loading the current state at revision %d: %w", rev, err)
		}
		for _, kv := range res.KVs {
			obj, err := s.decode(kv.Key, kv.Value, kv.ModRevision)
			if err != nil {
				c.reportUndecodable("list", kv.Key, kv.ModRevision, err)
				continue
			}
			tree.ReplaceOrInsert(&cacheItem[T]{key: kv.Key, obj: watch.NewEncoded(obj)})
		}
		if !res.More || len(res.KVs) == 0 {
			return newListIndex(c.cfg, tree, rev), nil
		}
		start = res.KVs[len(res.KVs)-1].Key + "\x00"
	}
}

// apply brings the index to ev's revision. Events at or before its
// revision (a reopened source repeating itself) change nothing.
func (x *listIndex[T]) apply(ev *watch.Event[*change[T]]) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if ev.Revision <= x.rev {
		return
	}
	switch ch := ev.Object; ev.Type {
	case watch.Added, watch.Modified:
		if ch.obj != nil {
			x.tree.ReplaceOrInsert(&cacheItem[T]{key: ch.key, obj: ch.obj})
		} else {
			// A value that does not decode is left out, as List does.
			x.tree.Delete(&cacheItem[T]{key: ch.key})
		}
		x.frozen = nil
	case watch.Deleted:
		x.tree.Delete(&cacheItem[T]{key: ch.key})
		x.frozen = nil
	}
	x.rev = ev.Revision
	if x.changed != nil {
		close(x.changed)
		x.changed = nil
	}
}

// revision returns the index's revision and a channel closed when it
// advances.
func (x *listIndex[T]) revision() (int64, <-chan struct{}) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.changed == nil {
		x.changed = make(chan struct{})
	}
	return x.rev, x.changed
}

// current returns a read-only snapshot of the state and its revision.
func (x *listIndex[T]) current() (*itemTree[T], int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.currentLocked(), x.rev
}

func (x *listIndex[T]) currentLocked() *itemTree[T] {
	if x.frozen == nil {
		x.frozen = x.tree.Clone()
	}
	return x.frozen
}

// at returns the state at exactly rev, or nil when the index no longer
// (or never) had it.
func (x *listIndex[T]) at(rev int64) *itemTree[T] {
	x.mu.Lock()
	defer x.mu.Unlock()
	if rev == x.rev {
		return x.currentLocked()
	}
	x.expireLocked()
	for _, s := range x.snaps {
		if s.rev == rev {
			return s.tree
		}
	}
	return nil
}

// retain keeps t, the state at rev, for the continue tokens of a paged list.
func (x *listIndex[T]) retain(rev int64, t *itemTree[T]) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.expireLocked()
	for i := range x.snaps {
		if x.snaps[i].rev == rev {
			x.snaps[i].at = x.clock.Now()
			return
		}
	}
	if len(x.snaps) >= x.keep {
		x.snaps = append(x.snaps[:0], x.snaps[1:]...)
	}
	x.snaps = append(x.snaps, indexSnap[T]{rev: rev, tree: t, at: x.clock.Now()})
}

func (x *listIndex[T]) expireLocked() {
	now := x.clock.Now()
	n := 0
	for _, s := range x.snaps {
		if now.Sub(s.at) < x.maxAge {
			x.snaps[n] = s
			n++
		}
	}
	clear(x.snaps[n:])
	x.snaps = x.snaps[:n]
}

// CachedListOptions are the options of a list a watch cache may serve.
// The zero freshness fields ask for a consistent list: one at least as new
// as the backend's revision when the list starts, so that it reflects every
// write acknowledged before.
type CachedListOptions struct {
	ListOptions
	// AnyRevision serves whatever state the cache holds, however old
	// (Kubernetes' resourceVersion "0").
	AnyRevision bool
	// MinRevision serves a state at least this new (Kubernetes'
	// resourceVersionMatch=NotOlderThan).
	MinRevision int64
}

// EncodedList is one page of objects, all as of one revision, shared with
// the watch cache: the items and their objects are read-only, and each
// carries its encodings, computed once and shared by every reader.
type EncodedList[T Object] struct {
	// Items are in key order.
	Items []*watch.Encoded[T]
	// Revision is the store revision the whole list is consistent at.
	Revision int64
	// Continue, when non-empty, fetches the next page (ListOptions.Continue);
	// the token is the same as List's, so either path takes the other's.
	Continue string
	// FromCache reports that the watch cache served the list; false means
	// it was read from the backend.
	FromCache bool
}

// index returns the running generation's index, or nil when there is none
// (before the cache has loaded, between generations, after Run).
func (c *WatchCache[T]) index() *listIndex[T] {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bc == nil {
		return nil
	}
	return c.idx
}

// List is Store.List served from the cache's current state where the
// cache can serve it, with the objects shared (see EncodedList), and
// from the backend otherwise. Which state it reads:
//
//   - AnyRevision: the cache's, at once.
//   - MinRevision: the cache's once it is at least that new. One newer
//     than the backend's current revision is read from the backend at
//     once, so the list's Revision is older than asked (Kubernetes
//     answers "Too large resource version" then).
//   - neither (and no Revision or Continue): consistent. It reads the
//     backend's current revision with one small request and serves the
//     cache's state once the cache has seen that revision.
//   - Revision (exact): the cache's only when it is at exactly that
//     revision, or kept it for a paged list; the backend's otherwise.
//   - Continue: the state of the token's revision, which the cache keeps
//     (for ListSnapshotAge, at most ListSnapshots of them) for paged lists
//     it served; otherwise the backend's, which fails with ErrGone once
//     that revision is compacted.
//
// A list that would wait longer than ListWait for the cache, or that comes
// while the cache is not running, is read from the backend. Label and
// field selection, paging and continue tokens are exactly List's.
func (c *WatchCache[T]) List(ctx context.Context, namespace string, opts CachedListOptions) (*EncodedList[T], error) {
	s := c.s
	prefix, err := s.checkList(namespace, opts.ListOptions)
	if err != nil {
		return nil, err
	}
	if opts.MinRevision < 0 {
		return nil, fmt.Errorf("list %s: %w", s.res.Name, &FieldError{Field: "minRevision", Value: FormatRevision(opts.MinRevision), Reason: "must not be negative"})
	}
	x := c.index()
	if x == nil {
		return c.backendList(ctx, namespace, opts.ListOptions)
	}
	var t *itemTree[T]
	var rev int64
	start := prefix
	switch {
	case opts.Continue != "":
		ct, err := s.decodeContinue(opts.Continue, prefix)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", s.res.Name, err)
		}
		if opts.Revision != 0 && opts.Revision != ct.Rev {
			return c.backendList(ctx, namespace, opts.ListOptions) // the backend names the conflict
		}
		rev, start = ct.Rev, string(ct.Start)
		t = x.at(rev)
	case opts.Revision != 0:
		rev = opts.Revision
		t = x.at(rev)
	default:
		want := opts.MinRevision
		if !opts.AnyRevision && want == 0 {
			if want, err = s.b.Revision(ctx); err != nil {
				return nil, fmt.Errorf("list %s: %w", s.res.Name, err)
			}
		} else if cur, _ := x.revision(); !opts.AnyRevision && cur < want {
			// Newer than the cache: if it is newer than the backend too,
			// waiting is pointless; the backend's list shows how far it is.
			brev, err := s.b.Revision(ctx)
			if err != nil {
				return nil, fmt.Errorf("list %s: %w", s.res.Name, err)
			}
			if want > brev {
				return c.backendList(ctx, namespace, opts.ListOptions)
			}
		}
		if !opts.AnyRevision {
			if err := c.waitFor(ctx, x, want); err != nil {
				if ctx.Err() != nil {
					return nil, err
				}
				return c.backendList(ctx, namespace, opts.ListOptions)
			}
		}
		t, rev = x.current()
	}
	if t == nil {
		return c.backendList(ctx, namespace, opts.ListOptions)
	}
	out := &EncodedList[T]{Items: []*watch.Encoded[T]{}, Revision: rev, FromCache: true}
	var last string
	full := false
	t.AscendGreaterOrEqual(&cacheItem[T]{key: start}, func(it *cacheItem[T]) bool {
		if !strings.HasPrefix(it.key, prefix) {
			return false
		}
		if full {
			// A key remains after the page: List sets Continue then,
			// whether or not it matches.
			out.Continue = encodeContinue(rev, last+"\x00")
			return false
		}
		obj := it.obj.Object
		if !opts.Selector.Matches(obj.GetObjectMeta().Labels) || opts.Filter != nil && !opts.Filter(obj) {
			return true
		}
		out.Items = append(out.Items, it.obj)
		if opts.Limit > 0 && int64(len(out.Items)) == opts.Limit {
			full, last = true, it.key
		}
		return true
	})
	if out.Continue != "" {
		x.retain(rev, t)
	}
	return out, nil
}

// waitFor waits until x has seen rev, asking the backend for progress
// notifications meanwhile, for at most ListWait.
func (c *WatchCache[T]) waitFor(ctx context.Context, x *listIndex[T], rev int64) error {
	cur, changed := x.revision()
	if cur >= rev {
		return nil
	}
	pr, _ := c.s.b.(ProgressRequester)
	timeout := c.cfg.Clock.NewTimer(c.cfg.ListWait)
	defer timeout.Stop()
	var tick clockwork.Ticker
	var tickC <-chan time.Time
	if pr != nil {
		_ = pr.RequestProgress(ctx)
		tick = c.cfg.Clock.NewTicker(progressEvery)
		defer tick.Stop()
		tickC = tick.Chan()
	}
	for {
		select {
		case <-changed:
			if cur, changed = x.revision(); cur >= rev {
				return nil
			}
		case <-tickC:
			_ = pr.RequestProgress(ctx)
		case <-timeout.Chan():
			return fmt.Errorf("store: watch cache of %s at revision %d did not reach %d within %v: %w", c.s.res.Name, cur, rev, c.cfg.ListWait, errListWait)
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return fmt.Errorf("store: watch cache of %s stopped: %w", c.s.res.Name, watch.ErrClosed)
		}
	}
}

var errListWait = errors.New("watch cache too far behind")

// backendList reads the list from the backend, as List does.
func (c *WatchCache[T]) backendList(ctx context.Context, namespace string, opts ListOptions) (*EncodedList[T], error) {
	return c.s.ListEncoded(ctx, namespace, opts)
}

// ListEncoded is List with each item wrapped for encoding (see
// EncodedList); the items are the caller's own.
func (s *Store[T]) ListEncoded(ctx context.Context, namespace string, opts ListOptions) (*EncodedList[T], error) {
	l, err := s.List(ctx, namespace, opts)
	if err != nil {
		return nil, err
	}
	out := &EncodedList[T]{Items: make([]*watch.Encoded[T], len(l.Items)), Revision: l.Revision, Continue: l.Continue}
	for i, it := range l.Items {
		out.Items[i] = watch.NewEncoded(it)
	}
	return out, nil
}
