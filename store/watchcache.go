package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/watch"
)

// Defaults for WatchCacheConfig fields left zero.
const (
	// DefaultWatchWindowBytes bounds a watch cache's window in stored bytes.
	DefaultWatchWindowBytes = 32 << 20
	// DefaultWatcherBytes is each watcher's lag budget in stored bytes.
	DefaultWatcherBytes = 8 << 20
)

// WatchCacheConfig configures a WatchCache. The zero value is valid and
// means all defaults.
type WatchCacheConfig struct {
	// Window is how many recent events the cache keeps, so that a watch may
	// start from an older revision (default watch.DefaultWindow).
	Window int
	// WindowBytes bounds the window in stored bytes (keys, values and
	// previous values of its events) as well (default
	// DefaultWatchWindowBytes). Decoded objects and their encodings take
	// about two to three times as much again.
	WindowBytes int64
	// WatcherBytes is each watcher's lag budget in stored bytes: a watcher
	// whose consumer takes nothing while events weighing more than this
	// arrive for it is cut off with watch.ErrTooSlow, through the cache or
	// through its own backend watch (default DefaultWatcherBytes).
	WatcherBytes int64
	// MinBackoff and MaxBackoff pace reopening a broken backend watch and
	// rebuilding the cache after a failure (defaults watch.DefaultMinBackoff
	// and watch.DefaultMaxBackoff).
	MinBackoff, MaxBackoff time.Duration
	// ListWait bounds how long a list waits for the cache to reach the
	// revision it must be served at before it is read from the backend
	// instead (default DefaultListWait).
	ListWait time.Duration
	// ListSnapshots and ListSnapshotAge bound the earlier states the cache
	// keeps for the continue tokens of the paged lists it served: at most
	// ListSnapshots of them, each for ListSnapshotAge after its last use
	// (defaults DefaultListSnapshots and DefaultListSnapshotAge). A
	// continue token whose state is not kept is served by the backend.
	ListSnapshots   int
	ListSnapshotAge time.Duration
	// Clock paces the backoff and the list waits (default
	// clockwork.NewRealClock()).
	Clock clockwork.Clock
	// Logger receives rebuilds, reconnects and undecodable objects (default:
	// the store's logger, see WithLogger).
	Logger *slog.Logger
	// Registerer, if set, receives the cache's metrics: the broadcaster's
	// setpoint_watch_broadcaster_* (named after the resource) and
	// setpoint_store_watch_cache_rebuilds_total.
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field.
func (c WatchCacheConfig) Validate() error {
	switch {
	case c.Window < 0:
		return fmt.Errorf("%w: WatchCacheConfig.Window must not be negative, got %d", ErrInvalid, c.Window)
	case c.WindowBytes < 0:
		return fmt.Errorf("%w: WatchCacheConfig.WindowBytes must not be negative, got %d", ErrInvalid, c.WindowBytes)
	case c.WatcherBytes < 0:
		return fmt.Errorf("%w: WatchCacheConfig.WatcherBytes must not be negative, got %d", ErrInvalid, c.WatcherBytes)
	case c.ListWait < 0:
		return fmt.Errorf("%w: WatchCacheConfig.ListWait must not be negative, got %v", ErrInvalid, c.ListWait)
	case c.ListSnapshots < 0:
		return fmt.Errorf("%w: WatchCacheConfig.ListSnapshots must not be negative, got %d", ErrInvalid, c.ListSnapshots)
	case c.ListSnapshotAge < 0:
		return fmt.Errorf("%w: WatchCacheConfig.ListSnapshotAge must not be negative, got %v", ErrInvalid, c.ListSnapshotAge)
	}
	if err := c.broadcasterConfig("x").Validate(); err != nil {
		return fmt.Errorf("%w: WatchCacheConfig: %v", ErrInvalid, err)
	}
	return nil
}

func (c WatchCacheConfig) withDefaults() WatchCacheConfig {
	if c.Window == 0 {
		c.Window = watch.DefaultWindow
	}
	if c.WindowBytes == 0 {
		c.WindowBytes = DefaultWatchWindowBytes
	}
	if c.WatcherBytes == 0 {
		c.WatcherBytes = DefaultWatcherBytes
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = watch.DefaultMinBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = max(watch.DefaultMaxBackoff, c.MinBackoff)
	}
	if c.ListWait == 0 {
		c.ListWait = DefaultListWait
	}
	if c.ListSnapshots == 0 {
		c.ListSnapshots = DefaultListSnapshots
	}
	if c.ListSnapshotAge == 0 {
		c.ListSnapshotAge = DefaultListSnapshotAge
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	return c
}

func (c WatchCacheConfig) broadcasterConfig(name string) watch.BroadcasterConfig {
	return watch.BroadcasterConfig{
		Window:          c.Window,
		WindowBytes:     c.WindowBytes,
		SubscriberBytes: c.WatcherBytes,
		MinBackoff:      c.MinBackoff,
		MaxBackoff:      c.MaxBackoff,
		Clock:           c.Clock,
		Logger:          c.Logger,
		Name:            name,
		Registerer:      c.Registerer,
	}
}

// WatchCache serves a store's watches from one backend watch of the whole
// resource. It decodes each event once, and a watcher's selector is applied
// to the shared decoded objects in the watcher's own goroutine (see
// watch.SubscribeMap); the REST handler writes each event's JSON, encoded
// once and shared by every watcher (WatchEncoded). A watch that starts
// before the cache's window is served by its own backend watch, so the
// cache never turns a valid start revision into ErrGone.
//
// Memory stays within a budget whatever the clients do: the window holds at
// most Window events and WindowBytes stored bytes; a watcher holds nothing of
// its own but its channel (at most 128 events, shared with the window while
// they are in it) and the event its consumer is handling, because a watcher
// whose untaken events leave the window, or whose consumer takes nothing
// while WatcherBytes arrive, is cut off with watch.ErrTooSlow (it watches
// again after the last revision it processed; an HTTP watcher's connection
// is let go, and its memory with it); and a watch served by its own backend
// watch is cut off once its consumer leaves WatcherBytes untaken. So the
// total is about (WindowBytes + watchers on the backend path × WatcherBytes)
// × 3, plus each watcher's channel.
//
// The cache also keeps the resource's current state, for lists (see List):
// every object, decoded once and shared with the event that wrote it, in
// key order in a copy-on-write B-tree, loaded with the backend's state when
// a generation starts and advanced by each event before watchers see it.
// That adds one entry (a key, a pointer, about 40 bytes of tree) per
// object on top of the objects themselves and their encodings, which the
// current state keeps alive: about 3 × the resource's stored bytes in all.
// The snapshots kept for paged lists (at most ListSnapshots, each for
// ListSnapshotAge after its last use) share everything with the current
// state except the tree nodes and objects changed since, so they cost
// nothing while the resource is quiet and at most one full copy each under
// churn.
//
// The cache never dies for good: when its backend watch is compacted past
// (an idle resource's last event was compacted, and the watch broke), or the
// backend restarts and history is gone, it starts again at the backend's
// current revision, with backoff if that keeps failing. Its watchers at that
// point end with ErrGone (410 Expired over HTTP) and relist.
//
// Run runs it; a store made WithWatchCache runs its own from its first Watch
// until Close.
type WatchCache[T Object] struct {
	s        *Store[T]
	cfg      WatchCacheConfig
	log      *slog.Logger
	rebuilds prometheus.Counter

	started atomic.Bool
	done    chan struct{} // closed when Run returns
	ready   chan struct{} // closed once the first generation runs, or Run returns

	mu  sync.Mutex
	bc  *watch.Broadcaster[*change[T]] // the running generation; nil between
	idx *listIndex[T]                  // its current state, for lists
}

// NewWatchCache returns a watch cache of s's resource. It starts nothing
// until Run.
func NewWatchCache[T Object](s *Store[T], cfg WatchCacheConfig) (*WatchCache[T], error) {
	if s == nil {
		return nil, fmt.Errorf("%w: NewWatchCache: nil store", ErrInvalid)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if cfg.Logger == nil {
		cfg.Logger = s.log
	}
	c := &WatchCache[T]{
		s:     s,
		cfg:   cfg,
		log:   cfg.Logger.With("watchcache", s.res.Name),
		done:  make(chan struct{}),
		ready: make(chan struct{}),
		rebuilds: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "setpoint", Subsystem: "store", Name: "watch_cache_rebuilds_total",
			Help:        "Times the watch cache started again at the backend's current revision after its backend watch was compacted past.",
			ConstLabels: prometheus.Labels{"resource": s.res.Name},
		}),
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(c.rebuilds); err != nil {
			return nil, fmt.Errorf("store: watch cache metrics of %s: %w", s.res.Name, err)
		}
	}
	return c, nil
}

// Run serves watches until ctx is done, then ends every watch of the cache
// (also those on their own backend watch) with watch.ErrClosed and returns
// nil. It may be called once; watches made before it wait for it to start.
func (c *WatchCache[T]) Run(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return fmt.Errorf("store: watch cache of %s: %w", c.s.res.Name, watch.ErrAlreadyRunning)
	}
	defer close(c.done)
	readyOnce := sync.OnceFunc(func() { close(c.ready) })
	defer readyOnce()
	failures := 0
	for {
		if failures > 0 {
			t := c.cfg.Clock.NewTimer(watch.BackoffDelay(failures, c.cfg.MinBackoff, c.cfg.MaxBackoff))
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.Chan():
			}
		}
		idx, first, err := c.load(ctx)
		if ctx.Err() != nil {
			if first != nil {
				first.Stop()
			}
			return nil
		}
		if err != nil {
			failures++
			c.log.Warn("watch cache cannot load the current state; retrying", "err", err, "failures", failures)
			continue
		}
		rev := idx.rev
		src, release := c.sourceFor(idx, first)
		bc, err := watch.NewBroadcaster(src, rev, c.cfg.broadcasterConfig(c.s.res.Name))
		if err != nil {
			release()
			return fmt.Errorf("store: watch cache of %s: %w", c.s.res.Name, err)
		}
		c.mu.Lock()
		c.bc, c.idx = bc, idx
		c.mu.Unlock()
		readyOnce()
		err = bc.Run(ctx)
		release()
		c.mu.Lock()
		c.bc, c.idx = nil, nil
		c.mu.Unlock()
		if ctx.Err() != nil {
			return nil
		}
		// The backend watch was compacted past, or could not deliver its
		// events in order (store/etcd: progress ahead of a catch-up), and
		// ended with ErrGone (Run ends only then): start
		// again at the current revision. Watchers of this generation ended
		// with ErrGone and relist.
		c.rebuilds.Inc()
		if bc.Revision() > rev {
			failures = 0 // it was making progress: rebuild at once
		} else {
			failures++
		}
		c.log.Warn("watch cache's backend watch ended with ErrGone (a compaction, or events out of order); starting again at the current revision", "revision", bc.Revision(), "err", err, "failures", failures)
	}
}

