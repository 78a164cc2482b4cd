package informer

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

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// Errors.
var (
	// ErrInvalidConfig: a Config failed validation.
	ErrInvalidConfig = errors.New("informer: invalid config")
	// ErrStopped: the informer is not running (Run returned, or never ran
	// and never will because it was stopped).
	ErrStopped = errors.New("informer: stopped")
	// ErrAlreadyRunning: Run was called a second time (an Informer runs
	// once), or Factory.Run while the factory was running.
	ErrAlreadyRunning = errors.New("informer: already running")
)

// ListerWatcher is an informer's source: a consistent list with the revision
// it was read at, and a watch of every change after a revision.
// *store.Store[T] satisfies it.
type ListerWatcher[T store.Object] interface {
	// List returns the objects in namespace ("" = all), consistent at the
	// returned list's Revision, paged by opts.Limit/opts.Continue.
	List(ctx context.Context, namespace string, opts store.ListOptions) (*store.List[T], error)
	// Watch streams every change after opts.AfterRevision, in revision order.
	Watch(ctx context.Context, namespace string, opts store.WatchOptions) (watch.Watcher[T], error)
}

// The typed store is an informer source.
var _ ListerWatcher[store.Object] = (*store.Store[store.Object])(nil)

// Config configures an Informer. The zero value (plus a source) is valid:
// every field has a documented default.
type Config[T store.Object] struct {
	// Name identifies the informer in logs and metrics. Default "informer".
	Name string
	// Namespace limits the informer to one namespace; "" means all.
	Namespace string
	// Selector limits the informer to objects whose labels match.
	Selector store.Selector
	// Filter, if set, limits the informer to objects it accepts (a field
	// selector). It is passed to the source.
	Filter func(store.Object) bool
	// PageSize is the list page size. Default 500; negative lists in one
	// request.
	PageSize int64
	// ResyncPeriod, if positive, re-delivers every cached object to every
	// handler as OnUpdate(obj, obj) once per period.
	ResyncPeriod time.Duration
	// Indexers are added to the cache before it is filled. More can be
	// added later with AddIndexer.
	Indexers map[string]IndexFunc[T]
	// Transform, if set, is applied to every object before it is cached
	// (for example to drop managed fields or large annotations). It receives
	// a freshly decoded object the informer owns and may modify and return
	// it. It must not keep it, and must keep namespace, name and
	// resourceVersion.
	Transform func(T) T
	// Backoff paces relists and rewatches after failures.
	Backoff Backoff
	// Clock drives backoff and resync; tests pass clockwork.NewFakeClock().
	// nil (the default) is the real clock.
	Clock clockwork.Clock
	// Logger receives the informer's logs. Default: discard.
	Logger *slog.Logger
	// Registerer, if set, gets the informer's metrics while it runs.
	Registerer prometheus.Registerer
}

// Validate reports whether the configuration is usable.
func (c *Config[T]) Validate() error {
	var errs []error
	if c.ResyncPeriod < 0 {
		errs = append(errs, fmt.Errorf("%w: ResyncPeriod %v is negative", ErrInvalidConfig, c.ResyncPeriod))
	}
	b := c.Backoff
	if b.Initial < 0 || b.Max < 0 || b.ResetAfter < 0 {
		errs = append(errs, fmt.Errorf("%w: Backoff durations must not be negative", ErrInvalidConfig))
	}
	if b.Jitter >= 1 {
		errs = append(errs, fmt.Errorf("%w: Backoff.Jitter %v must be below 1", ErrInvalidConfig, b.Jitter))
	}
	bd := b.withDefaults()
	if bd.Initial > bd.Max {
		errs = append(errs, fmt.Errorf("%w: Backoff.Initial %v exceeds Backoff.Max %v", ErrInvalidConfig, bd.Initial, bd.Max))
	}
	for name, fn := range c.Indexers {
		if name == "" || fn == nil {
			errs = append(errs, fmt.Errorf("%w: Indexers[%q] needs a name and a function", ErrInvalidConfig, name))
		}
	}
	return errors.Join(errs...)
}

