package memory

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// ErrClosed is returned by every call after Close.
var ErrClosed = fmt.Errorf("memory backend: %w", watch.ErrClosed)

// version is one state of a key.
type version struct {
	modRev    int64
	createRev int64
	value     []byte // nil for a deletion (tombstone)
}

// event is one write, kept for watches.
type event struct {
	typ  watch.EventType
	kv   store.KV // for deletes: the last state, ModRevision = deletion revision
	prev []byte
}

// Backend is an in-memory store.Backend with the same semantics as the etcd
// backend: global revisions, multi-version history, compaction, fences and
// watches from any retained revision. It is safe for concurrent use.
type Backend struct {
	mu        sync.RWMutex
	rev       int64
	compacted int64                // reads below this revision give ErrGone
	keys      []string             // sorted; every key with retained history
	hist      map[string][]version // per key, ascending modRev
	log       []event              // log[i] has revision logStart+i
	logStart  int64
	changed   chan struct{} // closed and replaced on every write
	progress  chan struct{} // closed and replaced by RequestProgress
	closed    bool
	done      chan struct{} // closed by Close
	retain    int64         // auto-compaction keeps this many revisions; 0: off
}

// DefaultRetainRevisions is how many revisions of history New keeps unless
// WithRetainRevisions says otherwise.
const DefaultRetainRevisions = 100_000

type options struct {
	retain int64
}

// Option configures New.
type Option func(*options)

// WithRetainRevisions sets how much history the backend keeps: once it holds
// more than 2n revisions it compacts itself down to the last n (as an API
// server compacts etcd periodically), so memory stays bounded under a steady
// write load. Reads and watches older than that fail with ErrGone. 0 keeps
// everything until Compact is called. The default is
// DefaultRetainRevisions.
func WithRetainRevisions(n int64) Option {
	return func(o *options) { o.retain = max(n, 0) }
}

var (
	_ store.Backend           = (*Backend)(nil)
	_ store.SideWriter        = (*Backend)(nil)
	_ store.ProgressRequester = (*Backend)(nil)
)

// New returns an empty backend at revision 1 (as a fresh etcd is).
func New(opts ...Option) *Backend {
	o := options{retain: DefaultRetainRevisions}
	for _, opt := range opts {
		opt(&o)
	}
	return &Backend{
		rev:      1,
		hist:     make(map[string][]version),
		logStart: 2,
		changed:  make(chan struct{}),
		progress: make(chan struct{}),
		done:     make(chan struct{}),
		retain:   o.retain,
	}
}

// at returns key's state at rev, or false if absent.
func (b *Backend) at(key string, rev int64) (version, bool) {
	h := b.hist[key]
	i := sort.Search(len(h), func(i int) bool { return h[i].modRev > rev }) - 1
	if i < 0 || h[i].value == nil {
		return version{}, false
	}
	return h[i], true
}

// newestUnder returns the highest modification revision of the keys that
// exist under prefix (0 if none). The caller holds b.mu.
func (b *Backend) newestUnder(prefix string) int64 {
	var newest int64
	for i := sort.SearchStrings(b.keys, prefix); i < len(b.keys) && strings.HasPrefix(b.keys[i], prefix); i++ {
		if v, ok := b.at(b.keys[i], b.rev); ok && v.modRev > newest {
			newest = v.modRev
		}
	}
	return newest
}

func kvOf(key string, v version) store.KV {
	return store.KV{Key: key, Value: slices.Clone(v.value), CreateRevision: v.createRev, ModRevision: v.modRev}
}

// Get returns the current value of key.
func (b *Backend) Get(ctx context.Context, key string) (store.KV, error) {
	if err := ctx.Err(); err != nil {
		return store.KV{}, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return store.KV{}, ErrClosed
	}
	v, ok := b.at(key, b.rev)
	if !ok {
		return store.KV{}, fmt.Errorf("%w: %s", store.ErrNotFound, key)
	}
	return kvOf(key, v), nil
}