// sourceFor returns the source of one generation: it opens the backend
// watch of the whole resource, decodes each event once and applies it to
// the generation's current state, idx. first, if not nil, is a backend
// watch already open after idx's revision (load's): the first opening
// after that revision uses it; any other opening stops it.
// The returned release stops first if no opening took it.
func (c *WatchCache[T]) sourceFor(idx *listIndex[T], first watch.Watcher[KV]) (src watch.Source[*change[T]], release func()) {
	var mu sync.Mutex
	start := idx.rev
	release = func() {
		mu.Lock()
		pre := first
		first = nil
		mu.Unlock()
		if pre != nil {
			pre.Stop()
		}
	}
	return func(ctx context.Context, afterRev int64) (watch.Watcher[*change[T]], error) {
		ctx, cancel := context.WithCancel(ctx)
		mu.Lock()
		pre := first
		first = nil
		mu.Unlock()
		var bw watch.Watcher[KV]
		if pre != nil && afterRev == start {
			bw = pre
		} else {
			if pre != nil {
				pre.Stop()
			}
			var err error
			if bw, err = c.s.b.Watch(ctx, c.s.prefix, afterRev); err != nil {
				cancel()
				return nil, err
			}
		}
		out := watch.NewStream[*change[T]](watchBuffer)
		go func() {
			defer cancel()
			defer bw.Stop()
			out.Close(c.decodeInto(ctx, bw, out, idx))
		}()
		return out, nil
	}, release
}

