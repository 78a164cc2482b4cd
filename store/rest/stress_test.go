package rest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/storetest"
	"github.com/setpoint-dev/setpoint/watch"
)

// TestStressConcurrentPatchesAndWatchers: many clients increment one
// counter with unconditional merge patches over HTTP (each read-modify-write
// is retried on conflict by the handler) and via GuaranteedUpdate on the
// client, while watchers follow. No increment is lost, and every watcher
// sees strictly increasing revisions ending at the final one.
func TestStressConcurrentPatchesAndWatchers(t *testing.T) {
	ts := newTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := ts.st.Create(ctx, storetest.NewWidget("ns", "counter", nil)); err != nil {
		t.Fatal(err)
	}
	const watchers, writers, perWriter = 8, 8, 15
	type result struct {
		last int64
		n    int
		err  error
	}
	results := make(chan result, watchers)
	ws := make([]watch.Watcher[*widget], watchers)
	for i := range ws {
		w, err := ts.c.Watch(ctx, "ns", store.WatchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ws[i] = w
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				_, err := ts.c.GuaranteedUpdate(ctx, "ns", "counter", func(o *widget) (*widget, error) {
					o.Spec.Size++
					return o, nil
				})
				if err != nil {
					t.Errorf("writer %d update %d: %v", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	final, err := ts.st.Get(ctx, "ns", "counter")
	if err != nil {
		t.Fatal(err)
	}
	if final.Spec.Size != writers*perWriter {
		t.Fatalf("counter is %d after %d increments: updates were lost", final.Spec.Size, writers*perWriter)
	}
	finalRev, _ := store.ParseRevision(final.ResourceVersion)
	for _, w := range ws {
		go func() {
			var r result
			for ev := range w.Events() {
				if ev.Revision <= r.last {
					r.err = fmt.Errorf("revision %d after %d", ev.Revision, r.last)
					break
				}
				r.last = ev.Revision
				r.n++
				if r.last == finalRev {
					break
				}
			}
			w.Stop()
			results <- r
		}()
	}
	for range watchers {
		r := <-results
		if r.err != nil || r.last != finalRev || r.n != writers*perWriter {
			t.Fatalf("watcher: %d events up to revision %d (want %d up to %d): %v", r.n, r.last, writers*perWriter, finalRev, r.err)
		}
	}
}