// Informer keeps an indexed cache of one resource in step with a source and
// tells handlers about every change. Create it with New, add handlers and
// indexes at any time, and call Run.
type Informer[T store.Object] struct {
	lw    ListerWatcher[T]
	cfg   Config[T]
	cache *Cache[T]
	log   *slog.Logger
	stats stats

	// dmu serializes every cache write and its dispatch to handlers with
	// handler registration and index creation, so that a handler sees the
	// cache's contents and then exactly the changes after them.
	dmu       sync.Mutex
	listeners []*listener[T] // copy on write under dmu
	synced    bool           // first list applied; under dmu

	syncedCh  chan struct{} // closed after the first list
	stoppedCh chan struct{} // closed when Run returns
	started   atomic.Bool
	runWG     sync.WaitGroup // listener goroutines

	errMu   sync.Mutex
	lastErr error // last list or watch failure, cleared on success
	runErr  error // why Run returned

	wmu      sync.Mutex
	waiters  []revWaiter
	nwaiters atomic.Int32

	registerMetrics bool
}

type revWaiter struct {
	rev int64
	ch  chan struct{}
}

// New returns an informer over lw. It does nothing until Run.
func New[T store.Object](lw ListerWatcher[T], cfg Config[T]) (*Informer[T], error) {
	if lw == nil {
		return nil, fmt.Errorf("%w: nil ListerWatcher", ErrInvalidConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = "informer"
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = 500
	}
	cfg.Backoff = cfg.Backoff.withDefaults()
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	inf := &Informer[T]{
		lw:              lw,
		cfg:             cfg,
		cache:           newCache[T](),
		log:             cfg.Logger.With("informer", cfg.Name),
		syncedCh:        make(chan struct{}),
		stoppedCh:       make(chan struct{}),
		registerMetrics: cfg.Registerer != nil,
	}
	for name, fn := range cfg.Indexers {
		if err := inf.cache.addIndex(name, fn); err != nil {
			return nil, err
		}
	}
	return inf, nil
}

// Name returns the informer's name.
func (inf *Informer[T]) Name() string { return inf.cfg.Name }

// Cache returns the informer's cache. Its objects are shared and read-only.
func (inf *Informer[T]) Cache() *Cache[T] { return inf.cache }

// Get returns a cached object (shared, read-only).
func (inf *Informer[T]) Get(namespace, name string) (T, bool) { return inf.cache.Get(namespace, name) }

// List returns every cached object (shared, read-only).
func (inf *Informer[T]) List() []T { return inf.cache.List() }

// ByIndex returns the cached objects under value in the named index.
func (inf *Informer[T]) ByIndex(indexName, value string) ([]T, error) {
	return inf.cache.ByIndex(indexName, value)
}

// Revision returns the store revision the cache reflects.
func (inf *Informer[T]) Revision() int64 { return inf.cache.Revision() }

// AddIndexer adds an index at any time; it is filled from the current
// contents before AddIndexer returns.
func (inf *Informer[T]) AddIndexer(name string, fn IndexFunc[T]) error {
	inf.dmu.Lock()
	defer inf.dmu.Unlock()
	return inf.cache.addIndex(name, fn)
}

// AddHandler registers h. If the informer has already synced, h first
// receives the cache's current contents as OnAdd(obj, true), then every
// later change; otherwise it receives the initial list as it arrives. It
// fails with ErrStopped once Run has returned.
func (inf *Informer[T]) AddHandler(h Handler[T]) (*Registration, error) {
	if h == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrInvalidConfig)
	}
	inf.dmu.Lock()
	defer inf.dmu.Unlock()
	select {
	case <-inf.stoppedCh:
		return nil, fmt.Errorf("informer %s: add handler: %w", inf.cfg.Name, ErrStopped)
	default:
	}
	l := newListener(h)
	l.reg.remove = func() { inf.removeListener(l) }
	if inf.synced {
		for _, obj := range inf.cache.itemsLocked() {
			l.push(note[T]{kind: noteAdd, obj: obj, flag: true})
		}
		l.markSynced()
	}
	ls := make([]*listener[T], len(inf.listeners), len(inf.listeners)+1)
	copy(ls, inf.listeners)
	inf.listeners = append(ls, l)
	inf.runWG.Add(1)
	go func() {
		defer inf.runWG.Done()
		l.run()
	}()
	return l.reg, nil
}

