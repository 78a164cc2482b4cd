package watch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestBroadcasterStress subscribes and stops many subscribers while events
// flow and the source breaks now and then, by events and by bytes, half of
// them through SubscribeMap. Invariants: every subscriber's events are
// exactly the source's sequence after its start revision, in order, until
// it stops, however it ends; the window never holds more than its bytes.
func TestBroadcasterStress(t *testing.T) {
	for _, cfg := range []BroadcasterConfig{
		{Window: 400, SubscriberBuffer: 100},
		{Window: 400, SubscriberBuffer: 100, WindowBytes: 4000, SubscriberBytes: 1500},
	} {
		t.Run(fmt.Sprintf("windowBytes=%d", cfg.WindowBytes), func(t *testing.T) { stressBroadcaster(t, cfg) })
	}
}

// Size weighs items for the byte-bounded stress (10 to 90 bytes).
func (i item) Size() int64 { return 10 + i.Rev%5*20 }

func stressBroadcaster(t *testing.T, cfg BroadcasterConfig) {
	l := newFakeLog()
	b, _, _ := startBroadcaster(t, l, 0, cfg)
	var overWindow atomic.Int64

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		writerDone atomic.Bool
		subscribed atomic.Int64
		wg         sync.WaitGroup
	)
	finished := make(chan struct{}) // closed with writerDone
	wg.Go(func() {
		defer close(finished)
		defer writerDone.Store(true)
		// Write at least 3000 events, and on until 300 subscriptions have
		// run (bounded, in case the machine is very slow).
		for i := 0; i < 600 || (subscribed.Load() < 300 && i < 20000); i++ {
			l.add(5)
			if cfg.WindowBytes > 0 && b.WindowBytes() > cfg.WindowBytes {
				overWindow.Store(b.WindowBytes())
			}
			switch {
			case i%97 == 0:
				l.breakStreams(errBroken)
			case i%13 == 0:
				l.addBookmark()
			}
			if i%4 == 0 {
				runtime.Gosched()
			}
		}
	})

	type outcome struct {
		start     int64
		bookmarks bool
		got       []Event[item]
		err       error // the stream's end, nil if we stopped it
	}
	var (
		mu       sync.Mutex
		outcomes []outcome
		gones    atomic.Int64
	)
	const workers = 40
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for !writerDone.Load() {
				lo, hi := b.Window(), b.Revision()+5
				start := lo + r.Int64N(hi-lo+1)
				var opts []SubscribeOption
				bookmarks := r.IntN(2) == 0
				if bookmarks {
					opts = append(opts, WithBookmarks())
				}
				sctx, scancel := context.WithCancel(ctx)
				var wt Watcher[item]
				var err error
				if r.IntN(2) == 0 {
					wt, err = b.Subscribe(sctx, start, opts...)
				} else {
					wt, err = SubscribeMap(b, sctx, start, func(e Event[item]) (Event[item], bool) { return e, true }, opts...)
				}
				if err != nil {
					scancel()
					var gone *GoneError
					if !errors.As(err, &gone) || gone.Oldest <= start {
						t.Errorf("Subscribe(%d): %v", start, err)
						return
					}
					gones.Add(1)
					continue
				}
				subscribed.Add(1)
				o := outcome{start: start, bookmarks: bookmarks}
				want := 1 + r.IntN(100)
				slow := r.IntN(8) == 0
				// Once the writer is done, no more than what the source
				// holds after start can come: waiting for more would hang.
				fin := finished
			read:
				for len(o.got) < want {
					select {
					case ev, ok := <-wt.Events():
						if !ok {
							o.err = wt.Err()
							break read
						}
						o.got = append(o.got, ev)
						if slow {
							runtime.Gosched()
						}
					case <-fin:
						fin = nil
						want = min(want, len(after(l.all(), start, bookmarks)))
					}
				}
				switch r.IntN(3) {
				case 0:
					wt.Stop()
				case 1:
					scancel()
				default:
					wt.Stop()
					scancel()
				}
				scancel()
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	all := l.all()
	delivered := 0
	for i, o := range outcomes {
		if o.err != nil && !errors.Is(o.err, ErrTooSlow) {
			t.Errorf("subscription %d after %d ended with %v; only ErrTooSlow is expected", i, o.start, o.err)
		}
		want := after(all, o.start, o.bookmarks)
		if len(o.got) > len(want) {
			t.Errorf("subscription %d after %d: got %d events, the source only has %d", i, o.start, len(o.got), len(want))
			continue
		}
		if err := sameEvents(o.got, want[:len(o.got)]); err != nil {
			t.Errorf("subscription %d after %d: %v", i, o.start, err)
		}
		for j := 1; j < len(o.got); j++ {
			if o.got[j].Revision <= o.got[j-1].Revision {
				t.Errorf("subscription %d: revision %d after %d", i, o.got[j].Revision, o.got[j-1].Revision)
			}
		}
		delivered += len(o.got)
	}
	if len(outcomes) < workers || delivered == 0 {
		t.Fatalf("stress did too little: %d subscriptions, %d events delivered", len(outcomes), delivered)
	}
	t.Logf("%d subscriptions, %d events delivered of %d written, %d starts outside the window", len(outcomes), delivered, len(all), gones.Load())
	if n := overWindow.Load(); n > 0 {
		t.Fatalf("the window held %d bytes, over its %d", n, cfg.WindowBytes)
	}
	waitFor(t, "all subscribers to detach", func() bool { return b.Subscribers() == 0 })
	waitFor(t, "the broadcaster to catch up", func() bool { return b.Revision() == all[len(all)-1].Revision })
}
