package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestKeyLocks(t *testing.T) {
	var l keyLocks
	ctx := context.Background()
	k1, release, err := l.acquire(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	// Another key is independent.
	_, releaseB, err := l.acquire(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	releaseB()
	// A waiter gives up with its context.
	cctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, _, err := l.acquire(cctx, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire of a held key: err = %v", err)
	}
	k1.hint = &KV{Key: "a", ModRevision: 7}
	got := make(chan *KV)
	go func() {
		k, rel, err := l.acquire(ctx, "a")
		if err != nil {
			t.Error(err)
			close(got)
			return
		}
		h := k.hint
		rel()
		got <- h
	}()
	// Hand over only once the goroutine is queued (a hint passes only to
	// waiters; a key nobody waits for is forgotten).
	for {
		l.mu.Lock()
		w := l.locks["a"].waiters
		l.mu.Unlock()
		if w == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	release()
	if h := <-got; h == nil || h.ModRevision != 7 {
		t.Fatalf("next turn's hint = %v, want revision 7", h)
	}
	l.mu.Lock()
	n := len(l.locks)
	l.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d key locks left after every turn ended", n)
	}
}

// TestKeyLocksStress: many goroutines over few keys; at most one holds a
// key's turn at any time.
func TestKeyLocksStress(t *testing.T) {
	var l keyLocks
	var mu sync.Mutex
	holders := map[string]int{}
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := string(rune('a' + g%3))
			for range 200 {
				_, release, err := l.acquire(context.Background(), key)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				holders[key]++
				if holders[key] != 1 {
					t.Errorf("%d holders of %s", holders[key], key)
				}
				mu.Unlock()
				mu.Lock()
				holders[key]--
				mu.Unlock()
				release()
			}
		}()
	}
	wg.Wait()
	if len(l.locks) != 0 {
		t.Fatalf("%d key locks left", len(l.locks))
	}
}
