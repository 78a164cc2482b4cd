package memory_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/watch"
)

func drain(t *testing.T, w watch.Watcher[store.KV]) []watch.Event[store.KV] {
	t.Helper()
	var out []watch.Event[store.KV]
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				return out
			}
			out = append(out, ev)
		case <-timeout:
			t.Fatal("watch did not end")
		}
	}
}

// TestCompactionPastSlowWatcher: a watcher that stopped reading and falls
// behind a compaction ends with ErrGone after the events it had buffered,
// instead of silently skipping.
func TestCompactionPastSlowWatcher(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	w, err := b.Watch(ctx, "/k/", 0)
	if err != nil {
		t.Fatal(err)
	}
	var last int64
	for i := range 600 { // more than the watcher's buffer
		if last, err = b.Create(ctx, fmt.Sprintf("/k/%03d", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Compact(ctx, last); err != nil {
		t.Fatal(err)
	}
	evs := drain(t, w)
	if len(evs) >= 600 {
		t.Fatalf("slow watcher got all %d events despite the compaction", len(evs))
	}
	for i, ev := range evs {
		if want := int64(i) + 2; ev.Revision != want {
			t.Fatalf("event %d at revision %d, want %d (no gaps)", i, ev.Revision, want)
		}
	}
	var gone *watch.GoneError
	if !errors.As(w.Err(), &gone) || gone.Oldest != last {
		t.Fatalf("Err = %v, want a GoneError with oldest %d", w.Err(), last)
	}
}

func TestCloseEndsWatchesAndCalls(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	w, err := b.Watch(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	drain(t, w)
	if !errors.Is(w.Err(), watch.ErrClosed) {
		t.Fatalf("Err after Close = %v, want ErrClosed", w.Err())
	}
	if _, err := b.Get(ctx, "/a"); !errors.Is(err, memory.ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	if _, err := b.Create(ctx, "/a", nil); !errors.Is(err, memory.ErrClosed) {
		t.Fatalf("Create after Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestStressWatchersAndWriters: many writers and watchers at once; every
// watcher sees every write of its prefix once, in revision order.
func TestStressWatchersAndWriters(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	const writers, perWriter, watchers = 8, 100, 6
	ws := make([]watch.Watcher[store.KV], watchers)
	for i := range ws {
		var err error
		if ws[i], err = b.Watch(ctx, "/s/", 1); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := fmt.Sprintf("/s/%d", g)
			rev, err := b.Create(ctx, k, []byte("0"))
			for i := 1; i < perWriter && err == nil; i++ {
				rev, err = b.Update(ctx, k, []byte(fmt.Sprint(i)), rev)
			}
			if err != nil {
				t.Errorf("writer %d: %v", g, err)
			}
			// Noise outside the prefix.
			if _, err := b.Create(ctx, fmt.Sprintf("/t/%d", g), nil); err != nil {
				t.Error(err)
			}
		}()
	}
	total := writers * perWriter
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last int64
			for n := 0; n < total; n++ {
				select {
				case ev, ok := <-w.Events():
					if !ok {
						t.Errorf("watcher %d ended: %v", i, w.Err())
						return
					}
					if ev.Revision <= last || ev.Object.Key[:3] != "/s/" {
						t.Errorf("watcher %d: revision %d (%s) after %d", i, ev.Revision, ev.Object.Key, last)
						return
					}
					last = ev.Revision
				case <-time.After(20 * time.Second):
					t.Errorf("watcher %d: stalled after %d events", i, n)
					return
				}
			}
			w.Stop()
		}()
	}
	wg.Wait()
}
