package reconcile_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/setpoint-dev/setpoint/reconcile"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// testCtx returns a context that ends with the test or after a generous
// deadline, so that a broken queue fails the test instead of hanging it.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustGet[K comparable](t *testing.T, q *reconcile.Queue[K]) K {
	t.Helper()
	k, err := q.Get(testCtx(t))
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return k
}

// getNow returns a key only if one is pending right now.
func getNow[K comparable](t *testing.T, q *reconcile.Queue[K]) (K, bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	k, err := q.Get(ctx)
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Get: %v", err)
	}
	return k, err == nil
}

func newQueue[K comparable](clk clockwork.Clock) *reconcile.Queue[K] {
	return reconcile.NewQueue(reconcile.QueueConfig[K]{Clock: clk})
}

func TestQueueDeduplicatesPendingKeys(t *testing.T) {
	q := newQueue[string](nil)
	for range 5 {
		q.Add("a")
	}
	q.Add("b")
	q.Add("a")
	if n := q.Len(); n != 2 {
		t.Fatalf("Len = %d, want 2", n)
	}
	if k := mustGet(t, q); k != "a" {
		t.Fatalf("first Get = %q, want a", k)
	}
	if k := mustGet(t, q); k != "b" {
		t.Fatalf("second Get = %q, want b", k)
	}
	if k, ok := getNow(t, q); ok {
		t.Fatalf("third Get returned %q; a was added 6 times but must be handed out once", k)
	}
}

func TestQueueHoldsBackKeyWhileProcessing(t *testing.T) {
	q := newQueue[string](nil)
	q.Add("a")
	k := mustGet(t, q)
	q.Add("a")
	q.Add("a")
	if got, ok := getNow(t, q); ok {
		t.Fatalf("Get handed out %q while a was processing", got)
	}
	if n := q.Len(); n != 0 {
		t.Fatalf("Len while a processing = %d, want 0", n)
	}
	q.Done(k)
	if n := q.Len(); n != 1 {
		t.Fatalf("Len after Done = %d, want 1 (a was added while processing)", n)
	}
	if k := mustGet(t, q); k != "a" {
		t.Fatalf("Get after Done = %q, want a", k)
	}
	q.Done("a")
	if got, ok := getNow(t, q); ok {
		t.Fatalf("a handed out a third time: %q", got)
	}
	q.Done("never-added") // must be harmless
	q.Done("a")           // Done twice: harmless
	if q.Len() != 0 {
		t.Fatalf("Len = %d after stray Done calls", q.Len())
	}
}

func TestQueueGetBlocksUntilAdd(t *testing.T) {
	q := newQueue[int](nil)
	got := make(chan int)
	go func() {
		k, err := q.Get(testCtx(t))
		if err != nil {
			t.Errorf("Get: %v", err)
		}
		got <- k
	}()
	q.Add(7)
	if k := <-got; k != 7 {
		t.Fatalf("Get = %d, want 7", k)
	}
}

func TestQueueGetHonoursContext(t *testing.T) {
	q := newQueue[int](nil)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error)
	go func() {
		_, err := q.Get(ctx)
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Get after cancel: %v, want context.Canceled", err)
	}
	// The queue still works afterwards.
	q.Add(1)
	if k := mustGet(t, q); k != 1 {
		t.Fatalf("Get = %d", k)
	}
}

func TestQueuePriorities(t *testing.T) {
	q := newQueue[string](nil)
	q.AddWithPriority("low1", reconcile.PriorityLow)
	q.AddWithPriority("low2", reconcile.PriorityLow)
	q.AddWithPriority("low3", reconcile.PriorityLow)
	q.Add("normal1")
	q.AddWithPriority("high", reconcile.PriorityHigh)
	q.Add("normal2")
	// A pending low key re-added at a higher priority moves up; re-added
	// at a lower priority it keeps its place.
	q.Add("low2")
	q.AddWithPriority("normal1", reconcile.PriorityLow)
	if n := q.Len(); n != 6 {
		t.Fatalf("Len = %d, want 6", n)
	}
	want := []string{"high", "normal1", "normal2", "low2", "low1", "low3"}
	for i, w := range want {
		if k := mustGet(t, q); k != w {
			t.Fatalf("Get #%d = %q, want %q (order %v)", i, k, w, want)
		}
	}
	if k, ok := getNow(t, q); ok {
		t.Fatalf("extra key %q handed out (a superseded entry leaked)", k)
	}
}

