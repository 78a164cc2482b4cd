package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
)

// Source opens the upstream watch: a stream of every event with a revision
// greater than afterRev, in strictly increasing revision order. A Source
// reports a compacted afterRev with an error wrapping ErrGone, either from the
// call itself or as the end of the stream. store.Backend.Watch, bound to a
// prefix, is the usual Source. A Broadcaster drops (and logs) an event whose
// revision is not above the last one, so a source must give each event its
// own revision, as the store's single-key writes do.
type Source[T any] func(ctx context.Context, afterRev int64) (Watcher[T], error)

// Sizer is implemented by event objects that know how many bytes they hold
// (store.KV counts its key and values). A Broadcaster with WindowBytes or
// SubscriberBytes weighs each event by its object's Size (by value or through
// a pointer); objects without one weigh nothing.
type Sizer interface {
	Size() int64
}

// sizeOf returns the weight of e's object; bookmarks weigh nothing.
func sizeOf[T any](e *Event[T]) int64 {
	if e.Type == Bookmark {
		return 0
	}
	if s, ok := any(e.Object).(Sizer); ok {
		return s.Size()
	}
	if s, ok := any(&e.Object).(Sizer); ok {
		return s.Size()
	}
	return 0
}

// Defaults for BroadcasterConfig fields left zero.
const (
	DefaultWindow           = 10000
	DefaultSubscriberBuffer = 1000
	DefaultMinBackoff       = 100 * time.Millisecond
	DefaultMaxBackoff       = 10 * time.Second
)

// BroadcasterConfig configures a Broadcaster. The zero value is valid and
// means all defaults.
type BroadcasterConfig struct {
	// Window is how many recent events the broadcaster keeps so that a late
	// subscriber can start from an older revision. Default DefaultWindow.
	Window int
	// SubscriberBuffer bounds how far a stuck subscriber may fall behind:
	// once its channel is full, it is cut off with ErrTooSlow if it takes no
	// event while more than SubscriberBuffer further events arrive. (Its
	// channel holds min(SubscriberBuffer, 128) events; the rest wait in the
	// shared window, costing nothing per subscriber.) A subscriber that keeps
	// reading but falls more than Window events behind is cut off too. Default
	// DefaultSubscriberBuffer, or Window if smaller. It must not exceed Window.
	SubscriberBuffer int
	// WindowBytes bounds the window in bytes as well as in events: events
	// weigh their object's Size (see Sizer), and once the window's weight
	// exceeds WindowBytes its oldest events leave it (the newest always
	// stays). 0: no byte bound.
	WindowBytes int64
	// SubscriberBytes is SubscriberBuffer in bytes: a subscriber whose
	// channel stays full while events weighing more than SubscriberBytes
	// arrive is cut off with ErrTooSlow. 0: no byte bound.
	SubscriberBytes int64
	// MinBackoff is the first delay before reopening a source stream that
	// broke without delivering anything; the delay doubles up to MaxBackoff.
	// A stream that delivered events is reopened at once. Defaults
	// DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff time.Duration
	// MaxBackoff caps the reopen delay.
	MaxBackoff time.Duration
	// Clock paces the reopen backoff. Default clockwork.NewRealClock().
	Clock clockwork.Clock
	// Logger receives reconnects and dropped source events. Default: discard.
	Logger *slog.Logger
	// Name identifies the broadcaster in logs and in the "name" label of its
	// metrics, for example the resource it watches. Default "default".
	Name string
	// Registerer, if set, receives the broadcaster's Prometheus metrics
	// (setpoint_watch_broadcaster_*) from NewBroadcaster until Run returns.
	// Broadcasters sharing a registerer at once need distinct Names.
	// Default: no metrics.
	Registerer prometheus.Registerer
}