func (c *WatchCache[T]) decodeInto(ctx context.Context, bw watch.Watcher[KV], out *watch.Stream[*change[T]], idx *listIndex[T]) error {
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
		te := watch.Event[*change[T]]{Type: ev.Type, Revision: ev.Revision}
		switch ev.Type {
		case watch.Bookmark:
		case watch.Added, watch.Modified, watch.Deleted:
			te.Object = c.s.newChange(&ev, true, c.reportUndecodable)
		case watch.Error:
			if ev.Err != nil {
				return ev.Err
			}
			return watch.ErrClosed
		default:
			return fmt.Errorf("store: %s watch: backend sent unknown event type %q", c.s.res.Name, ev.Type)
		}
		// The state advances before the event is published, so that a
		// list served after a watcher saw the event includes it.
		idx.apply(&te)
		if !out.Send(ctx, te) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return watch.ErrStopped
		}
	}
}

// reportUndecodable logs (to the cache's logger) and counts (on the
// store's counter) a stored value that does not decode.
func (c *WatchCache[T]) reportUndecodable(where, key string, rev int64, err error) {
	c.s.undecodable.Inc()
	c.log.Warn("stored object does not decode; skipped", "where", where, "key", key, "revision", rev, "err", err)
}

// current waits for the cache to have started and returns the running
// generation (nil between generations, or after Run ended).
func (c *WatchCache[T]) current(ctx context.Context) (*watch.Broadcaster[*change[T]], error) {
	select {
	case <-c.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case <-c.done:
		return nil, fmt.Errorf("store: watch cache of %s stopped: %w", c.s.res.Name, watch.ErrClosed)
	default:
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bc, nil
}

// Revision returns the last revision the cache has seen (0 between
// generations).
func (c *WatchCache[T]) Revision() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bc == nil {
		return 0
	}
	return c.bc.Revision()
}