func TestQueueReaddWhileProcessingKeepsHighestPriority(t *testing.T) {
	q := newQueue[string](nil)
	q.Add("a")
	a := mustGet(t, q)
	q.AddWithPriority("a", reconcile.PriorityHigh)
	q.AddWithPriority("a", reconcile.PriorityLow)
	q.Add("b")
	q.Done(a)
	if k := mustGet(t, q); k != "a" {
		t.Fatalf("Get = %q, want a (re-added at PriorityHigh while processing)", k)
	}
}

func TestQueueShutDownReleasesBlockedGet(t *testing.T) {
	q := newQueue[string](nil)
	blocked := make(chan error)
	go func() {
		_, err := q.Get(testCtx(t))
		blocked <- err
	}()
	q.ShutDown()
	if err := <-blocked; !errors.Is(err, reconcile.ErrShutDown) {
		t.Fatalf("blocked Get after ShutDown: %v, want ErrShutDown", err)
	}
}

func TestQueueShutDownDiscardsAndStops(t *testing.T) {
	clk := clockwork.NewFakeClockAt(epoch)
	q := newQueue[string](clk)
	q.Add("a")
	q.Add("b")
	a := mustGet(t, q)
	q.AddAfter("c", time.Second)
	q.ShutDown()
	if !q.ShuttingDown() {
		t.Fatal("ShuttingDown = false after ShutDown")
	}
	if _, err := q.Get(testCtx(t)); !errors.Is(err, reconcile.ErrShutDown) {
		t.Fatalf("Get after ShutDown: %v, want ErrShutDown (b must be discarded)", err)
	}
	q.Add("d")
	q.Done(a)
	if armed(clk, 1) {
		t.Fatal("ShutDown left the delay timer armed")
	}
	clk.Advance(time.Hour)
	if n := q.Len(); n != 0 {
		t.Fatalf("Len after ShutDown = %d", n)
	}
	if _, err := q.Get(testCtx(t)); !errors.Is(err, reconcile.ErrShutDown) {
		t.Fatalf("Get after ShutDown and adds: %v, want ErrShutDown", err)
	}
	q.ShutDown() // twice is fine
}

// TestQueueDrainWaitsForProcessingAndReadds checks that ShutDownWithDrain
// waits for a key that was added while processing and so comes back after
// Done, and that adds after the drain started are ignored.
func TestQueueDrainWaitsForProcessingAndReadds(t *testing.T) {
	q := newQueue[string](nil)
	q.Add("a")
	q.Add("b")
	a := mustGet(t, q)
	q.Add("a") // dirty while processing
	drained := make(chan error)
	go func() { drained <- q.ShutDownWithDrain(testCtx(t)) }()
	// Wait until the drain has begun (adds are then ignored): the first
	// thing ShutDownWithDrain does.
	for !q.ShuttingDown() {
		runtime.Gosched()
	}
	q.Add("late")
	select {
	case err := <-drained:
		t.Fatalf("drain returned %v with a processing and b pending", err)
	default:
	}
	b := mustGet(t, q)
	if b != "b" {
		t.Fatalf("Get = %q, want b", b)
	}
	q.Done(b)
	q.Done(a) // a comes back: it was added while processing
	if k := mustGet(t, q); k != "a" {
		t.Fatalf("Get = %q, want a again", k)
	}
	select {
	case err := <-drained:
		t.Fatalf("drain returned %v with a processing", err)
	default:
	}
	q.Done("a")
	if err := <-drained; err != nil {
		t.Fatalf("ShutDownWithDrain: %v", err)
	}
	if _, err := q.Get(testCtx(t)); !errors.Is(err, reconcile.ErrShutDown) {
		t.Fatalf("Get after drain: %v, want ErrShutDown (the late add must be ignored)", err)
	}
}