// withDefaults returns c with zero fields set to their defaults.
func (c BroadcasterConfig) withDefaults() BroadcasterConfig {
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.SubscriberBuffer == 0 {
		c.SubscriberBuffer = min(DefaultSubscriberBuffer, max(c.Window, 1))
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = max(DefaultMaxBackoff, c.MinBackoff)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	if c.Name == "" {
		c.Name = "default"
	}
	return c
}

// Validate reports the first invalid field, after applying defaults.
func (c BroadcasterConfig) Validate() error {
	d := c.withDefaults()
	switch {
	case d.Window < 1:
		return fmt.Errorf("watch: BroadcasterConfig.Window must be positive, got %d", c.Window)
	case d.SubscriberBuffer < 1:
		return fmt.Errorf("watch: BroadcasterConfig.SubscriberBuffer must be positive, got %d", c.SubscriberBuffer)
	case d.SubscriberBuffer > d.Window:
		return fmt.Errorf("watch: BroadcasterConfig.SubscriberBuffer (%d) must not exceed Window (%d)", d.SubscriberBuffer, d.Window)
	case d.MinBackoff < 0:
		return fmt.Errorf("watch: BroadcasterConfig.MinBackoff must not be negative, got %v", c.MinBackoff)
	case d.MaxBackoff < d.MinBackoff:
		return fmt.Errorf("watch: BroadcasterConfig.MaxBackoff (%v) must not be less than MinBackoff (%v)", d.MaxBackoff, d.MinBackoff)
	case d.WindowBytes < 0:
		return fmt.Errorf("watch: BroadcasterConfig.WindowBytes must not be negative, got %d", c.WindowBytes)
	case d.SubscriberBytes < 0:
		return fmt.Errorf("watch: BroadcasterConfig.SubscriberBytes must not be negative, got %d", c.SubscriberBytes)
	}
	return nil
}

// ErrAlreadyRunning is returned by a second call to Broadcaster.Run.
var ErrAlreadyRunning = errors.New("watch: broadcaster is already running")

// Broadcaster serves many subscribers from one upstream watch: a watch cache.
// It keeps the last Window events in one shared ring; each subscriber holds
// only its position in the ring and has its own goroutine that copies events
// into its channel, so a slow subscriber never slows the others or the
// upstream. A subscriber that stops reading while SubscriberBuffer events
// (or SubscriberBytes) arrive, or falls out of the window, is ended with
// ErrTooSlow, and so is one whose channel still holds an event that has left
// the window. So memory stays bounded by the window (Window events,
// WindowBytes) plus, for each subscriber, its channel (at most 128 events,
// which a cut-off one keeps until its consumer takes them or drops the
// watcher).
//
// The window is complete from a revision W on: a subscriber may start after
// any revision >= W (see Window); revisions need not be contiguous.
//
// Create one with NewBroadcaster and start it with Run.
type Broadcaster[T any] struct {
	source  Source[T]
	cfg     BroadcasterConfig
	log     *slog.Logger
	metrics *broadcasterMetrics
	rev     atomic.Int64 // last revision seen, including bookmarks

	weigh bool // events are weighed (a byte bound is set)

	mu        sync.RWMutex
	ring      []Event[T] // ring[seq % len(ring)] holds event number seq
	sizes     []int64    // sizes[seq % len(ring)]: event seq's weight (when weighing)
	head      uint64     // sequence number of the next event
	tail      uint64     // sequence number of the oldest event held
	bytes     int64      // weight of the events held
	total     int64      // weight of every event ever published
	windowRev int64      // every event after windowRev is in the ring
	notify    chan struct{}
	waiting   atomic.Bool // a subscriber is waiting on notify
	started   bool
	endErr    error // why Run ended; set once
	subs      int   // subscribers attached
}

// NewBroadcaster returns a broadcaster that will watch source after startRev,
// normally the revision of the list the caller's state came from. (A store
// backend treats afterRev 0 as "from now", so a broadcaster started at 0 over
// one sees only changes made after it first opens the source.) It starts
// nothing until Run is called; Subscribe may be called before.
func NewBroadcaster[T any](source Source[T], startRev int64, cfg BroadcasterConfig) (*Broadcaster[T], error) {
	if source == nil {
		return nil, errors.New("watch: NewBroadcaster: source is nil")
	}
	if startRev < 0 {
		return nil, fmt.Errorf("watch: NewBroadcaster: startRev must not be negative, got %d", startRev)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m := newBroadcasterMetrics(cfg.Name)
	if cfg.Registerer != nil {
		if err := m.register(cfg.Registerer); err != nil {
			return nil, err
		}
	}
	m.revision.Set(float64(startRev))
	b := &Broadcaster[T]{
		source:    source,
		cfg:       cfg,
		metrics:   m,
		log:       cfg.Logger.With("broadcaster", cfg.Name),
		weigh:     cfg.WindowBytes > 0 || cfg.SubscriberBytes > 0,
		ring:      make([]Event[T], cfg.Window),
		windowRev: startRev,
		notify:    make(chan struct{}),
	}
	if b.weigh {
		b.sizes = make([]int64, cfg.Window)
	}
	b.rev.Store(startRev)
	return b, nil
}

// Revision returns the last revision the broadcaster has seen, including
// bookmarks; startRev before the first event.
func (b *Broadcaster[T]) Revision() int64 { return b.rev.Load() }

// Window returns W, the oldest revision a new subscriber may start after:
// every event after W is still held. It grows as old events drop out.
func (b *Broadcaster[T]) Window() int64 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.windowRev
}

// Subscribers returns how many subscribers are currently attached.
func (b *Broadcaster[T]) Subscribers() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.subs
}

