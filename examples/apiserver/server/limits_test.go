package server

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLimiterRate(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter(2, 2, 10)
	l.now = func() time.Time { return now }
	take := func() bool {
		rel, ok := l.acquire()
		if ok {
			rel()
		}
		return ok
	}
	if !take() || !take() || take() {
		t.Fatal("want a burst of 2, then refusal")
	}
	now = now.Add(500 * time.Millisecond) // one token at 2/s
	if !take() || take() {
		t.Fatal("want one token after 500ms at 2/s")
	}
}

func TestLimiterInflightStress(t *testing.T) {
	l := newLimiter(0, 0, 4)
	var cur, peak atomic.Int32
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for range 200 {
				rel, ok := l.acquire()
				if !ok {
					continue
				}
				n := cur.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				cur.Add(-1)
				rel()
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 4 || p < 1 {
		t.Fatalf("peak in flight %d, want 1..4", p)
	}
}
