package reconcile_test

import (
	"context"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/reconcile"
)

// TestQueueStress runs 8 producers and 8 workers over 10,000 keys
// (1,000,000 adds in all, under -race too) and checks the queue's contract:
//
//   - no key is ever held by two workers at once;
//   - every key added after its last processing started is processed again
//     (so nothing is lost);
//   - ShutDownWithDrain returns only when all of that work is done.
func TestQueueStress(t *testing.T) {
	const (
		stressAdds = 1_000_000
		producers  = 8
		workers    = 8
		keys       = 10_000
	)
	q := reconcile.NewQueue(reconcile.QueueConfig[int]{})
	var (
		clock     atomic.Int64 // logical time: orders adds and processing starts
		lastAdd   [keys]atomic.Int64
		lastStart [keys]atomic.Int64
		busy      [keys]atomic.Int32
		processed atomic.Int64
		overlaps  atomic.Int64
		holding   [workers]atomic.Int64 // key+1 a worker holds, or 0
	)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				k, err := q.Get(ctx)
				if err != nil {
					return
				}
				if !busy[k].CompareAndSwap(0, 1) {
					overlaps.Add(1)
				}
				holding[w].Store(int64(k) + 1)
				lastStart[k].Store(clock.Add(1))
				if n%64 == 0 {
					runtime.Gosched() // let others try to grab the same key
				}
				processed.Add(1)
				holding[w].Store(0)
				busy[k].Store(0)
				q.Done(k)
			}
		}()
	}
	var pg sync.WaitGroup
	for p := range producers {
		pg.Add(1)
		go func() {
			defer pg.Done()
			r := rand.New(rand.NewPCG(uint64(p), 7))
			for i := 0; i < stressAdds/producers; i++ {
				k := r.IntN(keys)
				if i%4 == 3 {
					// Aim at a key a worker holds right now: the path
					// where an add must be held back and not lost.
					if h := holding[r.IntN(workers)].Load(); h > 0 {
						k = int(h - 1)
					}
				}
				s := clock.Add(1)
				for {
					old := lastAdd[k].Load()
					if old >= s || lastAdd[k].CompareAndSwap(old, s) {
						break
					}
				}
				switch i % 16 {
				case 0:
					q.AddWithPriority(k, reconcile.PriorityLow)
				case 1:
					q.AddWithPriority(k, reconcile.PriorityHigh)
				default:
					q.Add(k)
				}
			}
		}()
	}
	pg.Wait()
	// Tail: make the last add of many keys land while a worker holds them,
	// so that losing such an add cannot go unnoticed.
	add := func(k int) {
		s := clock.Add(1)
		for {
			old := lastAdd[k].Load()
			if old >= s || lastAdd[k].CompareAndSwap(old, s) {
				break
			}
		}
		q.Add(k)
	}
	r := rand.New(rand.NewPCG(99, 7))
	targeted := 0
	tailStart := time.Now()
	for round := 0; targeted < 100 && round < 1000 && ctx.Err() == nil; round++ {
		for range 50 {
			add(r.IntN(keys))
		}
		for spin := 0; spin < 1000; spin++ {
			if h := holding[r.IntN(workers)].Load(); h > 0 {
				add(int(h - 1))
				targeted++
				break
			}
			runtime.Gosched()
		}
	}
	tailTime := time.Since(tailStart)
	if err := q.ShutDownWithDrain(ctx); err != nil {
		t.Fatalf("ShutDownWithDrain: %v", err)
	}
	// Everything must be finished the moment the drain returns.
	for k := range keys {
		if a, s := lastAdd[k].Load(), lastStart[k].Load(); a > s {
			t.Errorf("key %d: last added at %d but its last processing started at %d: the add was lost", k, a, s)
		}
		if busy[k].Load() != 0 {
			t.Errorf("key %d still processing after the drain returned", k)
		}
	}
	wg.Wait()
	if n := overlaps.Load(); n != 0 {
		t.Fatalf("%d times a key was handed to a second worker while a first held it", n)
	}
	if n := q.Len(); n != 0 {
		t.Fatalf("Len after drain = %d", n)
	}
	if p := processed.Load(); p == 0 || p > stressAdds {
		t.Fatalf("processed %d times for %d adds", p, stressAdds)
	}
	t.Logf("%d adds, %d processings, %d tail adds to held keys (tail took %v)", stressAdds, processed.Load(), targeted, tailTime)
}
