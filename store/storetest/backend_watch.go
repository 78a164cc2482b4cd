package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// nextEvent waits for the next event of w; ok is false when the stream has
// ended.
func nextEvent[T any](t *testing.T, w watch.Watcher[T]) (watch.Event[T], bool) {
	t.Helper()
	timer := time.NewTimer(WaitTimeout)
	defer timer.Stop()
	select {
	case ev, ok := <-w.Events():
		return ev, ok
	case <-timer.C:
		t.Fatalf("no watch event within %v", WaitTimeout)
		return watch.Event[T]{}, false
	}
}

// nextChange returns the next non-bookmark event, failing if the stream ends.
func nextChange[T any](t *testing.T, w watch.Watcher[T]) watch.Event[T] {
	t.Helper()
	for {
		ev, ok := nextEvent(t, w)
		if !ok {
			t.Fatalf("watch ended early: %v", w.Err())
		}
		if ev.Type != watch.Bookmark {
			return ev
		}
	}
}

type write struct {
	typ watch.EventType
	key string
	val string
	rev int64
}

func testBackendWatchOrder(t *testing.T, b store.Backend, p string) {
	ctx := testCtx(t)
	start := mustRevision(t, b)
	w, err := b.Watch(ctx, p, start)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	const writers, perWriter = 4, 25
	var mu sync.Mutex
	var writes []write
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := fmt.Sprintf("%sw%d", p, g)
			rev, err := b.Create(ctx, k, []byte("0"))
			if err != nil {
				t.Errorf("Create: %v", err)
				return
			}
			log := []write{{watch.Added, k, "0", rev}}
			for i := 1; i < perWriter; i++ {
				v := fmt.Sprint(i)
				if rev, err = b.Update(ctx, k, []byte(v), rev); err != nil {
					t.Errorf("Update: %v", err)
					return
				}
				log = append(log, write{watch.Modified, k, v, rev})
			}
			_, rev, err = b.Delete(ctx, k, rev)
			if err != nil {
				t.Errorf("Delete: %v", err)
				return
			}
			log = append(log, write{watch.Deleted, k, fmt.Sprint(perWriter - 1), rev})
			mu.Lock()
			writes = append(writes, log...)
			mu.Unlock()
		}()
	}
	// Writes outside the prefix must not show.
	mustCreate(t, b, p[:len(p)-1]+"-other/x", "noise")
	wg.Wait()
	if t.Failed() {
		return
	}
	byRev := make(map[int64]write, len(writes))
	for _, wr := range writes {
		byRev[wr.rev] = wr
	}
	last := start
	for range writes {
		ev := nextChange(t, w)
		if ev.Revision <= last {
			t.Fatalf("event at revision %d after %d: not in order", ev.Revision, last)
		}
		last = ev.Revision
		wr, ok := byRev[ev.Revision]
		if !ok {
			t.Fatalf("event %v %s at revision %d matches no write", ev.Type, ev.Object.Key, ev.Revision)
		}
		if ev.Type != wr.typ || ev.Object.Key != wr.key || string(ev.Object.Value) != wr.val || ev.Object.ModRevision != wr.rev {
			t.Fatalf("event at %d = %v %s=%q (mod %d), want %v %s=%q", ev.Revision, ev.Type, ev.Object.Key, ev.Object.Value, ev.Object.ModRevision, wr.typ, wr.key, wr.val)
		}
		if wr.typ == watch.Modified {
			if want := fmt.Sprint(atoi(wr.val) - 1); string(ev.Object.PrevValue) != want {
				t.Fatalf("Modified event at %d has PrevValue %q, want %q", ev.Revision, ev.Object.PrevValue, want)
			}
		}
		delete(byRev, ev.Revision)
	}
	if len(byRev) != 0 {
		t.Fatalf("%d writes never showed on the watch", len(byRev))
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func testBackendWatchFromRevision(t *testing.T, b store.Backend, p string) {
	ctx := testCtx(t)
	r1 := mustCreate(t, b, p+"a", "1")
	r2, err := b.Update(ctx, p+"a", []byte("2"), r1)
	if err != nil {
		t.Fatal(err)
	}
	r3 := mustCreate(t, b, p+"b", "1")
	_, r4, err := b.Delete(ctx, p+"a", 0)
	if err != nil {
		t.Fatal(err)
	}
	// After r1: r2, r3, r4 exactly.
	w, err := b.Watch(ctx, p, r1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	want := []struct {
		typ watch.EventType
		rev int64
		key string
		val string
	}{{watch.Modified, r2, p + "a", "2"}, {watch.Added, r3, p + "b", "1"}, {watch.Deleted, r4, p + "a", "2"}}
	for _, wt := range want {
		ev := nextChange(t, w)
		if ev.Type != wt.typ || ev.Revision != wt.rev || ev.Object.Key != wt.key || string(ev.Object.Value) != wt.val {
			t.Fatalf("event = %v %s=%q at %d, want %v %s=%q at %d", ev.Type, ev.Object.Key, ev.Object.Value, ev.Revision, wt.typ, wt.key, wt.val, wt.rev)
		}
	}
	r5 := mustCreate(t, b, p+"c", "1")
	if ev := nextChange(t, w); ev.Revision != r5 || ev.Type != watch.Added {
		t.Fatalf("live event = %v at %d, want ADDED at %d", ev.Type, ev.Revision, r5)
	}
	// A watch from now (0) sees only later writes.
	w0, err := b.Watch(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w0.Stop()
	r6 := mustCreate(t, b, p+"d", "1")
	if ev := nextChange(t, w0); ev.Revision != r6 {
		t.Fatalf("watch from now: first event at %d, want %d", ev.Revision, r6)
	}
}

func testBackendWatchStop(t *testing.T, b store.Backend, p string) {
	ctx := testCtx(t)
	w, err := b.Watch(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Stop()
	for {
		if _, ok := nextEvent(t, w); !ok {
			break
		}
	}
	if !errors.Is(w.Err(), watch.ErrStopped) {
		t.Fatalf("after Stop: Err = %v, want ErrStopped", w.Err())
	}
	cctx, cancel := context.WithCancel(ctx)
	w, err = b.Watch(cctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	for {
		if _, ok := nextEvent(t, w); !ok {
			break
		}
	}
	if w.Err() == nil {
		t.Fatal("after cancel: Err is nil")
	}
}