func (inf *Informer[T]) removeListener(l *listener[T]) {
	l.stop()
	inf.dmu.Lock()
	defer inf.dmu.Unlock()
	ls := make([]*listener[T], 0, len(inf.listeners))
	for _, x := range inf.listeners {
		if x != l {
			ls = append(ls, x)
		}
	}
	inf.listeners = ls
}

// HasSynced reports whether the first list has been applied to the cache.
// Handlers may still be processing it; see Registration.HasSynced.
func (inf *Informer[T]) HasSynced() bool {
	select {
	case <-inf.syncedCh:
		return true
	default:
		return false
	}
}

// WaitForSync blocks until the first list has been applied. If ctx ends or
// the informer stops first, the error says why and wraps the last list or
// watch error, so a caller sees the real cause (for example the source's
// permission error) and not only a timeout.
func (inf *Informer[T]) WaitForSync(ctx context.Context) error {
	select {
	case <-inf.syncedCh:
		return nil
	default:
	}
	select {
	case <-inf.syncedCh:
		return nil
	case <-inf.stoppedCh:
		return inf.notRunning("wait for sync")
	case <-ctx.Done():
		if err := inf.LastError(); err != nil {
			return fmt.Errorf("informer %s: not synced: %w; last error: %w", inf.cfg.Name, ctx.Err(), err)
		}
		return fmt.Errorf("informer %s: not synced: %w", inf.cfg.Name, ctx.Err())
	}
}

// LastError returns the last list or watch failure, or nil if the last
// attempt succeeded.
func (inf *Informer[T]) LastError() error {
	inf.errMu.Lock()
	defer inf.errMu.Unlock()
	return inf.lastErr
}

func (inf *Informer[T]) setLastError(err error) {
	inf.errMu.Lock()
	inf.lastErr = err
	inf.errMu.Unlock()
}

func (inf *Informer[T]) notRunning(op string) error {
	inf.errMu.Lock()
	defer inf.errMu.Unlock()
	cause := inf.runErr
	if cause == nil {
		cause = inf.lastErr
	}
	if cause != nil {
		return fmt.Errorf("informer %s: %s: %w: %w", inf.cfg.Name, op, ErrStopped, cause)
	}
	return fmt.Errorf("informer %s: %s: %w", inf.cfg.Name, op, ErrStopped)
}

// WaitForRevision blocks until the cache reflects store revision rev or
// later, so a caller that wrote revision rev never reads an older cache. It
// returns ctx's error, or ErrStopped if the informer stops first.
//
// The cache advances with every event and bookmark its watch receives;
// writes to objects outside the informer's namespace or selector advance it
// only when the source sends a bookmark.
func (inf *Informer[T]) WaitForRevision(ctx context.Context, rev int64) error {
	if inf.cache.Revision() >= rev {
		return nil
	}
	inf.wmu.Lock()
	inf.nwaiters.Add(1)
	if inf.cache.Revision() >= rev {
		inf.nwaiters.Add(-1)
		inf.wmu.Unlock()
		return nil
	}
	w := revWaiter{rev: rev, ch: make(chan struct{})}
	inf.waiters = append(inf.waiters, w)
	inf.wmu.Unlock()
	select {
	case <-w.ch:
		return nil
	case <-inf.stoppedCh:
		inf.dropWaiter(w)
		return inf.notRunning(fmt.Sprintf("wait for revision %d", rev))
	case <-ctx.Done():
		inf.dropWaiter(w)
		return fmt.Errorf("informer %s: wait for revision %d (cache at %d): %w", inf.cfg.Name, rev, inf.cache.Revision(), ctx.Err())
	}
}

