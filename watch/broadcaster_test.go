package watch

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBroadcasterFanout100(t *testing.T) {
	l := newFakeLog()
	first := l.add(50)
	start := first[9].Revision // the broadcaster starts after the 10th event
	// The buffer is the whole window, so that a reader the scheduler starves
	// for a while is not cut off: this test is about order and completeness.
	b, _, _ := startBroadcaster(t, l, start, BroadcasterConfig{Window: 10000, SubscriberBuffer: 10000})

	const subs, batches, perBatch = 100, 20, 100
	ws := make([]Watcher[item], subs)
	froms := make([]int64, subs)
	for i := range ws {
		// Start points spread over the window, including ones between
		// revisions (revisions have gaps) and the broadcaster's start.
		froms[i] = start + int64(i%40)
		w, err := b.Subscribe(context.Background(), froms[i])
		if err != nil {
			t.Fatalf("Subscribe(%d): %v", froms[i], err)
		}
		ws[i] = w
	}
	// Readers run while the events are written.
	var wg sync.WaitGroup
	got := make([][]Event[item], subs)
	errs := make([]error, subs)
	for i := range ws {
		want := len(after(first, froms[i], false)) + batches*perBatch
		wg.Go(func() {
			defer ws[i].Stop()
			got[i], errs[i] = collectErr(ws[i], want)
		})
	}
	for range batches {
		l.add(perBatch)
	}
	wg.Wait()
	all := l.all()
	for i := range ws {
		err := errs[i]
		if err == nil {
			err = sameEvents(got[i], after(all, froms[i], false))
		}
		if err != nil {
			t.Errorf("subscriber %d (after %d): %v (stream: %v)", i, froms[i], err, ws[i].Err())
		}
	}
	waitFor(t, "subscribers to detach", func() bool { return b.Subscribers() == 0 })
}

