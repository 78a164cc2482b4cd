package watch

import (
	"context"
	"errors"
	"testing"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
)

// weight is an event object with a weight (a Sizer).
type weight struct {
	Rev, Bytes int64
}

func (w *weight) Size() int64 { return w.Bytes }

type heavy = *weight

// feed is a Source whose stream the test fills by hand.
type feed[T any] struct {
	s *Stream[T]
}

func (f *feed[T]) source(ctx context.Context, after int64) (Watcher[T], error) {
	return f.s, nil
}

func startFed[T any](t *testing.T, cfg BroadcasterConfig) (*Broadcaster[T], *Stream[T]) {
	t.Helper()
	f := &feed[T]{s: NewStream[T](1000)}
	b, err := NewBroadcaster(f.source, 0, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return b, f.s
}

func sendHeavy(t *testing.T, s *Stream[heavy], rev, size int64) {
	t.Helper()
	if !s.Send(context.Background(), Event[heavy]{Type: Added, Object: &weight{Rev: rev, Bytes: size}, Revision: rev}) {
		t.Fatal("source stream closed")
	}
}

// TestBroadcasterWindowBytes: the window drops its oldest events once their
// weight passes WindowBytes (the newest always stays), and a start before
// what it holds is gone.
func TestBroadcasterWindowBytes(t *testing.T) {
	b, src := startFed[heavy](t, BroadcasterConfig{Window: 1000, WindowBytes: 1000})
	w, err := b.Subscribe(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for rev := int64(1); rev <= 50; rev++ {
		sendHeavy(t, src, rev, 100)
		if ev := <-w.Events(); ev.Revision != rev {
			t.Fatalf("event %d, want %d", ev.Revision, rev)
		}
		if got := b.WindowBytes(); got > 1000 {
			t.Fatalf("window holds %d bytes, over 1000", got)
		}
	}
	if got, want := b.Window(), int64(40); got != want {
		t.Fatalf("window starts after %d, want %d (ten events of 100 bytes fit)", got, want)
	}
	var gone *GoneError
	if _, err := b.Subscribe(context.Background(), 39); !errors.As(err, &gone) || gone.Oldest != 40 {
		t.Fatalf("subscribe before the window: %v", err)
	}
	// One event heavier than the whole budget still stays, alone.
	sendHeavy(t, src, 51, 5000)
	if ev := <-w.Events(); ev.Revision != 51 {
		t.Fatalf("event %d, want 51", ev.Revision)
	}
	if got := b.WindowBytes(); got != 5000 || b.Window() != 50 {
		t.Fatalf("after a 5000-byte event: window holds %d bytes after %d", got, b.Window())
	}
}

// TestBroadcasterSubscriberBytes: a subscriber whose channel stays full
// while more than SubscriberBytes arrive is cut off, long before
// SubscriberBuffer events would cut it off; it still gets what its channel
// held, an unbroken prefix, and resumes after the last one it processed.
func TestBroadcasterSubscriberBytes(t *testing.T) {
	const buffer = 5000
	b, src := startFed[heavy](t, BroadcasterConfig{Window: 10000, SubscriberBuffer: buffer, SubscriberBytes: 2000})
	stalled, live := stalledAndLive(t, b)
	// Write until the stalled one is cut off: once its channel (128
	// events) is full, 2000 more bytes (21 events of 100) do it.
	rev := int64(0)
	for b.Subscribers() == 2 {
		if rev == 128+buffer/2 {
			t.Fatalf("the stalled subscriber was not cut off after %d events", rev)
		}
		rev++
		sendHeavy(t, src, rev, 100)
		if ev := <-live.Events(); ev.Revision != rev {
			t.Fatalf("live: event %d, want %d", ev.Revision, rev)
		}
	}
	var got []int64
	for ev := range stalled.Events() {
		got = append(got, ev.Revision)
	}
	if !errors.Is(stalled.Err(), ErrTooSlow) || len(got) != 128 {
		t.Fatalf("stalled subscriber: %d events then %v; want its channel's 128 and ErrTooSlow", len(got), stalled.Err())
	}
	for i, r := range got {
		if r != int64(i+1) {
			t.Fatalf("stalled subscriber: event %d at %d: not a prefix", i, r)
		}
	}
	again, err := b.Subscribe(context.Background(), got[len(got)-1])
	if err != nil {
		t.Fatal(err)
	}
	defer again.Stop()
	for want := got[len(got)-1] + 1; want <= rev; want++ {
		if ev := <-again.Events(); ev.Revision != want {
			t.Fatalf("resumed: event %d, want %d", ev.Revision, want)
		}
	}
}

// TestBroadcasterUntakenEventsLeaveWindow: a subscriber whose channel still
// holds an event that has left the window is cut off at once (so it holds
// nothing beyond the window), even though its channel is not full.
func TestBroadcasterUntakenEventsLeaveWindow(t *testing.T) {
	b, src := startFed[heavy](t, BroadcasterConfig{Window: 1000, WindowBytes: 500})
	stalled, live := stalledAndLive(t, b)
	for rev := int64(1); rev <= 6; rev++ { // 600 bytes: event 1 leaves the window
		sendHeavy(t, src, rev, 100)
		<-live.Events()
	}
	waitFor(t, "the stalled subscriber to be cut off", func() bool { return b.Subscribers() == 1 })
	if _, err := drainAny(stalled); !errors.Is(err, ErrTooSlow) {
		t.Fatalf("stalled: %v", err)
	}
}

// drain for any event type.
func drainAny[T any](w Watcher[T]) (int, error) {
	n := 0
	for range w.Events() {
		n++
	}
	return n, w.Err()
}

// TestSubscribeMap: each subscriber converts and filters the shared events
// in its own goroutine; skipped events do not reach its channel.
func TestSubscribeMap(t *testing.T) {
	b, src := startFed[heavy](t, BroadcasterConfig{})
	evens, err := SubscribeMap(b, context.Background(), 0, func(e Event[heavy]) (Event[string], bool) {
		if e.Revision%2 != 0 {
			return Event[string]{}, false
		}
		return Event[string]{Type: Modified, Object: "even", Revision: e.Revision}, true
	})
	if err != nil {
		t.Fatal(err)
	}
	for rev := int64(1); rev <= 10; rev++ {
		sendHeavy(t, src, rev, 1)
	}
	for want := int64(2); want <= 10; want += 2 {
		ev := <-evens.Events()
		if ev.Revision != want || ev.Object != "even" || ev.Type != Modified {
			t.Fatalf("got %+v, want even at %d", ev, want)
		}
	}
	evens.Stop()
	if n, err := drainAny(evens); !errors.Is(err, ErrStopped) {
		t.Fatalf("after Stop: %d events, %v", n, err)
	}
	if _, err := SubscribeMap[heavy, string](b, context.Background(), 0, nil); err == nil {
		t.Fatal("a nil conversion was accepted")
	}
}

// TestBroadcasterMetricsReleasedAfterRun: a broadcaster's metrics leave the
// registry when Run returns, so a successor (a rebuilt watch cache) may
// register under the same name.
func TestBroadcasterMetricsReleasedAfterRun(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := BroadcasterConfig{Name: "pods", Registerer: reg}
	first, err := NewBroadcaster(newFakeLog().source, 0, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewBroadcaster(newFakeLog().source, 0, cfg); err == nil {
		t.Fatal("two live broadcasters registered under one name")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := first.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := NewBroadcaster(newFakeLog().source, 0, cfg); err != nil {
		t.Fatalf("successor after Run returned: %v", err)
	}
}

// TestBroadcasterBackoffUsesClock: reopening a source that keeps failing
// waits on the configured clock.
func TestBroadcasterBackoffUsesClock(t *testing.T) {
	l := newFakeLog()
	l.add(3)
	clock := clockwork.NewFakeClock()
	l.mu.Lock()
	l.failOpens = 2
	l.mu.Unlock()
	b, err := NewBroadcaster(l.source, 0, BroadcasterConfig{Clock: clock, MinBackoff: 1e9, MaxBackoff: 4e9})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.Run(ctx)
	w, err := b.Subscribe(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := clock.BlockUntilContext(ctx, 1); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-w.Events():
			t.Fatalf("event %d before the backoff elapsed", ev.Revision)
		default:
		}
		clock.Advance(4e9)
	}
	if got := collect(t, w, 3); len(got) != 3 {
		t.Fatalf("got %d events", len(got))
	}
}

// stalledAndLive subscribes twice from the start: one subscriber the test
// never reads, and one it does (stopped at the end of the test).
func stalledAndLive(t *testing.T, b *Broadcaster[heavy]) (stalled, live Watcher[heavy]) {
	t.Helper()
	stalled, err := b.Subscribe(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	live, err = b.Subscribe(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(live.Stop)
	return stalled, live
}
