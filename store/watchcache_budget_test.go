package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/watch"
)

// objectBytes is roughly the stored size of the padded pods these tests write.
const objectBytes = 4 << 10

func padded(ns, name string) *Pod {
	return &Pod{ObjectMeta: store.ObjectMeta{Namespace: ns, Name: name}, Spec: PodSpec{Image: strings.Repeat("x", objectBytes)}}
}

// readAll reads w to its end (within 20s) and returns the events and the
// stored bytes they stand for.
func readAll(t *testing.T, w watch.Watcher[*Pod]) ([]watch.Event[*Pod], int) {
	t.Helper()
	var evs []watch.Event[*Pod]
	bytes := 0
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				return evs, bytes
			}
			evs = append(evs, ev)
			bytes += len(ev.Object.Spec.Image) + 200
		case <-timeout:
			t.Fatalf("watch did not end after %d events", len(evs))
		}
	}
}

// TestWatchCacheStalledReaderByteBudget: a watcher whose consumer never
// reads, served by the watch cache, holds nothing beyond the shared window,
// which stays within its byte budget, and its channel; it is cut off with
// ErrTooSlow, while a reading watcher sees everything; and the stalled one,
// watching again after the last revision it processed, is served from the
// backend and misses nothing.
func TestWatchCacheStalledReaderByteBudget(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	const windowBytes, watcherBytes = 64 << 10, 16 << 10
	pods, err := store.New[*Pod](b, podResource, store.WithWatchCache(store.WatchCacheConfig{
		Window: 10000, WindowBytes: windowBytes, WatcherBytes: watcherBytes,
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer pods.Close()
	start, _ := b.Revision(ctx)
	stalled, err := pods.Watch(ctx, "", store.WatchOptions{AfterRevision: start})
	if err != nil {
		t.Fatal(err)
	}
	live, err := pods.Watch(ctx, "", store.WatchOptions{AfterRevision: start})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200 // 800 KiB, far over both budgets
	var maxWindow int64
	for i := range n {
		if _, err := pods.Create(ctx, padded("ns", fmt.Sprint("p", i))); err != nil {
			t.Fatal(err)
		}
		ev := nextEvent(t, live)
		if ev.Object.Name != fmt.Sprint("p", i) {
			t.Fatalf("live watcher: event %d is %s", i, ev.Object.Name)
		}
		maxWindow = max(maxWindow, pods.WatchCache().WindowBytes())
	}
	if maxWindow > windowBytes {
		t.Fatalf("the window held %d bytes, over its budget of %d", maxWindow, windowBytes)
	}
	if maxWindow < windowBytes/2 {
		t.Fatalf("the window held at most %d bytes: the test does not fill it", maxWindow)
	}
	evs, _ := readAll(t, stalled)
	if !errors.Is(stalled.Err(), watch.ErrTooSlow) {
		t.Fatalf("stalled watcher ended with %v, want ErrTooSlow", stalled.Err())
	}
	// What it holds is its channel's worth at most, and a prefix.
	if len(evs) > 128 {
		t.Fatalf("stalled watcher held %d events after it was cut off, more than its channel", len(evs))
	}
	last := start
	for i, ev := range evs {
		if ev.Object.Name != fmt.Sprint("p", i) {
			t.Fatalf("stalled watcher: event %d is %s: not a prefix", i, ev.Object.Name)
		}
		last = ev.Revision
	}
	// Watching again after the last revision it processed: older than the
	// window, so served from the backend, which replays history faster than
	// this consumer takes it and so cuts it off at its budget too; each
	// time it watches again after the last revision processed, and so gets
	// everything, in order.
	resumes := 0
	for i := len(evs); i < n; {
		again, err := pods.Watch(ctx, "", store.WatchOptions{AfterRevision: last})
		if err != nil {
			t.Fatal(err)
		}
		for ev := range again.Events() {
			if ev.Object.Name != fmt.Sprint("p", i) || ev.Type != watch.Added {
				t.Fatalf("resumed watcher: event %d is %s %s", i, ev.Type, ev.Object.Name)
			}
			last = ev.Revision
			if i++; i == n {
				break
			}
		}
		again.Stop()
		if i < n {
			if !errors.Is(again.Err(), watch.ErrTooSlow) {
				t.Fatalf("resumed watcher ended with %v", again.Err())
			}
			resumes++
		}
	}
	if resumes > n*objectBytes/(watcherBytes/2) {
		t.Fatalf("%d resumes to replay %d bytes with a budget of %d", resumes, n*objectBytes, watcherBytes)
	}
}

// TestWatchBackendPathStalledReaderByteBudget: a watch that starts before
// the cache's window is served by its own backend watch; with a consumer
// that never reads, it keeps at most its byte budget of events (plus one),
// then ends with ErrTooSlow after delivering exactly those, in order, so the
// consumer loses nothing when it watches again.
func TestWatchBackendPathStalledReaderByteBudget(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	const watcherBytes = 16 << 10
	pods, err := store.New[*Pod](b, podResource, store.WithWatchCache(store.WatchCacheConfig{Window: 4, WatcherBytes: watcherBytes}))
	if err != nil {
		t.Fatal(err)
	}
	defer pods.Close()
	start, _ := b.Revision(ctx)
	warm, err := pods.Watch(ctx, "", store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 { // move the window past start
		if _, err := pods.Create(ctx, padded("ns", fmt.Sprint("a", i))); err != nil {
			t.Fatal(err)
		}
		nextEvent(t, warm)
	}
	warm.Stop()
	stalled, err := pods.Watch(ctx, "", store.WatchOptions{AfterRevision: start})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if _, err := pods.Create(ctx, padded("ns", fmt.Sprint("b", i))); err != nil {
			t.Fatal(err)
		}
	}
	evs, held := readAll(t, stalled)
	if !errors.Is(stalled.Err(), watch.ErrTooSlow) {
		t.Fatalf("stalled watcher ended with %v after %d events, want ErrTooSlow", stalled.Err(), len(evs))
	}
	if held > watcherBytes+objectBytes+200 {
		t.Fatalf("the stalled watcher held %d bytes of events, over its budget of %d (plus one event)", held, watcherBytes)
	}
	if len(evs) < 2 {
		t.Fatalf("the stalled watcher held %d events; the test does not fill its budget", len(evs))
	}
	for i, ev := range evs {
		if want := fmt.Sprint("a", i); ev.Object.Name != want {
			t.Fatalf("event %d is %s, want %s: what the budget held must be a prefix", i, ev.Object.Name, want)
		}
	}
}