func (inf *Informer[T]) dropWaiter(w revWaiter) {
	inf.wmu.Lock()
	defer inf.wmu.Unlock()
	for i, x := range inf.waiters {
		if x.ch == w.ch {
			inf.waiters = append(inf.waiters[:i], inf.waiters[i+1:]...)
			inf.nwaiters.Add(-1)
			return
		}
	}
}

// setRevision records that the cache reflects rev and wakes the waiters it
// satisfies. Only the reflector calls it, after applying the change.
func (inf *Informer[T]) setRevision(rev int64) {
	inf.cache.rev.Store(rev)
	if inf.nwaiters.Load() == 0 {
		return
	}
	inf.wmu.Lock()
	defer inf.wmu.Unlock()
	kept := inf.waiters[:0]
	for _, w := range inf.waiters {
		if w.rev <= rev {
			close(w.ch)
			inf.nwaiters.Add(-1)
		} else {
			kept = append(kept, w)
		}
	}
	for i := len(kept); i < len(inf.waiters); i++ {
		inf.waiters[i] = revWaiter{}
	}
	inf.waiters = kept
}

// Run lists and watches the source, keeping the cache and handlers up to
// date, until ctx ends; then it stops every handler's delivery and returns
// nil. It returns an error only if it cannot start (called twice:
// ErrAlreadyRunning; or its metrics cannot be registered). Failures of the source are retried with
// backoff; see LastError and WaitForSync.
func (inf *Informer[T]) Run(ctx context.Context) error {
	if !inf.started.CompareAndSwap(false, true) {
		return fmt.Errorf("informer %s: %w", inf.cfg.Name, ErrAlreadyRunning)
	}
	var err error
	var c *collector
	if inf.registerMetrics {
		c = newCollector(inf.cfg.Name, func(yield func(metricSource)) { yield(inf) })
		if err = inf.cfg.Registerer.Register(c); err != nil {
			c = nil
			err = fmt.Errorf("informer %s: register metrics: %w", inf.cfg.Name, err)
		}
	}
	if err == nil {
		var wg sync.WaitGroup
		if inf.cfg.ResyncPeriod > 0 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				inf.resyncLoop(ctx)
			}()
		}
		r := reflector[T]{inf: inf, bo: backoff{cfg: inf.cfg.Backoff}}
		r.run(ctx)
		wg.Wait()
	}
	if c != nil {
		inf.cfg.Registerer.Unregister(c)
	}
	inf.errMu.Lock()
	inf.runErr = err
	inf.errMu.Unlock()
	inf.dmu.Lock()
	close(inf.stoppedCh)
	ls := inf.listeners
	inf.listeners = nil
	inf.dmu.Unlock()
	for _, l := range ls {
		l.stop()
	}
	inf.runWG.Wait()
	return err
}

// Stopped is closed when Run has returned.
func (inf *Informer[T]) Stopped() <-chan struct{} { return inf.stoppedCh }

func (inf *Informer[T]) resyncLoop(ctx context.Context) {
	for {
		t := inf.cfg.Clock.NewTimer(inf.cfg.ResyncPeriod)
		select {
		case <-t.Chan():
		case <-ctx.Done():
			t.Stop()
			return
		}
		inf.dmu.Lock()
		if inf.synced {
			for _, obj := range inf.cache.itemsLocked() {
				for _, l := range inf.listeners {
					l.push(note[T]{kind: noteUpdate, old: obj, obj: obj})
				}
			}
		}
		inf.dmu.Unlock()
	}
}
