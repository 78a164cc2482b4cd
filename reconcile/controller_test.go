package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/reconcile"
)

// logSink is a slog.Handler that keeps every record.
type logSink struct {
	mu      sync.Mutex
	records []string
	attrs   []slog.Attr
}

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	for _, a := range s.attrs {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Resolve())
	}
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Resolve())
		return true
	})
	s.mu.Lock()
	s.records = append(s.records, b.String())
	s.mu.Unlock()
	return nil
}
func (s *logSink) WithAttrs(as []slog.Attr) slog.Handler {
	return &sinkView{s, append(append([]slog.Attr(nil), s.attrs...), as...)}
}
func (s *logSink) WithGroup(string) slog.Handler { return s }

func (s *logSink) lines(substr string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range s.records {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

// sinkView is a logSink with extra attributes (from Logger.With).
type sinkView struct {
	s     *logSink
	attrs []slog.Attr
}

func (v *sinkView) Enabled(context.Context, slog.Level) bool { return true }
func (v *sinkView) Handle(ctx context.Context, r slog.Record) error {
	r2 := r.Clone()
	r2.AddAttrs(v.attrs...)
	return v.s.Handle(ctx, r2)
}
func (v *sinkView) WithAttrs(as []slog.Attr) slog.Handler {
	return &sinkView{v.s, append(append([]slog.Attr(nil), v.attrs...), as...)}
}
func (v *sinkView) WithGroup(string) slog.Handler { return v }

// eventually polls cond until it holds, with a generous deadline. It is for
// what another goroutine makes true without any time passing on the fake
// clock (a metric counted after a reconcile returns); waits for fake time go
// through waitTimers and the clock.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	poll := time.NewTicker(time.Millisecond)
	defer poll.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-poll.C:
		}
	}
}

// harness runs a controller on a fake clock and records its reconciles.
type harness struct {
	t     *testing.T
	clk   *clockwork.FakeClock
	reg   *prometheus.Registry
	logs  *logSink
	ctrl  *reconcile.Controller[string]
	calls chan string
	stop  func()
}