// WindowBytes returns the stored bytes the window holds now (at most
// WindowBytes, or one event when a single event weighs more).
func (c *WatchCache[T]) WindowBytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bc == nil {
		return 0
	}
	return c.bc.WindowBytes()
}

// Watch is Store.Watch served by the cache: every object is the caller's
// own copy.
func (c *WatchCache[T]) Watch(ctx context.Context, namespace string, opts WatchOptions) (watch.Watcher[T], error) {
	return watchVia(ctx, c.s, c, namespace, opts, delivery[T, T]{ownCopy[T], owned[T]})
}

// WatchEncoded is Store.WatchEncoded served by the cache: objects are shared
// by every watcher and read-only, and each carries its JSON encoding,
// computed once per event.
func (c *WatchCache[T]) WatchEncoded(ctx context.Context, namespace string, opts WatchOptions) (watch.Watcher[*watch.Encoded[T]], error) {
	return watchVia(ctx, c.s, c, namespace, opts, delivery[T, *watch.Encoded[T]]{shared[T], shared[T]})
}

// subscribe serves one watch from the running generation, or, when the
// start is older than its window (or the cache is between generations),
// from the backend directly.
func subscribe[T Object, O any](ctx context.Context, c *WatchCache[T], r *route[T], afterRev int64, d delivery[T, O]) (watch.Watcher[O], error) {
	bc, err := c.current(ctx)
	if err != nil {
		return nil, err
	}
	if bc != nil {
		var opts []watch.SubscribeOption
		if r.bookmarks {
			opts = append(opts, watch.WithBookmarks())
		}
		w, err := watch.SubscribeMap(bc, ctx, afterRev, func(ev watch.Event[*change[T]]) (watch.Event[O], bool) {
			return convert(r, ev, d.cached)
		}, opts...)
		if err == nil {
			return w, nil
		}
		if !errors.Is(err, watch.ErrGone) && !errors.Is(err, watch.ErrClosed) {
			return nil, err
		}
		// Older than the window, or the generation just ended: the backend
		// may still have that history.
	}
	return direct(ctx, c.s, r, afterRev, c.cfg.WatcherBytes, c.done, d.direct)
}

// ownedCache is the cache of a store made WithWatchCache: it starts with the
// store's first watch and stops with Close.
type ownedCache[T Object] struct {
	*WatchCache[T]
	once   sync.Once
	cancel context.CancelFunc
	ended  chan struct{}
}

// start runs the cache on a context of its own, once.
func (o *ownedCache[T]) start() {
	o.once.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		o.cancel = cancel
		go func() {
			defer close(o.ended)
			_ = o.Run(ctx)
		}()
	})
}

// stop ends the cache (starting it first if it never ran, so that later
// watches fail at once) and waits for Run to return.
func (o *ownedCache[T]) stop() {
	o.start()
	o.cancel()
	<-o.ended
}

// WithWatchCache serves the store's watches from a WatchCache of its own,
// configured by cfg (the zero value means all defaults): one backend watch
// of the whole resource for every watcher. The cache starts with the first
// Watch; Close stops it.
func WithWatchCache(cfg WatchCacheConfig) Option {
	return func(o *options) { o.watchCache = &cfg }
}

// Close stops the store's watch cache (see WithWatchCache); every watch of
// the store ends with watch.ErrClosed (also those served by their own
// backend watch), and later Watch calls fail. A store without a watch cache
// has nothing to stop. Close does not close the backend.
func (s *Store[T]) Close() error {
	if s.cache != nil {
		s.cache.stop()
	}
	return nil
}