func TestQueueDrainHonoursContextAndShutDown(t *testing.T) {
	q := newQueue[string](nil)
	q.Add("a")
	mustGet(t, q)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := q.ShutDownWithDrain(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("drain with cancelled ctx: %v, want context.Canceled", err)
	}
	errc := make(chan error)
	go func() { errc <- q.ShutDownWithDrain(testCtx(t)) }()
	q.ShutDown()
	if err := <-errc; !errors.Is(err, reconcile.ErrShutDown) {
		t.Fatalf("drain cut by ShutDown: %v, want ErrShutDown", err)
	}
}

// TestQueueAddAfterOrder checks delayed adds against the fake clock: keys
// become pending in time order, not before their time, and a key added again
// keeps its earlier time.
func TestQueueAddAfterOrder(t *testing.T) {
	clk := clockwork.NewFakeClockAt(epoch)
	q := newQueue[string](clk)
	q.AddAfter("c", 3*time.Second)
	q.AddAfter("a", 1*time.Second)
	q.AddAfter("b", 2*time.Second)
	q.AddAfter("b2", 2*time.Second) // same time as b: insertion order
	q.AddAfter("a", 5*time.Second)  // later than a's time: ignored
	q.AddAfter("c", 1500*time.Millisecond)
	q.AddAfter("now", 0) // no delay: pending at once
	if n := q.Len(); n != 1 {
		t.Fatalf("Len = %d, want 1", n)
	}
	if k := mustGet(t, q); k != "now" {
		t.Fatalf("Get = %q, want now", k)
	}
	q.Done("now")

	steps := []struct {
		step time.Duration
		want []string
		more bool // keys are still waiting, so a timer is armed again
	}{
		{999 * time.Millisecond, nil, true},
		{time.Millisecond, []string{"a"}, true},
		{499 * time.Millisecond, nil, true},
		{time.Millisecond, []string{"c"}, true},
		{10 * time.Second, []string{"b", "b2"}, false},
	}
	for i, s := range steps {
		clk.Advance(s.step)
		if s.more {
			// The timer's callback adds what is due, then arms the
			// timer for the next key: once one is armed, the adds
			// are done.
			if err := clk.BlockUntilContext(testCtx(t), 1); err != nil {
				t.Fatalf("step %d: timer not re-armed: %v", i, err)
			}
		} else {
			for _, w := range s.want {
				if k := mustGet(t, q); k != w {
					t.Fatalf("step %d: Get = %q, want %q", i, k, w)
				}
				q.Done(w)
			}
			s.want = nil
		}
		if n := q.Len(); n != len(s.want) {
			t.Fatalf("step %d (+%v): Len = %d, want %d", i, s.step, n, len(s.want))
		}
		for _, w := range s.want {
			if k := mustGet(t, q); k != w {
				t.Fatalf("step %d: Get = %q, want %q", i, k, w)
			}
			q.Done(w)
		}
	}
	if armed(clk, 1) {
		t.Fatal("timer still armed with nothing waiting")
	}
}

func TestQueueAddAfterEarlierKeyRearms(t *testing.T) {
	clk := clockwork.NewFakeClockAt(epoch)
	q := newQueue[string](clk)
	q.AddAfter("late", time.Hour)
	q.AddAfter("soon", time.Second)
	if !armed(clk, 1) || armed(clk, 2) {
		t.Fatal("armed timers: want exactly 1")
	}
	clk.Advance(time.Second)
	if k := mustGet(t, q); k != "soon" {
		t.Fatalf("Get = %q, want soon", k)
	}
	if err := clk.BlockUntilContext(testCtx(t), 1); err != nil {
		t.Fatalf("no timer armed for late: %v", err)
	}
	if armed(clk, 2) {
		t.Fatal("armed timers after the first fired: want exactly 1 (for late)")
	}
	clk.Advance(time.Hour)
	if k := mustGet(t, q); k != "late" {
		t.Fatalf("Get = %q, want late", k)
	}
}

