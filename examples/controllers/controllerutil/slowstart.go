package controllerutil

import (
	"context"
	"sync"
)

// SlowStart calls fn count times with the error exposure of
// SlowStartBatch but without its barriers: it starts initial calls, and
// each call that succeeds lets two more start (so the window doubles per
// round trip, as the batches do), never more than maxInFlight at once
// (0: no limit). Once a call fails no more start; the calls already
// running finish. It returns how many calls succeeded and the first
// error.
//
// The calls started never exceed initial + 2 × successes, the bound
// SlowStartBatch keeps at each batch boundary, so a template the server
// rejects still costs one request; what changes is that a slow call no
// longer holds back the calls that would follow the fast ones of its
// batch.
func SlowStart(ctx context.Context, count, initial, maxInFlight int, fn func(ctx context.Context) error) (int, error) {
	if count <= 0 {
		return 0, nil
	}
	var (
		mu       sync.Mutex
		cond     = sync.NewCond(&mu)
		credits  = max(initial, 1) // calls that may start now
		started  int
		inFlight int
		done     int
		firstErr error
	)
	result := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		inFlight--
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
		} else {
			done++
			credits += 2
		}
		cond.Signal()
	}
	mu.Lock()
	defer mu.Unlock()
	for {
		for started < count && firstErr == nil && credits > 0 && (maxInFlight <= 0 || inFlight < maxInFlight) {
			if err := ctx.Err(); err != nil {
				firstErr = err
				break
			}
			credits--
			started++
			inFlight++
			go func() { result(fn(ctx)) }()
		}
		if inFlight == 0 && (started == count || firstErr != nil || credits == 0) {
			return done, firstErr
		}
		cond.Wait()
	}
}