// WindowBytes returns the summed weight (see Sizer) of the events the window
// holds; 0 unless WindowBytes or SubscriberBytes is set.
func (b *Broadcaster[T]) WindowBytes() int64 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.bytes
}

// Run pumps the source into the window until ctx is done or the source
// reports ErrGone. A source stream that breaks for any other reason is
// reopened after the last revision seen, so subscribers see neither gaps nor
// repeats; opens that keep failing are retried with exponential backoff.
//
// Run returns nil when ctx is done; each subscriber then receives the events
// still due to it from the window and ends with ErrClosed. When the source reports ErrGone (its
// history was compacted past the broadcaster's revision), Run does not
// restart: every subscriber ends with the source's error, which wraps ErrGone,
// and Run returns it. The caller relists and builds a new Broadcaster. After
// Run returns, Subscribe fails with the same reason. Run may be called once.
func (b *Broadcaster[T]) Run(ctx context.Context) error {
	b.mu.Lock()
	if b.started {
		b.mu.Unlock()
		return ErrAlreadyRunning
	}
	b.started = true
	b.mu.Unlock()

	err := b.pump(ctx)
	end := err
	if end == nil {
		end = fmt.Errorf("%w: broadcaster stopped: %w", ErrClosed, context.Cause(ctx))
	}
	b.mu.Lock()
	b.endErr = end
	ch := b.notify
	b.notify = make(chan struct{})
	b.mu.Unlock()
	close(ch)
	if b.cfg.Registerer != nil {
		// A successor with the same Name (a rebuilt watch cache) may
		// register its own.
		for _, c := range b.metrics.collectors() {
			b.cfg.Registerer.Unregister(c)
		}
	}
	return err
}

// pump opens and consumes source streams until ctx is done (nil) or the
// source is gone (the error).
func (b *Broadcaster[T]) pump(ctx context.Context) error {
	failures := 0
	batch := make([]Event[T], 0, maxBatch)
	for {
		if failures > 0 {
			t := b.cfg.Clock.NewTimer(b.backoff(failures))
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.Chan():
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		after := b.Revision()
		n := 0
		w, err := b.source(ctx, after)
		switch {
		case err == nil && w == nil:
			err = errors.New("watch: source returned neither a watcher nor an error")
		case err == nil:
			n, err = b.consume(ctx, w, batch)
			w.Stop()
		}
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrGone) {
			b.log.Warn("watch source is gone; ending all subscribers", "after", after, "err", err)
			return fmt.Errorf("watch: broadcaster source after revision %d: %w", after, err)
		}
		if n > 0 {
			failures = 0 // it was making progress: reopen at once
		} else {
			failures++
		}
		b.metrics.reopens.Inc()
		b.log.Info("watch source stream ended; reopening", "after", b.Revision(), "err", err, "failures", failures)
	}
}

