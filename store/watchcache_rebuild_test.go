package store_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/store/storetest"
	"github.com/setpoint-dev/setpoint/watch"
)

var errRestarted = errors.New("test: backend restarted")

func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			var m *dto.Metric = mf.GetMetric()[0]
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

// TestWatchCacheRebuildsAfterCompactionAndRestart is field case 16 on the
// memory backend with a fake clock: the cache of an idle resource, whose
// last event is compacted away, loses its backend watch (a restart); it
// cannot resume, so its watchers get ErrGone, and it starts again at the
// current revision, backing off while the backend is unavailable. A client
// that relists and watches again sees new events.
func TestWatchCacheRebuildsAfterCompactionAndRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := storetest.NewFaulty(memory.New())
	clock := clockwork.NewFakeClock()
	reg := prometheus.NewRegistry()
	pods, err := store.New[*Pod](b, podResource, store.WithRegisterer(reg), store.WithWatchCache(store.WatchCacheConfig{
		Clock: clock, MinBackoff: time.Second, MaxBackoff: 4 * time.Second,
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer pods.Close()
	others, _ := store.New[*Pod](b, store.Resource{Name: "others", APIVersion: "v1", Kind: "Pod", Namespaced: true})
	start, _ := b.Backend.Revision(ctx)

	// The backend is unavailable at first: the cache backs off (on the
	// clock) and watches wait for it.
	b.FailRevision(2)
	type result struct {
		w   watch.Watcher[*Pod]
		err error
	}
	first := make(chan result, 1)
	go func() {
		w, err := pods.Watch(ctx, "", store.WatchOptions{AfterRevision: start})
		first <- result{w, err}
	}()
	for range 2 {
		if err := clock.BlockUntilContext(ctx, 1); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-first:
			t.Fatalf("watch served while the cache was backing off: %v", r.err)
		default:
		}
		clock.Advance(4 * time.Second)
	}
	r := <-first
	if r.err != nil {
		t.Fatal(r.err)
	}
	w1 := r.w
	p1, err := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "p1"}})
	if err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, w1); ev.Object.Name != "p1" {
		t.Fatalf("first event: %s", ev.Object.Name)
	}
	// The resource goes idle; writes elsewhere, then a compaction past its
	// last event, then a restart.
	for i := range 5 {
		if _, err := others.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: fmt.Sprint("o", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	now, _ := b.Backend.Revision(ctx)
	if err := b.Compact(ctx, now); err != nil {
		t.Fatal(err)
	}
	b.FailRevision(1) // and the first attempt to start again fails
	b.BreakWatches(errRestarted)
	for range w1.Events() {
		t.Fatal("an event after the restart on the old generation")
	}
	if !errors.Is(w1.Err(), watch.ErrGone) {
		t.Fatalf("watcher of the compacted cache ended with %v, want ErrGone", w1.Err())
	}
	if err := clock.BlockUntilContext(ctx, 1); err != nil { // backing off
		t.Fatal(err)
	}
	clock.Advance(4 * time.Second)
	// A client relists and watches again, and sees new events.
	l, err := pods.List(ctx, "", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 1 || l.Items[0].ResourceVersion != p1.ResourceVersion {
		t.Fatalf("relist: %v", l.Items)
	}
	w2, err := pods.Watch(ctx, "", store.WatchOptions{AfterRevision: l.Revision})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Stop()
	p2, err := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "p2"}})
	if err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, w2); ev.Object.Name != "p2" {
		t.Fatalf("after the rebuild: %s, want p2", ev.Object.Name)
	}
	// The new generation runs and sees it too.
	rev2, _ := store.ParseRevision(p2.ResourceVersion)
	for deadline := time.Now().Add(20 * time.Second); pods.WatchCache().Revision() < rev2; runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatalf("cache revision %d, want %d: it did not start again", pods.WatchCache().Revision(), rev2)
		}
	}
	if got := counterValue(t, reg, "setpoint_store_watch_cache_rebuilds_total"); got != 1 {
		t.Fatalf("rebuilds = %v, want 1", got)
	}
}
