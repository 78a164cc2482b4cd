package controllerutil_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
)

// TestSlowStart: every call made when all succeed; one call when the first
// fails; after a failure no call starts, so a server that accepts three
// creations costs at most 1 + 2×3 calls; a cancelled context starts none.
func TestSlowStart(t *testing.T) {
	ctx := context.Background()
	var calls atomic.Int32
	done, err := controllerutil.SlowStart(ctx, 100, 1, 0, func(context.Context) error { calls.Add(1); return nil })
	if err != nil || done != 100 || calls.Load() != 100 {
		t.Fatalf("all succeed: done %d calls %d err %v", done, calls.Load(), err)
	}
	boom := errors.New("boom")
	calls.Store(0)
	done, err = controllerutil.SlowStart(ctx, 100, 1, 0, func(context.Context) error { calls.Add(1); return boom })
	if !errors.Is(err, boom) || done != 0 || calls.Load() != 1 {
		t.Fatalf("always failing: done %d calls %d err %v, want one call", done, calls.Load(), err)
	}
	var ok atomic.Int32
	calls.Store(0)
	done, err = controllerutil.SlowStart(ctx, 100, 1, 0, func(context.Context) error {
		calls.Add(1)
		if ok.Add(1) > 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || done != 3 || calls.Load() > 7 || calls.Load() < 4 {
		t.Fatalf("three accepted: done %d calls %d err %v, want 3 done and 4..7 calls", done, calls.Load(), err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	calls.Store(0)
	done, err = controllerutil.SlowStart(cctx, 10, 1, 0, func(context.Context) error { calls.Add(1); return nil })
	if !errors.Is(err, context.Canceled) || done != 0 || calls.Load() != 0 {
		t.Fatalf("cancelled: done %d calls %d err %v", done, calls.Load(), err)
	}
	if done, err := controllerutil.SlowStart(ctx, 0, 1, 0, func(context.Context) error { return boom }); done != 0 || err != nil {
		t.Fatalf("count 0: %d %v", done, err)
	}
}

// TestSlowStartNoBarrier: a slow call does not hold back the calls its
// faster siblings earned. With batches (1, 2, 4) the second call would
// block the third batch; here calls 4 and 5 start while it still runs.
func TestSlowStartNoBarrier(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a safety net only
	defer cancel()
	var started atomic.Int32
	release := make(chan struct{})
	var once sync.Once
	done, err := controllerutil.SlowStart(ctx, 8, 1, 0, func(ctx context.Context) error {
		n := started.Add(1)
		if n >= 5 {
			once.Do(func() { close(release) })
		}
		if n == 2 {
			select {
			case <-release:
			case <-ctx.Done():
				return errors.New("the second call was never released: the fifth call did not start while it ran")
			}
		}
		return nil
	})
	if err != nil || done != 8 {
		t.Fatalf("done %d err %v", done, err)
	}
}

// TestSlowStartStress: under -race, with random successes and failures
// from many goroutines, a call never starts unless it is within
// initial + 2 × (successes so far), never more than maxInFlight run at
// once, and the result counts exactly the successes.
func TestSlowStartStress(t *testing.T) {
	for round := range 50 {
		var (
			mu                        sync.Mutex
			startedN, succeeded, runs int
			maxRuns                   int
			violation                 string
		)
		limit := 1 + round%8
		failAfter := 5 + rand.IntN(80)
		done, err := controllerutil.SlowStart(context.Background(), 100, 1, limit, func(context.Context) error {
			mu.Lock()
			startedN++
			runs++
			maxRuns = max(maxRuns, runs)
			if startedN > 1+2*succeeded && violation == "" {
				violation = "call started beyond the slow-start window"
			}
			mu.Unlock()
			for range rand.IntN(3) {
				runtime.Gosched()
			}
			mu.Lock()
			defer mu.Unlock()
			runs--
			if succeeded >= failAfter {
				return errors.New("refused")
			}
			succeeded++
			return nil
		})
		if violation != "" || maxRuns > limit || done != succeeded || (err == nil) != (succeeded == 100) {
			t.Fatalf("round %d: violation %q, max in flight %d (limit %d), done %d succeeded %d err %v",
				round, violation, maxRuns, limit, done, succeeded, err)
		}
	}
}