// backoff returns the delay before reopen attempt n (n >= 1), with jitter.
func (b *Broadcaster[T]) backoff(n int) time.Duration {
	return BackoffDelay(n, b.cfg.MinBackoff, b.cfg.MaxBackoff)
}

// BackoffDelay returns the delay before retry n (n >= 1) of something that
// keeps failing: minDelay doubled n-1 times, at most maxDelay, less up to 20%
// at random so that many retriers do not retry in step. The Broadcaster
// reopens its source with it, and store's watch cache rebuilds with it.
func BackoffDelay(n int, minDelay, maxDelay time.Duration) time.Duration {
	d := minDelay
	for i := 1; i < n && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	if d <= 1 {
		return d
	}
	return d - rand.N(d/5+1)
}

// maxBatch bounds how many events are moved under one lock.
const maxBatch = 256

// consume reads w until it ends, publishing its events in batches. It
// returns how many events were published and why the stream ended.
func (b *Broadcaster[T]) consume(ctx context.Context, w Watcher[T], batch []Event[T]) (int, error) {
	events := w.Events()
	n := 0
	for {
		var (
			ev Event[T]
			ok bool
		)
		select {
		case ev, ok = <-events:
		case <-ctx.Done():
			return n, ctx.Err()
		}
		batch = batch[:0]
		var end error
	fill:
		for {
			if !ok {
				end = w.Err()
				if end == nil {
					end = ErrClosed
				}
				break
			}
			if ev.Type == Error {
				end = ev.Err
				if end == nil {
					end = fmt.Errorf("%w: error event without an error", ErrClosed)
				}
				break
			}
			batch = append(batch, ev)
			if len(batch) == maxBatch {
				break
			}
			select {
			case ev, ok = <-events:
			default:
				break fill
			}
		}
		n += b.publish(batch)
		if end != nil {
			return n, end
		}
	}
}

// publish appends the valid events of batch to the ring and wakes waiting
// subscribers. It returns how many events it appended.
func (b *Broadcaster[T]) publish(batch []Event[T]) int {
	if len(batch) == 0 {
		return 0
	}
	n := 0
	b.mu.Lock()
	rev := b.rev.Load()
	for i := range batch {
		ev := &batch[i]
		switch ev.Type {
		case Added, Modified, Deleted:
			if ev.Revision <= rev {
				b.log.Warn("watch source sent an event out of revision order; dropped", "type", ev.Type, "revision", ev.Revision, "last", rev)
				continue
			}
		case Bookmark:
			if ev.Revision <= rev {
				continue // tells nothing new
			}
		default:
			b.log.Warn("watch source sent an event of unknown type; dropped", "type", ev.Type, "revision", ev.Revision)
			continue
		}
		var size int64
		if b.weigh {
			size = sizeOf(ev)
		}
		if b.head-b.tail == uint64(len(b.ring)) {
			b.evictLocked()
		}
		slot := b.head % uint64(len(b.ring))
		b.ring[slot] = *ev
		if b.weigh {
			b.sizes[slot] = size
		}
		b.head++
		b.bytes += size
		b.total += size
		for b.cfg.WindowBytes > 0 && b.bytes > b.cfg.WindowBytes && b.head-b.tail > 1 {
			b.evictLocked()
		}
		rev = ev.Revision
		n++
	}
	b.rev.Store(rev)
	b.metrics.events.Add(float64(n))
	b.metrics.revision.Set(float64(rev))
	b.metrics.windowBytes.Set(float64(b.bytes))
	var ch chan struct{}
	if n > 0 && b.waiting.Load() {
		b.waiting.Store(false)
		ch = b.notify
		b.notify = make(chan struct{})
	}
	b.mu.Unlock()
	clear(batch) // drop references to published objects
	if ch != nil {
		close(ch)
	}
	return n
}

