package informer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/store"
)

// ErrTypeMismatch: Shared was asked for a key already held by an informer
// of another object type.
var ErrTypeMismatch = errors.New("informer: shared informer has another object type")

// Key identifies a shared informer: one per resource, namespace and selector.
type Key struct {
	// Resource is the resource name, for example "pods".
	Resource string
	// Namespace is "" for all namespaces.
	Namespace string
	// Selector is the canonical label selector string.
	Selector string
}

// String returns "resource[/namespace][?selector]".
func (k Key) String() string {
	s := k.Resource
	if k.Namespace != "" {
		s += "/" + k.Namespace
	}
	if k.Selector != "" {
		s += "?" + k.Selector
	}
	return s
}

// FactoryOption configures a Factory.
type FactoryOption func(*factoryOptions)

type factoryOptions struct {
	logger     *slog.Logger
	registerer prometheus.Registerer
	resync     time.Duration
}

// WithLogger sets the logger of the factory's informers (when their Config
// has none).
func WithLogger(l *slog.Logger) FactoryOption { return func(o *factoryOptions) { o.logger = l } }

// WithRegisterer registers the metrics of every informer the factory runs on r.
func WithRegisterer(r prometheus.Registerer) FactoryOption {
	return func(o *factoryOptions) { o.registerer = r }
}

// WithDefaultResync sets the ResyncPeriod of informers whose Config has none.
func WithDefaultResync(d time.Duration) FactoryOption {
	return func(o *factoryOptions) { o.resync = d }
}

// resourceNamer is implemented by *store.Store[T].
type resourceNamer interface {
	Resource() store.Resource
}

// entry is one shared informer.
type entry struct {
	inf     any // *Informer[T]
	refs    int
	run     func(ctx context.Context) error
	synced  func(ctx context.Context) error
	sample  func() metricSample
	cancel  context.CancelFunc // set once started
	started bool
}

// Factory hands out shared informers: one per Key, however many users ask
// for it, run and stopped together by Run, and reference counted so that an
// informer nobody uses any more stops.
type Factory struct {
	opts factoryOptions

	mu      sync.Mutex
	entries map[Key]*entry
	running bool // Run has been called
	closed  bool // Run's context has ended
	wg      sync.WaitGroup
}

// NewFactory returns a factory. With WithRegisterer it registers one
// collector for all its informers, and fails if that registration fails.
func NewFactory(opts ...FactoryOption) (*Factory, error) {
	f := &Factory{entries: map[Key]*entry{}}
	for _, o := range opts {
		o(&f.opts)
	}
	if f.opts.resync < 0 {
		return nil, fmt.Errorf("%w: negative default resync %v", ErrInvalidConfig, f.opts.resync)
	}
	if f.opts.registerer != nil {
		c := newCollector("", func(yield func(metricSource)) {
			f.mu.Lock()
			samples := make([]func() metricSample, 0, len(f.entries))
			for _, e := range f.entries {
				samples = append(samples, e.sample)
			}
			f.mu.Unlock()
			for _, s := range samples {
				yield(sampleFunc(s))
			}
		})
		if err := f.opts.registerer.Register(c); err != nil {
			return nil, fmt.Errorf("informer factory: register metrics: %w", err)
		}
	}
	return f, nil
}

type sampleFunc func() metricSample

func (s sampleFunc) metricSample() metricSample { return s() }

