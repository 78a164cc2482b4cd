package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store/etcd"
	"github.com/setpoint-dev/setpoint/store/etcdtest"
	"github.com/setpoint-dev/setpoint/watch"
)

func TestCloseEndsWatches(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := etcd.New(etcdtest.Shared(t).Client())
	w, err := b.Watch(ctx, "/close-test/", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for range w.Events() {
	}
	if !errors.Is(w.Err(), watch.ErrClosed) {
		t.Fatalf("Err after Close = %v, want ErrClosed", w.Err())
	}
	if _, err := b.Get(ctx, "/x"); !errors.Is(err, etcd.ErrClosed) {
		t.Fatalf("Get after Close = %v, want ErrClosed", err)
	}
	// The shared client is still usable.
	if _, err := etcdtest.Shared(t).Client().Get(ctx, "/x"); err != nil {
		t.Fatalf("client after backend Close: %v", err)
	}
}

// TestWatchStalledConsumerByteBudget: the etcd client buffers every event of
// a watch whose channel is not read; the backend keeps reading it for a
// consumer that never reads, up to its lag budget, then stops the etcd watch
// and ends with ErrTooSlow after delivering exactly what it had accepted, in
// order, so a consumer that watches again after the last revision it
// processed misses nothing.
func TestWatchStalledConsumerByteBudget(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cli := etcdtest.Shared(t).Client()
	const budget = 32 << 10
	b := etcd.New(cli, etcd.WithWatchBufferBytes(budget))
	prefix := "/stalled-budget/"
	start, err := b.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w, err := b.Watch(ctx, prefix, start)
	if err != nil {
		t.Fatal(err)
	}
	value := strings.Repeat("v", 4<<10)
	const n = 300 // 1.2 MiB
	for i := range n {
		if _, err := b.Create(ctx, fmt.Sprintf("%sk%03d", prefix, i), []byte(value)); err != nil {
			t.Fatal(err)
		}
	}
	var held int64
	got := 0
	last := start
	for ev := range w.Events() {
		if ev.Type != watch.Added || ev.Object.Key != fmt.Sprintf("%sk%03d", prefix, got) || ev.Revision <= last {
			t.Fatalf("event %d: %s %s at %d: what the budget held must be a prefix", got, ev.Type, ev.Object.Key, ev.Revision)
		}
		held += ev.Object.Size()
		last = ev.Revision
		got++
	}
	if !errors.Is(w.Err(), watch.ErrTooSlow) {
		t.Fatalf("stalled watch ended with %v after %d events, want ErrTooSlow", w.Err(), got)
	}
	if held > budget+int64(len(value))+64 {
		t.Fatalf("the stalled watch held %d bytes, over its budget of %d (plus one event)", held, budget)
	}
	if got < 2 {
		t.Fatalf("the stalled watch held %d events: the test does not fill its budget", got)
	}
	// Watching again after the last revision processed continues exactly.
	again, err := b.Watch(ctx, prefix, last)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Stop()
	ev := <-again.Events()
	if ev.Object.Key != fmt.Sprintf("%sk%03d", prefix, got) {
		t.Fatalf("resumed watch starts at %s (%v), want key %d", ev.Object.Key, again.Err(), got)
	}
}