// Range returns keys under prefix at one revision.
func (b *Backend) Range(ctx context.Context, prefix string, opts store.RangeOptions) (store.RangeResult, error) {
	if err := ctx.Err(); err != nil {
		return store.RangeResult{}, err
	}
	if opts.StartKey != "" && !strings.HasPrefix(opts.StartKey, prefix) {
		return store.RangeResult{}, fmt.Errorf("%w: range %q: start key %q is outside the prefix", store.ErrInvalid, prefix, opts.StartKey)
	}
	if opts.Limit < 0 || opts.Revision < 0 {
		return store.RangeResult{}, fmt.Errorf("%w: range %q: negative limit or revision", store.ErrInvalid, prefix)
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return store.RangeResult{}, ErrClosed
	}
	rev := opts.Revision
	switch {
	case rev == 0:
		rev = b.rev
	case rev > b.rev:
		return store.RangeResult{}, fmt.Errorf("%w: range %q: revision %d is in the future (current %d)", store.ErrInvalid, prefix, rev, b.rev)
	case rev < b.compacted:
		return store.RangeResult{}, &watch.GoneError{Requested: rev, Oldest: b.compacted}
	}
	start := max(prefix, opts.StartKey)
	res := store.RangeResult{Revision: rev}
	for i := sort.SearchStrings(b.keys, start); i < len(b.keys) && strings.HasPrefix(b.keys[i], prefix); i++ {
		v, ok := b.at(b.keys[i], rev)
		if !ok {
			continue
		}
		if opts.Limit > 0 && int64(len(res.KVs)) == opts.Limit {
			res.More = true
			break
		}
		res.KVs = append(res.KVs, kvOf(b.keys[i], v))
	}
	return res, nil
}

// checkFences reports ErrFenced unless every fence key exists with its
// create revision. The caller holds mu.
func (b *Backend) checkFences(key string, fences []store.Fence) error {
	for _, f := range fences {
		v, ok := b.at(f.Key, b.rev)
		if !ok {
			return fmt.Errorf("%w: %s: fence key %s is gone", store.ErrFenced, key, f.Key)
		}
		if v.createRev != f.CreateRevision {
			return fmt.Errorf("%w: %s: fence key %s has create revision %d, want %d", store.ErrFenced, key, f.Key, v.createRev, f.CreateRevision)
		}
	}
	return nil
}

// write appends a new version of key at the next revision and logs the
// event. The caller holds mu for writing.
func (b *Backend) write(key string, value []byte, createRev int64) int64 {
	b.rev++
	rev := b.rev
	prev, had := b.at(key, rev-1)
	h, known := b.hist[key]
	if !known {
		i := sort.SearchStrings(b.keys, key)
		b.keys = slices.Insert(b.keys, i, key)
	}
	b.hist[key] = append(h, version{modRev: rev, createRev: createRev, value: value})
	ev := event{kv: store.KV{Key: key, Value: value, CreateRevision: createRev, ModRevision: rev}}
	switch {
	case value == nil:
		ev.typ = watch.Deleted
		ev.kv.Value, ev.kv.CreateRevision = prev.value, prev.createRev
		ev.prev = prev.value
	case had:
		ev.typ = watch.Modified
		ev.prev = prev.value
	default:
		ev.typ = watch.Added
	}
	b.log = append(b.log, ev)
	close(b.changed)
	b.changed = make(chan struct{})
	if b.retain > 0 && rev-max(b.compacted, 1) > 2*b.retain {
		b.compact(rev - b.retain)
	}
	return rev
}

// CreateWithSideWrites writes key if it does not exist, every fence holds
// and every side write's key still has its ModRevision, and then the side
// writes too, atomically (store.SideWriter). Unlike etcd, which writes them
// at one revision, this backend gives each write its own revision, in a
// row, with no other write between them.
func (b *Backend) CreateWithSideWrites(ctx context.Context, key string, value []byte, side []store.SideWrite, fences ...store.Fence) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if value == nil {
		value = []byte{}
	}
	value = slices.Clone(value)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, ErrClosed
	}
	if err := b.checkFences(key, fences); err != nil {
		return 0, err
	}
	type sideVersion struct {
		createRev int64
		value     []byte
	}
	vs := make([]sideVersion, len(side))
	for i, w := range side {
		if w.Key == key {
			return 0, fmt.Errorf("%w: side write to the created key %s", store.ErrInvalid, key)
		}
		if w.CheckOnly && w.Prefix {
			if have := b.newestUnder(w.Key); have > w.ModRevision {
				return 0, &store.ConflictError{Key: w.Key, Expected: w.ModRevision, Current: have}
			}
			continue
		}
		cur, ok := b.at(w.Key, b.rev)
		have := int64(0)
		if ok {
			have = cur.modRev
		}
		if have != w.ModRevision {
			var latest *store.KV
			if ok {
				kv := kvOf(w.Key, cur)
				latest = &kv
			}
			return 0, &store.ConflictError{Key: w.Key, Expected: w.ModRevision, Current: have, Latest: latest}
		}
		vs[i] = sideVersion{createRev: cur.createRev, value: slices.Clone(w.Value)}
		if vs[i].value == nil {
			vs[i].value = []byte{}
		}
	}
	if _, ok := b.at(key, b.rev); ok {
		return 0, fmt.Errorf("%w: %s", store.ErrAlreadyExists, key)
	}
	// One write per revision, as this backend's log has it, all under the
	// lock: no other write comes between them.
	rev := b.write(key, value, b.rev+1)
	for i, w := range side {
		if w.CheckOnly {
			continue
		}
		cr := vs[i].createRev
		if cr == 0 {
			cr = b.rev + 1
		}
		b.write(w.Key, vs[i].value, cr)
	}
	return rev, nil
}

