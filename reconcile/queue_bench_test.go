package reconcile_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/setpoint-dev/setpoint/reconcile"
)

// BenchmarkQueueLoad runs the bench/ load (8 producers, 8 workers, 10,000
// keys): b.N adds in all.
func BenchmarkQueueLoad(b *testing.B) {
	keys := make([]string, 10_000)
	for i := range keys {
		keys[i] = fmt.Sprintf("namespace-%d/object-%d", i%100, i)
	}
	q := reconcile.NewQueue(reconcile.QueueConfig[string]{})
	var workers sync.WaitGroup
	for range 8 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for {
				k, err := q.Get(context.Background())
				if err != nil {
					return
				}
				q.Done(k)
			}
		}()
	}
	b.ResetTimer()
	var producers sync.WaitGroup
	for p := range 8 {
		producers.Add(1)
		go func() {
			defer producers.Done()
			r := rand.New(rand.NewPCG(uint64(p), 1))
			for i := 0; i < b.N/8; i++ {
				q.Add(keys[r.IntN(len(keys))])
			}
		}()
	}
	producers.Wait()
	if err := q.ShutDownWithDrain(context.Background()); err != nil {
		b.Fatal(err)
	}
	workers.Wait()
}