// Shared returns the factory's informer for lw's resource, cfg.Namespace and
// cfg.Selector, creating it from cfg if nobody holds it yet (later callers'
// Indexers are added to it; their other Config fields are ignored). Call
// release once when done with it; when the last holder releases, the
// informer stops. If the factory is running the informer starts at once,
// otherwise when Run is called. Once Run has returned, Shared fails with
// ErrStopped.
//
// The resource name comes from lw's Resource() method (as *store.Store has)
// or else from cfg.Name. A Config with a Filter cannot be shared (a function
// cannot be part of the key): use New.
func Shared[T store.Object](f *Factory, lw ListerWatcher[T], cfg Config[T]) (inf *Informer[T], release func(), err error) {
	key := Key{Namespace: cfg.Namespace, Selector: cfg.Selector.String()}
	if rn, ok := lw.(resourceNamer); ok {
		key.Resource = rn.Resource().Name
	} else {
		key.Resource = cfg.Name
	}
	if key.Resource == "" {
		return nil, nil, fmt.Errorf("%w: shared informer needs a resource name (a source with Resource(), or Config.Name)", ErrInvalidConfig)
	}
	if cfg.Filter != nil {
		return nil, nil, fmt.Errorf("%w: shared informer %s: a Filter cannot be shared; use a Selector or New", ErrInvalidConfig, key)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, nil, fmt.Errorf("informer factory: shared informer %s: %w", key, ErrStopped)
	}
	e, ok := f.entries[key]
	if ok {
		inf, ok = e.inf.(*Informer[T])
		if !ok {
			return nil, nil, fmt.Errorf("%w: %s holds %T", ErrTypeMismatch, key, e.inf)
		}
		for name, fn := range cfg.Indexers {
			if err := inf.AddIndexer(name, fn); err != nil && !errors.Is(err, ErrIndexExists) {
				return nil, nil, err
			}
		}
	} else {
		if cfg.Name == "" || cfg.Name == key.Resource {
			cfg.Name = key.String()
		}
		if cfg.Logger == nil {
			cfg.Logger = f.opts.logger
		}
		if cfg.ResyncPeriod == 0 {
			cfg.ResyncPeriod = f.opts.resync
		}
		cfg.Registerer = nil // the factory's collector covers it
		inf, err = New(lw, cfg)
		if err != nil {
			return nil, nil, err
		}
		e = &entry{inf: inf, run: inf.Run, synced: inf.WaitForSync, sample: inf.metricSample}
		f.entries[key] = e
		if f.running && !f.closed {
			f.startLocked(e)
		}
	}
	e.refs++
	var once sync.Once
	release = func() { once.Do(func() { f.release(key, e) }) }
	return inf, release, nil
}

func (f *Factory) release(key Key, e *entry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e.refs--
	if e.refs > 0 {
		return
	}
	if f.entries[key] == e {
		delete(f.entries, key)
	}
	if e.cancel != nil {
		e.cancel()
	}
}

func (f *Factory) startLocked(e *entry) {
	if e.started {
		return
	}
	e.started = true
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer cancel()
		_ = e.run(ctx) // Run fails only when started twice, which startLocked prevents
	}()
}

// Run runs every informer the factory holds, and every one it hands out
// later, until ctx ends; then it stops them all, waits for them to return,
// and returns nil. Like an Informer, a Factory runs once: a second call,
// during or after the first, returns an error wrapping ErrAlreadyRunning and
// changes nothing, and Shared fails with ErrStopped once Run has returned.
// Wait for the informers to fill with WaitForSync.
func (f *Factory) Run(ctx context.Context) error {
	f.mu.Lock()
	if f.running {
		f.mu.Unlock()
		return fmt.Errorf("informer factory: %w (a factory runs once)", ErrAlreadyRunning)
	}
	f.running = true
	for _, e := range f.entries {
		f.startLocked(e)
	}
	f.mu.Unlock()

	<-ctx.Done()

	f.mu.Lock()
	f.closed = true
	for _, e := range f.entries {
		if e.cancel != nil {
			e.cancel()
		}
	}
	f.mu.Unlock()
	f.wg.Wait()
	return nil
}

// WaitForSync waits until every informer the factory holds has synced, and
// returns the errors of those that did not (see Informer.WaitForSync).
func (f *Factory) WaitForSync(ctx context.Context) error {
	f.mu.Lock()
	waits := make([]func(context.Context) error, 0, len(f.entries))
	for _, e := range f.entries {
		waits = append(waits, e.synced)
	}
	f.mu.Unlock()
	var errs []error
	for _, w := range waits {
		if err := w(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Len returns the number of informers the factory holds.
func (f *Factory) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.entries)
}