func TestQueueRateLimited(t *testing.T) {
	clk := clockwork.NewFakeClockAt(epoch)
	exp, err := reconcile.NewExponentialBackoff[string](time.Second, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	q := reconcile.NewQueue(reconcile.QueueConfig[string]{Clock: clk, RateLimiter: exp})
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if d := q.AddRateLimited("k"); d != want {
			t.Fatalf("retry %d: delay %v, want %v", i, d, want)
		}
	}
	if n := q.NumRequeues("k"); n != 3 {
		t.Fatalf("NumRequeues = %d, want 3", n)
	}
	clk.Advance(time.Second) // the earliest of the three times wins
	if k := mustGet(t, q); k != "k" {
		t.Fatalf("Get = %q", k)
	}
	q.Forget("k")
	if n := q.NumRequeues("k"); n != 0 {
		t.Fatalf("NumRequeues after Forget = %d", n)
	}
	if d := q.AddRateLimited("k"); d != time.Second {
		t.Fatalf("delay after Forget = %v, want 1s", d)
	}
}

func TestQueueMetrics(t *testing.T) {
	clk := clockwork.NewFakeClockAt(epoch)
	reg := prometheus.NewRegistry()
	m, err := reconcile.NewMetrics(reg, "things")
	if err != nil {
		t.Fatal(err)
	}
	q := reconcile.NewQueue(reconcile.QueueConfig[string]{Clock: clk, Metrics: m})
	q.Add("a")
	q.Add("a")
	q.Add("b")
	if got := metricValue(t, reg, "setpoint_reconcile_queue_depth"); got != 2 {
		t.Fatalf("depth = %v, want 2", got)
	}
	if got := metricValue(t, reg, "setpoint_reconcile_queue_adds_total"); got != 2 {
		t.Fatalf("adds = %v, want 2 (the repeated add merged)", got)
	}
	clk.Advance(3 * time.Second)
	a := mustGet(t, q)
	clk.Advance(2 * time.Second)
	q.Done(a)
	q.AddRateLimited("c")
	if got := metricValue(t, reg, "setpoint_reconcile_queue_depth"); got != 1 {
		t.Fatalf("depth = %v, want 1", got)
	}
	if got := metricValue(t, reg, "setpoint_reconcile_queue_retries_total"); got != 1 {
		t.Fatalf("retries = %v, want 1", got)
	}
	n, err := testutil.GatherAndCount(reg, "setpoint_reconcile_queue_duration_seconds", "setpoint_reconcile_work_duration_seconds")
	if err != nil || n != 2 {
		t.Fatalf("histograms gathered: %d, %v", n, err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]float64{}
	for _, mf := range mfs {
		if h := mf.GetMetric()[0].GetHistogram(); h != nil {
			sums[mf.GetName()] = h.GetSampleSum()
			if l := mf.GetMetric()[0].GetLabel(); len(l) != 1 || l[0].GetName() != "name" || l[0].GetValue() != "things" {
				t.Fatalf("%s labels = %v, want name=things", mf.GetName(), l)
			}
		}
	}
	if s := sums["setpoint_reconcile_queue_duration_seconds"]; s != 3 {
		t.Fatalf("queue duration sum = %v, want 3 (fake clock)", s)
	}
	if s := sums["setpoint_reconcile_work_duration_seconds"]; s != 2 {
		t.Fatalf("work duration sum = %v, want 2 (fake clock)", s)
	}
}

// metricValue returns the value of the gauge or counter called name (summed
// over the series that have the given label pairs); 0 if there is none.
func metricValue(t *testing.T, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		var v float64
	series:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue series
				}
			}
			if c := m.GetCounter(); c != nil {
				v += c.GetValue()
			}
			if g := m.GetGauge(); g != nil {
				v += g.GetValue()
			}
		}
		return v
	}
	return 0 // a vector with no series yet
}
