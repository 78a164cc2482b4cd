package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
)

// Reconciler drives the state of the thing key names toward its desired
// state. It is level-based: it reads the current state and acts on it, and it
// must not assume which change led to the call.
type Reconciler[K comparable] interface {
	// Reconcile brings key's object to its desired state. A nil error with a
	// zero Result means done until key is next added. An error means retry
	// with backoff, unless it was wrapped with TerminalError.
	Reconcile(ctx context.Context, key K) (Result, error)
}

// Func adapts a function to a Reconciler.
type Func[K comparable] func(ctx context.Context, key K) (Result, error)

// Reconcile calls f(ctx, key).
func (f Func[K]) Reconcile(ctx context.Context, key K) (Result, error) { return f(ctx, key) }

var _ Reconciler[string] = Func[string](nil)

// Result tells the controller what to do with a key after a successful
// reconcile. It is ignored when Reconcile returns an error.
type Result struct {
	// RequeueAfter, when positive, reconciles the key again after this long
	// (and resets its backoff).
	RequeueAfter time.Duration
	// Requeue, when RequeueAfter is zero, reconciles the key again after the
	// rate limiter's delay, as an error would but without logging one. The
	// delay grows with each consecutive requeue, never past
	// Config.MaxRetryDelay.
	Requeue bool
}

// Config configures a Controller. Name and Reconciler are required; every
// other field has a default.
type Config[K comparable] struct {
	// Name names the controller in logs and metrics. Required.
	Name string
	// Reconciler is called for each key. Required.
	Reconciler Reconciler[K]
	// Workers is how many keys are reconciled at once. Default 1.
	Workers int
	// Timeout, when positive, bounds each reconcile: its context is
	// cancelled with cause ErrTimeout after this long (on Clock).
	Timeout time.Duration
	// ShutdownGrace is how long in-flight reconciles keep a live context
	// after Run's context ends. Zero (the default) cancels them at once;
	// either way Run waits for them to return.
	ShutdownGrace time.Duration
	// RateLimiter spaces retries of failed keys. Default:
	// DefaultRateLimiter(Clock).
	RateLimiter RateLimiter[K]
	// MaxRetryDelay caps every retry delay, so that a key that keeps
	// failing is retried at least this often instead of backing off to many
	// minutes; a key that hits the cap is logged at warning level. Default
	// one minute; negative: no cap.
	MaxRetryDelay time.Duration
	// Clock times delays and timeouts; tests pass clockwork.NewFakeClock().
	// nil (the default) is the real clock.
	Clock clockwork.Clock
	// Logger receives the controller's logs, each with the controller's
	// name and the key. Default: discard.
	Logger *slog.Logger
	// Registerer, when set, receives the controller's metrics (see
	// NewMetrics).
	Registerer prometheus.Registerer
}

// DefaultMaxRetryDelay is Config.MaxRetryDelay's default.
const DefaultMaxRetryDelay = time.Minute

// Validate reports the first problem with c, naming the field.
func (c *Config[K]) Validate() error {
	switch {
	case c.Name == "":
		return fmt.Errorf("%w: Name is required", ErrInvalidConfig)
	case c.Reconciler == nil:
		return fmt.Errorf("%w: controller %q: Reconciler is required", ErrInvalidConfig, c.Name)
	case c.Workers < 0:
		return fmt.Errorf("%w: controller %q: Workers is %d, must not be negative", ErrInvalidConfig, c.Name, c.Workers)
	case c.Timeout < 0:
		return fmt.Errorf("%w: controller %q: Timeout is %v, must not be negative", ErrInvalidConfig, c.Name, c.Timeout)
	case c.ShutdownGrace < 0:
		return fmt.Errorf("%w: controller %q: ShutdownGrace is %v, must not be negative", ErrInvalidConfig, c.Name, c.ShutdownGrace)
	}
	return nil
}

// Controller feeds the keys of its Queue to a Reconciler on a pool of
// workers. One key is never reconciled by two workers at once, and a key
// added while it is being reconciled is reconciled again afterwards.
//
// Run runs the workers until its context ends; it may be called again
// after it returns, and keys added meanwhile wait in the queue. That makes
// leader election simple: call Run with the context an election callback
// gets on becoming leader, which ends when leadership ends.
type Controller[K comparable] struct {
	cfg     Config[K]
	queue   *Queue[K]
	log     *slog.Logger
	metrics *Metrics
	running atomic.Bool
}