func newHarness(t *testing.T, cfg reconcile.Config[string], fn func(ctx context.Context, key string, n int) (reconcile.Result, error)) *harness {
	t.Helper()
	h := &harness{t: t, clk: clockwork.NewFakeClockAt(epoch), reg: prometheus.NewRegistry(), logs: &logSink{}, calls: make(chan string, 100)}
	var mu sync.Mutex
	counts := map[string]int{}
	cfg.Name = "test"
	cfg.Clock = h.clk
	cfg.Registerer = h.reg
	cfg.Logger = slog.New(h.logs)
	if cfg.RateLimiter == nil {
		exp, err := reconcile.NewExponentialBackoff[string](time.Second, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		cfg.RateLimiter = exp
	}
	cfg.Reconciler = reconcile.Func[string](func(ctx context.Context, key string) (reconcile.Result, error) {
		mu.Lock()
		n := counts[key]
		counts[key]++
		mu.Unlock()
		h.calls <- key
		return fn(ctx, key, n)
	})
	ctrl, err := reconcile.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.ctrl = ctrl
	h.start()
	return h
}

func (h *harness) start() {
	ctx, cancel := context.WithCancel(h.t.Context())
	done := make(chan error)
	go func() { done <- h.ctrl.Run(ctx) }()
	h.stop = func() {
		cancel()
		if err := <-done; err != nil {
			h.t.Errorf("Run: %v", err)
		}
		h.stop = func() {}
	}
	h.t.Cleanup(func() { h.stop() })
}

// call waits for the next reconcile and returns its key.
func (h *harness) call() string {
	h.t.Helper()
	select {
	case k := <-h.calls:
		return k
	case <-time.After(30 * time.Second):
		h.t.Fatal("timed out waiting for a reconcile")
		return ""
	}
}

func (h *harness) noCall() {
	h.t.Helper()
	select {
	case k := <-h.calls:
		h.t.Fatalf("unexpected reconcile of %q", k)
	default:
	}
}

func (h *harness) result(r string) float64 {
	return metricValue(h.t, h.reg, "setpoint_reconcile_reconciles_total", "result", r)
}

func (h *harness) waitResult(r string, n float64) {
	h.t.Helper()
	eventually(h.t, fmt.Sprintf("%v reconciles with result %s", n, r), func() bool {
		return metricValue(h.t, h.reg, "setpoint_reconcile_reconciles_total", "result", r) >= n
	})
}

func (h *harness) waitTimers(n int) {
	h.t.Helper()
	if err := h.clk.BlockUntilContext(testCtx(h.t), n); err != nil {
		h.t.Fatalf("waiting for %d armed timers: %v", n, err)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := reconcile.Func[string](func(context.Context, string) (reconcile.Result, error) { return reconcile.Result{}, nil })
	cases := []struct {
		cfg   reconcile.Config[string]
		field string
	}{
		{reconcile.Config[string]{Reconciler: ok}, "Name"},
		{reconcile.Config[string]{Name: "c"}, "Reconciler"},
		{reconcile.Config[string]{Name: "c", Reconciler: ok, Workers: -1}, "Workers"},
		{reconcile.Config[string]{Name: "c", Reconciler: ok, Timeout: -time.Second}, "Timeout"},
		{reconcile.Config[string]{Name: "c", Reconciler: ok, ShutdownGrace: -time.Second}, "ShutdownGrace"},
	}
	for _, c := range cases {
		reg := prometheus.NewRegistry()
		c.cfg.Registerer = reg
		_, err := reconcile.New(c.cfg)
		if !errors.Is(err, reconcile.ErrInvalidConfig) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("config missing %s: error %v, want ErrInvalidConfig naming the field", c.field, err)
		}
		if mfs, _ := reg.Gather(); len(mfs) != 0 {
			t.Errorf("invalid config %s registered %d metrics", c.field, len(mfs))
		}
	}
	reg := prometheus.NewRegistry()
	if _, err := reconcile.New(reconcile.Config[string]{Name: "dup", Reconciler: ok, Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := reconcile.New(reconcile.Config[string]{Name: "dup", Reconciler: ok, Registerer: reg}); err == nil {
		t.Fatal("two controllers with one name on one registry: no error")
	}
}

func TestControllerRetriesErrorsWithBackoff(t *testing.T) {
	h := newHarness(t, reconcile.Config[string]{}, func(_ context.Context, key string, n int) (reconcile.Result, error) {
		if n < 3 {
			return reconcile.Result{}, fmt.Errorf("attempt %d failed", n)
		}
		return reconcile.Result{}, nil
	})
	q := h.ctrl.Queue()
	q.Add("a")
	if k := h.call(); k != "a" {
		t.Fatalf("reconciled %q", k)
	}
	for i, delay := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		h.waitTimers(1)
		h.clk.Advance(delay - time.Millisecond)
		if q.Len() != 0 {
			t.Fatalf("retry %d queued before its %v backoff", i, delay)
		}
		h.noCall()
		h.clk.Advance(time.Millisecond)
		if k := h.call(); k != "a" {
			t.Fatalf("retry %d reconciled %q", i, k)
		}
	}
	h.waitResult("success", 1)
	if got := h.result("error"); got != 3 {
		t.Fatalf("error results = %v, want 3", got)
	}
	if n := q.NumRequeues("a"); n != 0 {
		t.Fatalf("NumRequeues after success = %d; success must forget the key", n)
	}
	if l := h.logs.lines("reconcile failed; retrying"); len(l) != 3 || !strings.Contains(l[0], "key=a") || !strings.Contains(l[0], "attempt 0 failed") {
		t.Fatalf("error logs: %q", l)
	}
}

func TestControllerTerminalErrorIsNotRetried(t *testing.T) {
	h := newHarness(t, reconcile.Config[string]{}, func(context.Context, string, int) (reconcile.Result, error) {
		return reconcile.Result{}, reconcile.TerminalError(errors.New("spec is impossible"))
	})
	h.ctrl.Queue().Add("a")
	h.call()
	h.waitResult("terminal_error", 1)
	if armed(h.clk, 1) || h.ctrl.Queue().Len() != 0 {
		t.Fatal("terminal error was scheduled for a retry")
	}
	h.clk.Advance(time.Hour)
	h.noCall()
	if l := h.logs.lines("terminal"); len(l) != 1 || !strings.Contains(l[0], "spec is impossible") || !strings.Contains(l[0], "key=a") {
		t.Fatalf("terminal error logs: %q", l)
	}
	if got := metricValue(t, h.reg, "setpoint_reconcile_errors_total"); got != 1 {
		t.Fatalf("errors_total = %v", got)
	}
	// Added again, it is reconciled again.
	h.ctrl.Queue().Add("a")
	h.call()
}

func TestControllerRecoversPanics(t *testing.T) {
	h := newHarness(t, reconcile.Config[string]{}, func(_ context.Context, _ string, n int) (reconcile.Result, error) {
		if n == 0 {
			var m map[string]int
			m["boom"]++ // panics: assignment to entry in nil map
		}
		return reconcile.Result{}, nil
	})
	h.ctrl.Queue().Add("a")
	h.call()
	h.waitResult("panic", 1)
	l := h.logs.lines("reconcile failed")
	if len(l) != 1 || !strings.Contains(l[0], "panicked") || !strings.Contains(l[0], "nil map") ||
		!strings.Contains(l[0], "controller_test.go") || !strings.Contains(l[0], "key=a") {
		t.Fatalf("panic log must name the panic, carry the stack and the key: %q", l)
	}
	if got := metricValue(t, h.reg, "setpoint_reconcile_panics_total"); got != 1 {
		t.Fatalf("panics_total = %v", got)
	}
	h.waitTimers(1)
	h.clk.Advance(time.Second)
	h.call()
	h.waitResult("success", 1)
}

func TestControllerTimeout(t *testing.T) {
	causes := make(chan error, 1)
	h := newHarness(t, reconcile.Config[string]{Timeout: 10 * time.Second}, func(ctx context.Context, _ string, n int) (reconcile.Result, error) {
		if n > 0 {
			return reconcile.Result{}, nil
		}
		<-ctx.Done()
		causes <- context.Cause(ctx)
		return reconcile.Result{}, ctx.Err()
	})
	h.ctrl.Queue().Add("a")
	h.call()
	h.waitTimers(1) // the timeout
	h.clk.Advance(10 * time.Second)
	if c := <-causes; !errors.Is(c, reconcile.ErrTimeout) {
		t.Fatalf("context cause %v, want ErrTimeout", c)
	}
	h.waitResult("error", 1)
	if l := h.logs.lines("timed out"); len(l) != 1 {
		t.Fatalf("timeout logs: %q", l)
	}
	h.waitTimers(1) // the retry
	h.clk.Advance(time.Second)
	h.call()
	h.waitResult("success", 1)
}

func TestControllerRequeueAfter(t *testing.T) {
	h := newHarness(t, reconcile.Config[string]{}, func(_ context.Context, _ string, n int) (reconcile.Result, error) {
		if n == 0 {
			return reconcile.Result{RequeueAfter: 30 * time.Second}, nil
		}
		return reconcile.Result{}, nil
	})
	h.ctrl.Queue().Add("a")
	h.call()
	h.waitTimers(1)
	h.clk.Advance(29 * time.Second)
	h.noCall()
	h.clk.Advance(time.Second)
	h.call()
	h.waitResult("success", 1)
	if got := h.result("requeue_after"); got != 1 {
		t.Fatalf("requeue_after results = %v", got)
	}
}

// TestControllerRequeueCapped checks that plain requeues back off but never
// past MaxRetryDelay, and that reaching the cap is logged as a warning.
func TestControllerRequeueCapped(t *testing.T) {
	h := newHarness(t, reconcile.Config[string]{MaxRetryDelay: 3 * time.Second}, func(context.Context, string, int) (reconcile.Result, error) {
		return reconcile.Result{Requeue: true}, nil
	})
	h.ctrl.Queue().Add("a")
	h.call()
	for i, d := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second} {
		h.waitTimers(1)
		h.clk.Advance(d - time.Millisecond)
		h.noCall()
		h.clk.Advance(time.Millisecond)
		if k := h.call(); k != "a" {
			t.Fatalf("requeue %d reconciled %q", i, k)
		}
	}
	h.waitResult("requeue", 6)
	if l := h.logs.lines("retry delay is at its cap"); len(l) < 2 || !strings.Contains(l[0], "WARN") || !strings.Contains(l[0], "key=a") {
		t.Fatalf("cap warnings: %q", l)
	}
}

// TestControllerReaddDuringReconcile checks with several workers that a key
// is never reconciled twice at once and that an add during its reconcile
// leads to another reconcile.
func TestControllerReaddDuringReconcile(t *testing.T) {
	release := make(chan struct{})
	var inflight, overlap atomic.Int32
	h := newHarness(t, reconcile.Config[string]{Workers: 4}, func(_ context.Context, key string, n int) (reconcile.Result, error) {
		if inflight.Add(1) > 1 {
			overlap.Add(1)
		}
		defer inflight.Add(-1)
		if n == 0 {
			<-release
		}
		return reconcile.Result{}, nil
	})
	q := h.ctrl.Queue()
	q.Add("a")
	h.call()
	q.Add("a")
	q.Add("a")
	// The gauge counts the worker before it calls the reconciler.
	if g := metricValue(t, h.reg, "setpoint_reconcile_active_workers"); g != 1 {
		t.Fatalf("active workers = %v during a reconcile, want 1", g)
	}
	h.noCall()
	close(release)
	h.call()
	h.waitResult("success", 2)
	h.noCall()
	if overlap.Load() != 0 {
		t.Fatal("key a was reconciled by two workers at once")
	}
}

// TestControllerRestartsLikeALeader stops and restarts a controller as
// leadership is lost and regained: keys added while stopped wait, and are
// reconciled on the next Run.
func TestControllerRestartsLikeALeader(t *testing.T) {
	h := newHarness(t, reconcile.Config[string]{}, func(context.Context, string, int) (reconcile.Result, error) {
		return reconcile.Result{}, nil
	})
	h.ctrl.Queue().Add("a")
	h.call()
	h.waitResult("success", 1)
	// The controller is running now (it has reconciled).
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := h.ctrl.Run(ctx); !errors.Is(err, reconcile.ErrAlreadyRunning) {
		t.Fatalf("second concurrent Run: %v, want ErrAlreadyRunning", err)
	}
	h.stop() // leadership lost
	h.ctrl.Queue().Add("b")
	if q := h.ctrl.Queue(); q.Len() != 1 {
		t.Fatalf("Len while stopped = %d, want 1", q.Len())
	}
	h.noCall()
	h.start() // leadership regained
	if k := h.call(); k != "b" {
		t.Fatalf("after restart reconciled %q, want b", k)
	}
}

func TestControllerShutdownWaitsForInflight(t *testing.T) {
	for _, grace := range []time.Duration{0, time.Minute} {
		t.Run(fmt.Sprintf("grace=%v", grace), func(t *testing.T) {
			entered := make(chan struct{})
			release := make(chan struct{})
			ctxErr := make(chan error, 1)
			var returned atomic.Bool
			h := newHarness(t, reconcile.Config[string]{ShutdownGrace: grace}, func(ctx context.Context, _ string, _ int) (reconcile.Result, error) {
				defer returned.Store(true)
				close(entered)
				if grace == 0 {
					<-ctx.Done() // cancelled as soon as Run's context ends
					<-release
					return reconcile.Result{}, nil
				}
				<-release
				ctxErr <- ctx.Err() // still alive: inside the grace period
				<-ctx.Done()        // ends when the grace period runs out
				return reconcile.Result{}, nil
			})
			h.ctrl.Queue().Add("a")
			h.call()
			<-entered
			stopped := make(chan bool)
			go func() { h.stop(); stopped <- returned.Load() }()
			if grace > 0 {
				h.waitTimers(1) // the grace timer: Run's context has ended
				close(release)
				if err := <-ctxErr; err != nil {
					t.Fatalf("reconcile context ended (%v) inside the grace period", err)
				}
				h.clk.Advance(grace)
			} else {
				close(release)
			}
			if !<-stopped {
				t.Fatal("Run returned while a reconcile was still running")
			}
		})
	}
}

type ctxKey struct{}

// TestControllerPassesRunContextValues checks that reconciles see the values
// of Run's context, with and without a grace period: that is how an
// election's fence (store.WithFence) reaches the reconciler's writes.
func TestControllerPassesRunContextValues(t *testing.T) {
	for _, grace := range []time.Duration{0, time.Minute} {
		seen := make(chan any, 1)
		ctrl, err := reconcile.New(reconcile.Config[string]{
			Name: "values", ShutdownGrace: grace,
			Reconciler: reconcile.Func[string](func(ctx context.Context, _ string) (reconcile.Result, error) {
				seen <- ctx.Value(ctxKey{})
				return reconcile.Result{}, nil
			}),
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.WithValue(t.Context(), ctxKey{}, "term-7"))
		done := make(chan error)
		go func() { done <- ctrl.Run(ctx) }()
		ctrl.Queue().Add("a")
		if v := <-seen; v != "term-7" {
			t.Fatalf("grace %v: reconcile saw %v, want the Run context's value", grace, v)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestControllerStopLeavesBacklog checks that a stopping controller finishes
// its in-flight reconcile but does not work through the pending keys, which
// stay queued for the next Run, and that a reconcile cut short by the stop
// is retried without an error line.
func TestControllerStopLeavesBacklog(t *testing.T) {
	entered := make(chan struct{})
	h := newHarness(t, reconcile.Config[string]{}, func(ctx context.Context, key string, n int) (reconcile.Result, error) {
		if key == "first" && n == 0 {
			close(entered)
			<-ctx.Done()
			return reconcile.Result{}, ctx.Err()
		}
		return reconcile.Result{}, nil
	})
	q := h.ctrl.Queue()
	q.Add("first")
	<-entered
	h.call()
	for i := range 50 {
		q.Add(fmt.Sprint("k", i))
	}
	h.stop()
	if n := q.Len(); n != 50 {
		t.Fatalf("Len after stop = %d, want the 50 pending keys", n)
	}
	if l := h.logs.lines("interrupted by shutdown"); len(l) != 1 || !strings.Contains(l[0], "INFO") || !strings.Contains(l[0], "key=first") {
		t.Fatalf("interrupted reconcile logs: %q", l)
	}
	if l := h.logs.lines("reconcile failed"); len(l) != 0 {
		t.Fatalf("error lines for a shutdown: %q", l)
	}
	h.start()
	seen := map[string]bool{}
	for range 50 {
		seen[h.call()] = true
	}
	if len(seen) != 50 || seen["first"] {
		t.Fatalf("after restart reconciled %v, want the 50 pending keys", seen)
	}
	// The interrupted key comes back after its backoff.
	h.waitTimers(1)
	h.clk.Advance(time.Second)
	if k := h.call(); k != "first" {
		t.Fatalf("retry reconciled %q, want first", k)
	}
}

// armed reports whether at least n timers are armed on clk right now,
// without waiting.
func armed(clk *clockwork.FakeClock, n int) bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return clk.BlockUntilContext(ctx, n) == nil
}