func TestBroadcasterSlowSubscriberCutOff(t *testing.T) {
	l := newFakeLog()
	b, _, _ := startBroadcaster(t, l, 0, BroadcasterConfig{Window: 2000, SubscriberBuffer: 50})
	slow, err := b.Subscribe(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	const fast = 5
	var fastWs []Watcher[item]
	for range fast {
		w, err := b.Subscribe(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		fastWs = append(fastWs, w)
	}
	// The fast subscribers read every step of 20 events before the next is
	// written; the slow one reads nothing.
	results := make([][]Event[item], fast)
	for range 50 {
		l.add(20)
		var wg sync.WaitGroup
		errs := make([]error, fast)
		for i, w := range fastWs {
			wg.Go(func() {
				got, err := collectErr(w, 20)
				results[i] = append(results[i], got...)
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("fast subscriber %d: %v", i, err)
			}
		}
	}
	all := l.all()
	for i, got := range results {
		if err := sameEvents(got, all); err != nil {
			t.Errorf("fast subscriber %d: %v", i, err)
		}
	}
	// The slow one never read; it must be cut off without anyone reading it.
	waitFor(t, "the slow subscriber to be cut off", func() bool { return b.Subscribers() == fast })
	got, err := drain(t, slow)
	if !errors.Is(err, ErrTooSlow) {
		t.Fatalf("slow subscriber ended with %v, want ErrTooSlow", err)
	}
	if len(got) == 0 || len(got) > 50 {
		t.Fatalf("slow subscriber got %d events before the cut, want 1..50", len(got))
	}
	// What it did get is an unbroken prefix of the stream.
	if err := sameEvents(got, all[:len(got)]); err != nil {
		t.Fatalf("slow subscriber: %v", err)
	}
	if !strings.Contains(err.Error(), "resume after the last revision processed") {
		t.Errorf("ErrTooSlow message %q does not say where to resume", err)
	}
	// Resuming after the last event it processed works and continues exactly.
	w, err := b.Subscribe(context.Background(), got[len(got)-1].Revision)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	rest := collect(t, w, len(all)-len(got))
	w.Stop()
	if err := sameEvents(rest, all[len(got):]); err != nil {
		t.Fatalf("resumed subscriber: %v", err)
	}
}

func TestBroadcasterLateSubscriberAndWindow(t *testing.T) {
	l := newFakeLog()
	b, _, _ := startBroadcaster(t, l, 0, BroadcasterConfig{Window: 100, SubscriberBuffer: 100})
	evs := l.add(300)
	last := evs[len(evs)-1].Revision
	waitFor(t, "the broadcaster to catch up", func() bool { return b.Revision() == last })

	// Events 0..199 were pushed out; the window is complete after event 199.
	if got, want := b.Window(), evs[199].Revision; got != want {
		t.Fatalf("Window() = %d, want %d", got, want)
	}
	for _, from := range []int64{evs[199].Revision, evs[199].Revision + 1, evs[250].Revision, last} {
		w, err := b.Subscribe(context.Background(), from)
		if err != nil {
			t.Fatalf("Subscribe(%d) inside the window: %v", from, err)
		}
		want := after(evs, from, false)
		got := collect(t, w, len(want))
		w.Stop()
		if err := sameEvents(got, want); err != nil {
			t.Errorf("Subscribe(%d): %v", from, err)
		}
	}
	for _, from := range []int64{0, evs[150].Revision, evs[199].Revision - 1} {
		w, err := b.Subscribe(context.Background(), from)
		var gone *GoneError
		if !errors.As(err, &gone) || !errors.Is(err, ErrGone) {
			if w != nil {
				w.Stop()
			}
			t.Fatalf("Subscribe(%d) outside the window: err %v, want *GoneError", from, err)
		}
		if gone.Requested != from || gone.Oldest != evs[199].Revision {
			t.Errorf("GoneError = %+v, want Requested %d Oldest %d", gone, from, evs[199].Revision)
		}
	}

	// A start newer than anything seen waits for those events.
	future := last + 10
	w, err := b.Subscribe(context.Background(), future)
	if err != nil {
		t.Fatal(err)
	}
	more := l.add(20)
	want := after(more, future, false)
	got := collect(t, w, len(want))
	w.Stop()
	if err := sameEvents(got, want); err != nil {
		t.Fatalf("future subscriber: %v", err)
	}
}

func TestBroadcasterSourceBreaks(t *testing.T) {
	l := newFakeLog()
	b, _, _ := startBroadcaster(t, l, 0, BroadcasterConfig{})
	w, err := b.Subscribe(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		evs := l.add(50)
		waitFor(t, "the broadcaster to catch up", func() bool { return b.Revision() == evs[len(evs)-1].Revision })
		if i%3 == 2 {
			l.mu.Lock()
			l.failOpens = 2 // the next opens fail; the broadcaster retries
			l.mu.Unlock()
		}
		l.breakStreams(errBroken)
		l.add(5) // flows while the stream is down
	}
	all := l.all()
	got := collect(t, w, len(all))
	w.Stop()
	if err := sameEvents(got, all); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	opens := append([]int64(nil), l.opens...)
	l.mu.Unlock()
	if len(opens) < 11 {
		t.Fatalf("source opened %d times, want at least 11", len(opens))
	}
	for i := 1; i < len(opens); i++ {
		if opens[i] < opens[i-1] {
			t.Fatalf("reopened after revision %d, earlier than the previous open's %d: %v", opens[i], opens[i-1], opens)
		}
	}
}

func TestBroadcasterSourceGone(t *testing.T) {
	l := newFakeLog()
	b, _, runErr := startBroadcaster(t, l, 0, BroadcasterConfig{})
	w, err := b.Subscribe(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	evs := l.add(30)
	waitFor(t, "the broadcaster to catch up", func() bool { return b.Revision() == evs[29].Revision })
	l.add(10)
	l.compact(evs[29].Revision + 1000)
	l.breakStreams(errBroken)
	select {
	case err := <-runErr:
		if !errors.Is(err, ErrGone) {
			t.Fatalf("Run returned %v, want ErrGone", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after the source was compacted")
	}
	got, err := drain(t, w)
	if !errors.Is(err, ErrGone) {
		t.Fatalf("subscriber ended with %v, want ErrGone", err)
	}
	if err := sameEvents(got[:min(len(got), 30)], evs); err != nil || len(got) < 30 {
		t.Fatalf("events before the end: %v (got %d)", err, len(got))
	}
	if _, err := b.Subscribe(context.Background(), evs[29].Revision); !errors.Is(err, ErrGone) {
		t.Fatalf("Subscribe after Run ended: %v, want ErrGone", err)
	}
}

func TestBroadcasterStopAndContext(t *testing.T) {
	l := newFakeLog()
	b, cancelRun, runErr := startBroadcaster(t, l, 0, BroadcasterConfig{})
	evs := l.add(10)
	waitFor(t, "the broadcaster to catch up", func() bool { return b.Revision() == evs[9].Revision })
	var ws []Watcher[item]
	for range 10 {
		w, err := b.Subscribe(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
	}
	ctx, cancel := context.WithCancel(context.Background())
	wctx, err := b.Subscribe(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := b.Subscribers(); n != 11 {
		t.Fatalf("Subscribers() = %d, want 11", n)
	}
	// Stop releases promptly even when the consumer never read.
	for _, w := range ws {
		w.Stop()
		w.Stop() // twice is fine
	}
	for _, w := range ws {
		if _, err := drain(t, w); !errors.Is(err, ErrStopped) {
			t.Fatalf("stopped subscriber ended with %v, want ErrStopped", err)
		}
	}
	waitFor(t, "stopped subscribers to detach", func() bool { return b.Subscribers() == 1 })
	cancel()
	if _, err := drain(t, wctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled subscriber ended with %v, want context.Canceled", err)
	}
	waitFor(t, "all subscribers to detach", func() bool { return b.Subscribers() == 0 })

	// Ending Run ends the subscribers with ErrClosed after what is left.
	w, err := b.Subscribe(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	cancelRun()
	if err := <-runErr; err != nil {
		t.Fatalf("Run after cancel returned %v, want nil", err)
	}
	got, err := drain(t, w)
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("subscriber ended with %v, want ErrClosed", err)
	}
	if err := sameEvents(got, l.all()); err != nil {
		t.Fatalf("events left in the window: %v", err)
	}
	if _, err := b.Subscribe(context.Background(), 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Subscribe after Run: %v, want ErrClosed", err)
	}
	if err := b.Run(context.Background()); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second Run: %v, want ErrAlreadyRunning", err)
	}
	if _, err := b.Subscribe(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe with a cancelled context: %v", err)
	}
}

func TestBroadcasterBookmarks(t *testing.T) {
	l := newFakeLog()
	b, _, _ := startBroadcaster(t, l, 0, BroadcasterConfig{})
	with, err := b.Subscribe(context.Background(), 0, WithBookmarks())
	if err != nil {
		t.Fatal(err)
	}
	without, err := b.Subscribe(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	l.add(3)
	bm := l.addBookmark()
	waitFor(t, "the bookmark to advance the revision", func() bool { return b.Revision() == bm })
	l.add(2)
	all := l.all()
	if err := sameEvents(collect(t, with, len(all)), all); err != nil {
		t.Errorf("with bookmarks: %v", err)
	}
	if err := sameEvents(collect(t, without, len(all)-1), after(all, 0, false)); err != nil {
		t.Errorf("without bookmarks: %v", err)
	}
	// A late subscriber starting at the bookmark gets what follows it.
	late, err := b.Subscribe(context.Background(), bm, WithBookmarks())
	if err != nil {
		t.Fatal(err)
	}
	if err := sameEvents(collect(t, late, 2), after(all, bm, true)); err != nil {
		t.Errorf("late subscriber: %v", err)
	}
}

// scriptSource serves a fixed list of events once and then blocks.
func scriptSource(evs []Event[item]) Source[item] {
	return func(ctx context.Context, afterRev int64) (Watcher[item], error) {
		s := NewStream[item](len(evs))
		for _, e := range evs {
			if e.Revision > afterRev || e.Type == Error {
				s.TrySend(e)
			}
		}
		go func() {
			select {
			case <-s.Done():
			case <-ctx.Done():
			}
			s.Close(nil)
		}()
		return s, nil
	}
}

func TestBroadcasterDropsBadSourceEvents(t *testing.T) {
	evs := []Event[item]{
		{Type: Added, Revision: 5, Object: item{Name: "a", Rev: 5}},
		{Type: Modified, Revision: 3, Object: item{Name: "stale", Rev: 3}}, // out of order
		{Type: Modified, Revision: 5, Object: item{Name: "dup", Rev: 5}},   // repeated
		{Type: "BOGUS", Revision: 6},
		{Type: Bookmark, Revision: 5}, // says nothing new
		{Type: Deleted, Revision: 7, Object: item{Name: "a", Rev: 7}},
	}
	b, err := NewBroadcaster(scriptSource(evs), 0, BroadcasterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.Run(ctx)
	w, err := b.Subscribe(context.Background(), 0, WithBookmarks())
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, w, 2)
	w.Stop()
	if err := sameEvents(got, []Event[item]{evs[0], evs[5]}); err != nil {
		t.Fatal(err)
	}
}

func TestBroadcasterConfigValidate(t *testing.T) {
	bad := map[string]BroadcasterConfig{
		"Window":           {Window: -1},
		"SubscriberBuffer": {SubscriberBuffer: -5},
		"exceed Window":    {Window: 10, SubscriberBuffer: 11},
		"MinBackoff":       {MinBackoff: -time.Second},
		"MaxBackoff":       {MinBackoff: time.Second, MaxBackoff: time.Millisecond},
	}
	l := newFakeLog()
	for field, cfg := range bad {
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("Validate(%+v) = %v, want an error naming %s", cfg, err, field)
		}
		if _, err := NewBroadcaster(l.source, 0, cfg); err == nil {
			t.Errorf("NewBroadcaster(%+v) accepted a bad config", cfg)
		}
	}
	if err := (BroadcasterConfig{Window: 5}).Validate(); err != nil {
		t.Errorf("small Window with default buffer: %v", err)
	}
	if _, err := NewBroadcaster[item](nil, 0, BroadcasterConfig{}); err == nil || !strings.Contains(err.Error(), "source") {
		t.Errorf("nil source: %v", err)
	}
	if _, err := NewBroadcaster(l.source, -1, BroadcasterConfig{}); err == nil || !strings.Contains(err.Error(), "startRev") {
		t.Errorf("negative startRev: %v", err)
	}
	if l.openCount() != 0 {
		t.Errorf("NewBroadcaster opened the source")
	}
}

func TestBroadcasterSourceReturnsNothing(t *testing.T) {
	l := newFakeLog()
	var calls atomic.Int32
	src := func(ctx context.Context, after int64) (Watcher[item], error) {
		if calls.Add(1) == 1 {
			return nil, nil // a broken source; the broadcaster retries
		}
		return l.source(ctx, after)
	}
	b, err := NewBroadcaster(src, 0, BroadcasterConfig{MinBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.Run(ctx)
	w, err := b.Subscribe(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	evs := l.add(3)
	if err := sameEvents(collect(t, w, 3), evs); err != nil {
		t.Fatal(err)
	}
	if calls.Load() < 2 {
		t.Fatalf("source called %d times", calls.Load())
	}
}
