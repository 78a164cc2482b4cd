package containerd

import (
	"fmt"
	"sync"
	"testing"
)

// TestKeyedMutexStress: many goroutines on a few keys; per key at most one
// holder at a time, and the lock table is empty afterwards.
func TestKeyedMutexStress(t *testing.T) {
	var k keyedMutex
	const keys, workers, rounds = 4, 16, 200
	holders := make([]int, keys)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				key := (w + i) % keys
				unlock := k.lock(fmt.Sprint(key))
				mu.Lock()
				holders[key]++
				if holders[key] != 1 {
					mu.Unlock()
					t.Errorf("key %d held by %d at once", key, holders[key])
					unlock()
					return
				}
				mu.Unlock()
				mu.Lock()
				holders[key]--
				mu.Unlock()
				unlock()
			}
		}()
	}
	wg.Wait()
	if len(k.locks) != 0 {
		t.Fatalf("%d lock entries left", len(k.locks))
	}
}