// New validates cfg and returns a stopped controller with an empty queue. It
// registers the controller's metrics on cfg.Registerer, if set.
func New[K comparable](cfg Config[K]) (*Controller[K], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.MaxRetryDelay == 0 {
		cfg.MaxRetryDelay = DefaultMaxRetryDelay
	}
	if cfg.RateLimiter == nil {
		cfg.RateLimiter = DefaultRateLimiter[K](cfg.Clock)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := &Controller[K]{cfg: cfg, log: log.With("controller", cfg.Name)}
	if cfg.Registerer != nil {
		m, err := NewMetrics(cfg.Registerer, cfg.Name)
		if err != nil {
			return nil, err
		}
		c.metrics = m
	}
	c.queue = NewQueue(QueueConfig[K]{
		Clock:       cfg.Clock,
		RateLimiter: Capped(cfg.RateLimiter, cfg.MaxRetryDelay),
		Metrics:     c.metrics,
	})
	return c, nil
}

// Queue returns the controller's queue, for handlers to add keys to. Shut it
// down when the controller is no longer needed.
func (c *Controller[K]) Queue() *Queue[K] { return c.queue }

// Run runs the workers until ctx ends or the queue is shut down, then waits
// for in-flight reconciles to return (see Config.ShutdownGrace) and returns
// nil. Keys still pending stay queued for the next Run, which may follow
// once this one has returned. It returns an error wrapping ErrAlreadyRunning,
// and changes nothing, if the controller is running already.
func (c *Controller[K]) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return fmt.Errorf("controller %q: %w", c.cfg.Name, ErrAlreadyRunning)
	}
	defer c.running.Store(false)

	// parent is the context reconciles derive from: ctx itself, or with a
	// grace period a context that ends that long after ctx.
	parent := ctx
	if g := c.cfg.ShutdownGrace; g > 0 {
		graceCtx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
		defer cancel(nil)
		var mu sync.Mutex
		var timer clockwork.Timer
		stop := context.AfterFunc(ctx, func() {
			mu.Lock()
			defer mu.Unlock()
			timer = c.cfg.Clock.AfterFunc(g, func() { cancel(context.Cause(ctx)) })
		})
		defer func() {
			if !stop() {
				mu.Lock()
				if timer != nil {
					timer.Stop()
				}
				mu.Unlock()
			}
		}()
		parent = graceCtx
	}

	c.log.Info("controller started", "workers", c.cfg.Workers)
	var wg sync.WaitGroup
	for range c.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Check ctx before each Get: Get hands out pending keys even
			// after ctx ends, and a stopping controller must not work
			// through its backlog.
			for ctx.Err() == nil {
				key, err := c.queue.Get(ctx)
				if err != nil {
					return
				}
				c.process(ctx, parent, key)
			}
		}()
	}
	wg.Wait()
	c.log.Info("controller stopped")
	return nil
}

// process reconciles one key and decides what happens to it next.
func (c *Controller[K]) process(runCtx, parent context.Context, key K) {
	defer c.queue.Done(key)
	log := c.log.With("key", key)
	m := c.metrics
	if m != nil {
		m.active.Inc()
		defer m.active.Dec()
	}
	start := c.cfg.Clock.Now()
	res, err := c.reconcile(parent, key)
	elapsed := c.cfg.Clock.Since(start)
	if m != nil {
		m.reconcileTime.Observe(elapsed.Seconds())
	}
	result := "success"
	switch {
	case err == nil && res.RequeueAfter > 0:
		result = "requeue_after"
		c.queue.Forget(key)
		c.queue.AddAfter(key, res.RequeueAfter)
		log.Debug("reconciled; requeue requested", "duration", elapsed, "requeue_after", res.RequeueAfter)
	case err == nil && res.Requeue:
		result = "requeue"
		d := c.queue.AddRateLimited(key)
		log.Debug("reconciled; requeue requested", "duration", elapsed, "requeue_after", d)
		c.warnIfCapped(log, key, d)
	case err == nil:
		c.queue.Forget(key)
		log.Debug("reconciled", "duration", elapsed)
	case IsTerminal(err):
		result = "terminal_error"
		c.queue.Forget(key)
		log.Error("reconcile failed with a terminal error; not retrying", "err", err, "duration", elapsed)
	default:
		result = "error"
		if errors.Is(err, ErrPanic) {
			result = "panic"
			if m != nil {
				m.panics.Inc()
			}
		}
		d := c.queue.AddRateLimited(key)
		if runCtx.Err() != nil && !errors.Is(err, ErrPanic) {
			// Most likely cut short by the shutdown (or the loss of
			// leadership): not worth an error line.
			log.Info("reconcile interrupted by shutdown; will retry", "err", err, "duration", elapsed)
		} else {
			log.Error("reconcile failed; retrying", "err", err, "duration", elapsed, "retry_in", d, "retries", c.queue.NumRequeues(key))
			c.warnIfCapped(log, key, d)
		}
	}
	if m != nil {
		m.reconciles.WithLabelValues(result).Inc()
		if err != nil {
			m.errors.Inc()
		}
	}
}

func (c *Controller[K]) warnIfCapped(log *slog.Logger, key K, d time.Duration) {
	if c.cfg.MaxRetryDelay > 0 && d >= c.cfg.MaxRetryDelay {
		log.Warn("key keeps being requeued; retry delay is at its cap", "retry_in", d, "retries", c.queue.NumRequeues(key))
	}
}

// reconcile calls the reconciler with the timeout applied and a panic turned
// into an error.
func (c *Controller[K]) reconcile(parent context.Context, key K) (res Result, err error) {
	ctx := parent
	if t := c.cfg.Timeout; t > 0 {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(parent)
		timer := c.cfg.Clock.AfterFunc(t, func() { cancel(ErrTimeout) })
		defer func() {
			timer.Stop()
			if err != nil && errors.Is(context.Cause(ctx), ErrTimeout) && !errors.Is(err, ErrTimeout) {
				err = fmt.Errorf("%w after %v: %w", ErrTimeout, t, err)
			}
			cancel(nil)
		}()
	}
	defer func() {
		if r := recover(); r != nil {
			res, err = Result{}, &panicError{value: r, stack: debug.Stack()}
		}
	}()
	return c.cfg.Reconciler.Reconcile(ctx, key)
}
