package watch_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/etcdtest"
	"github.com/setpoint-dev/setpoint/watch"
)

// TestBroadcasterOnEtcd fans one real etcd backend watch out to 100
// subscribers: each sees exactly the writes under the prefix after its start
// revision, in order, although revisions are not contiguous (writes to
// another prefix interleave).
func TestBroadcasterOnEtcd(t *testing.T) {
	srv := etcdtest.Start(t)
	be := srv.Backend()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const prefix = "/watchtest/pods/"

	rev0, err := be.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	source := func(ctx context.Context, after int64) (watch.Watcher[store.KV], error) {
		return be.Watch(ctx, prefix, after)
	}
	b, err := watch.NewBroadcaster(source, rev0, watch.BroadcasterConfig{Window: 5000, SubscriberBuffer: 5000, MinBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stopRun := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() { runDone <- b.Run(runCtx) }()
	defer func() {
		stopRun()
		if err := <-runDone; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	type write struct {
		typ watch.EventType
		key string
		rev int64
	}
	var writes []write
	do := func(typ watch.EventType, key string, rev int64, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s %s: %v", typ, key, err)
		}
		writes = append(writes, write{typ, key, rev})
	}
	// The first subscribers start before any write; more start midway.
	const subs = 100
	ws := make([]watch.Watcher[store.KV], 0, subs)
	froms := make([]int64, 0, subs)
	subscribe := func(from int64) {
		w, err := b.Subscribe(ctx, from)
		if err != nil {
			t.Fatalf("Subscribe(%d): %v", from, err)
		}
		ws, froms = append(ws, w), append(froms, from)
	}
	for range subs / 2 {
		subscribe(rev0)
	}
	revs := map[string]int64{}
	for i := range 150 {
		key := fmt.Sprintf("%sp%d", prefix, i%20)
		if r, ok := revs[key]; ok && i%3 == 0 {
			_, drev, err := be.Delete(ctx, key, r)
			do(watch.Deleted, key, drev, err)
			delete(revs, key)
		} else if ok {
			nrev, err := be.Update(ctx, key, []byte(fmt.Sprint(i)), r)
			do(watch.Modified, key, nrev, err)
			revs[key] = nrev
		} else {
			nrev, err := be.Create(ctx, key, []byte(fmt.Sprint(i)))
			do(watch.Added, key, nrev, err)
			revs[key] = nrev
		}
		if i%4 == 0 { // a write elsewhere leaves a gap in this prefix's revisions
			if _, err := be.Create(ctx, fmt.Sprintf("/watchtest/other/%d", i), []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		if i == 75 {
			for j := range subs / 2 {
				subscribe(writes[j%len(writes)].rev + int64(j%2))
			}
		}
	}

	var wg sync.WaitGroup
	errs := make([]error, len(ws))
	for i, w := range ws {
		var want []write
		for _, wr := range writes {
			if wr.rev > froms[i] {
				want = append(want, wr)
			}
		}
		wg.Go(func() {
			defer w.Stop()
			for j, wr := range want {
				select {
				case e, ok := <-w.Events():
					if !ok {
						errs[i] = fmt.Errorf("stream ended after %d of %d events: %v", j, len(want), w.Err())
						return
					}
					if e.Type != wr.typ || e.Revision != wr.rev || e.Object.Key != wr.key || e.Object.ModRevision != wr.rev && wr.typ != watch.Deleted {
						errs[i] = fmt.Errorf("event %d: got %s %s@%d, want %s %s@%d", j, e.Type, e.Object.Key, e.Revision, wr.typ, wr.key, wr.rev)
						return
					}
				case <-ctx.Done():
					errs[i] = fmt.Errorf("timed out after %d of %d events", j, len(want))
					return
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("subscriber %d (after %d): %v", i, froms[i], err)
		}
	}
	if got, want := b.Revision(), writes[len(writes)-1].rev; got < want {
		t.Errorf("Revision() = %d, want at least %d", got, want)
	}
}