// evictLocked drops the oldest event held. b.mu is held for writing.
func (b *Broadcaster[T]) evictLocked() {
	i := b.tail % uint64(len(b.ring))
	b.windowRev = b.ring[i].Revision
	b.ring[i] = Event[T]{}
	if b.weigh {
		b.bytes -= b.sizes[i]
		b.sizes[i] = 0
	}
	b.tail++
}

// oldestLocked returns the sequence number of the oldest event held.
func (b *Broadcaster[T]) oldestLocked() uint64 { return b.tail }

// SubscribeOption configures one subscription.
type SubscribeOption func(*subscribeOptions)

type subscribeOptions struct {
	bookmarks bool
}

// WithBookmarks asks for Bookmark events too; without it they are left out.
func WithBookmarks() SubscribeOption {
	return func(o *subscribeOptions) { o.bookmarks = true }
}

// Subscribe returns a watcher of every event with a revision greater than
// afterRev. If afterRev is older than the window (see Window) it fails with a
// *GoneError; if it is newer than Revision, the watcher waits for those
// events. The watcher ends when ctx is done (with ctx's error), when Stop is
// called (ErrStopped), when it falls too far behind (ErrTooSlow) or when Run
// ends (ErrClosed, or the source's ErrGone).
func (b *Broadcaster[T]) Subscribe(ctx context.Context, afterRev int64, opts ...SubscribeOption) (Watcher[T], error) {
	return subscribe[T, T](b, ctx, afterRev, nil, opts)
}

// SubscribeMap is Subscribe with a conversion run in the subscriber's own
// goroutine: fn sees each event due to the subscriber (bookmarks only
// WithBookmarks) and returns the event to deliver, or false to skip it. It
// lets each subscriber filter and convert the shared events (apply its
// selector, say) without a goroutine and channel of its own. fn must not
// modify the event's object, which every subscriber shares, and must keep
// revisions increasing. A skipped event still counts toward the
// subscriber's lag while its channel is full.
func SubscribeMap[T, O any](b *Broadcaster[T], ctx context.Context, afterRev int64, fn func(Event[T]) (Event[O], bool), opts ...SubscribeOption) (Watcher[O], error) {
	if fn == nil {
		return nil, errors.New("watch: SubscribeMap: nil conversion")
	}
	return subscribe(b, ctx, afterRev, fn, opts)
}

func subscribe[T, O any](b *Broadcaster[T], ctx context.Context, afterRev int64, fn func(Event[T]) (Event[O], bool), opts []SubscribeOption) (Watcher[O], error) {
	var o subscribeOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.endErr != nil {
		return nil, b.endErr
	}
	if afterRev < b.windowRev {
		return nil, &GoneError{Requested: afterRev, Oldest: b.windowRev}
	}
	oldest := b.oldestLocked()
	size := uint64(len(b.ring))
	i := sort.Search(int(b.head-oldest), func(i int) bool {
		return b.ring[(oldest+uint64(i))%size].Revision > afterRev
	})
	chanSize := min(b.cfg.SubscriberBuffer, subscriberChan)
	s := &subscriber[T, O]{
		b:         b,
		stream:    NewStream[O](chanSize),
		conv:      fn,
		next:      oldest + uint64(i),
		after:     afterRev,
		bookmarks: o.bookmarks,
		limit:     uint64(b.cfg.SubscriberBuffer),
		byteLimit: b.cfg.SubscriberBytes,
		sent:      make([]uint64, chanSize),
	}
	if fn == nil { // Subscribe: O is T, events go out as they are
		s.same = any(s.stream).(*Stream[T])
	}
	b.subs++
	b.metrics.subscribers.Inc()
	go s.run(ctx)
	return s.stream, nil
}