// Create writes key if it does not exist.
func (b *Backend) Create(ctx context.Context, key string, value []byte, fences ...store.Fence) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if value == nil {
		value = []byte{}
	}
	value = slices.Clone(value)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, ErrClosed
	}
	if err := b.checkFences(key, fences); err != nil {
		return 0, err
	}
	if _, ok := b.at(key, b.rev); ok {
		return 0, fmt.Errorf("%w: %s", store.ErrAlreadyExists, key)
	}
	return b.write(key, value, b.rev+1), nil
}

// Update writes key if its ModRevision is rev.
func (b *Backend) Update(ctx context.Context, key string, value []byte, rev int64, fences ...store.Fence) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if value == nil {
		value = []byte{}
	}
	value = slices.Clone(value)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, ErrClosed
	}
	if err := b.checkFences(key, fences); err != nil {
		return 0, err
	}
	cur, ok := b.at(key, b.rev)
	if !ok {
		return 0, fmt.Errorf("%w: %s", store.ErrNotFound, key)
	}
	if cur.modRev != rev {
		latest := kvOf(key, cur)
		return 0, &store.ConflictError{Key: key, Expected: rev, Current: cur.modRev, Latest: &latest}
	}
	return b.write(key, value, cur.createRev), nil
}

// Delete removes key if its ModRevision is rev (0: any).
func (b *Backend) Delete(ctx context.Context, key string, rev int64, fences ...store.Fence) (store.KV, int64, error) {
	if err := ctx.Err(); err != nil {
		return store.KV{}, 0, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return store.KV{}, 0, ErrClosed
	}
	if err := b.checkFences(key, fences); err != nil {
		return store.KV{}, 0, err
	}
	cur, ok := b.at(key, b.rev)
	if !ok {
		return store.KV{}, 0, fmt.Errorf("%w: %s", store.ErrNotFound, key)
	}
	if rev != 0 && cur.modRev != rev {
		latest := kvOf(key, cur)
		return store.KV{}, 0, &store.ConflictError{Key: key, Expected: rev, Current: cur.modRev, Latest: &latest}
	}
	last := kvOf(key, cur)
	return last, b.write(key, nil, 0), nil
}

// Revision returns the current revision.
func (b *Backend) Revision(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return 0, ErrClosed
	}
	return b.rev, nil
}

// Compact discards history before rev: afterwards reads at revisions below
// rev and watches after revisions below rev give ErrGone, as with the etcd
// backend. Reads at rev and watches after rev still work.
// Compacting at or below an earlier compaction does nothing.
func (b *Backend) Compact(ctx context.Context, rev int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	if rev > b.rev {
		return fmt.Errorf("%w: compact: revision %d is in the future (current %d)", store.ErrInvalid, rev, b.rev)
	}
	b.compact(rev)
	return nil
}

// compact discards history before rev. The caller holds mu for writing.
func (b *Backend) compact(rev int64) {
	if rev <= b.compacted {
		return
	}
	b.compacted = rev
	keep := b.keys[:0]
	for _, k := range b.keys {
		h := b.hist[k]
		// Keep the newest version at or before rev, and everything after.
		i := sort.Search(len(h), func(i int) bool { return h[i].modRev > rev }) - 1
		if i > 0 {
			h = slices.Clone(h[i:])
		}
		if len(h) > 0 && h[0].modRev <= rev && h[0].value == nil {
			h = h[1:]
		}
		if len(h) == 0 {
			delete(b.hist, k)
			continue
		}
		b.hist[k] = h
		keep = append(keep, k)
	}
	clear(b.keys[len(keep):])
	b.keys = keep
	// Watches may start at revision rev itself, so keep its event.
	if drop := rev - b.logStart; drop > 0 {
		b.log = slices.Clone(b.log[drop:])
		b.logStart = rev
	}
}

// Close ends every watch with watch.ErrClosed; later calls fail with
// ErrClosed.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		close(b.done)
	}
	return nil
}
