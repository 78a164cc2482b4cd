package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/util/workqueue"

	"github.com/setpoint-dev/setpoint/reconcile"
)

// The reconcile benchmarks compare reconcile.Queue with client-go's typed
// rate-limiting workqueue under the same load: 8 producers add 1,000,000
// random keys out of 10,000 while 8 workers Get and Done them.
const (
	queueProducers = 8
	queueWorkers   = 8
	queueKeys      = 10_000
	queueAdds      = 1_000_000
	queueRounds    = 11
)

func init() {
	register("reconcile", benchReconcile)
}

// benchQueue is the part of a workqueue the load uses.
type benchQueue interface {
	Add(key string)
	Get() (string, bool)
	Done(key string)
	Drain()
}

type ourQueue struct{ q *reconcile.Queue[string] }

func (o ourQueue) Add(k string) { o.q.Add(k) }
func (o ourQueue) Get() (string, bool) {
	k, err := o.q.Get(context.Background())
	return k, err != nil
}
func (o ourQueue) Done(k string) { o.q.Done(k) }
func (o ourQueue) Drain()        { _ = o.q.ShutDownWithDrain(context.Background()) }

type clientGoQueue struct {
	q workqueue.TypedRateLimitingInterface[string]
}

func (c clientGoQueue) Add(k string)        { c.q.Add(k) }
func (c clientGoQueue) Get() (string, bool) { return c.q.Get() }
func (c clientGoQueue) Done(k string)       { c.q.Done(k) }
func (c clientGoQueue) Drain()              { c.q.ShutDownWithDrain() }

func newOurs() benchQueue {
	return ourQueue{reconcile.NewQueue(reconcile.QueueConfig[string]{})}
}

func newClientGo() benchQueue {
	return clientGoQueue{workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())}
}

// queueLoad runs the load once and returns the adds per second and, when
// latency is set, the Add-to-Get latencies in nanoseconds.
func queueLoad(ctx context.Context, q benchQueue, keys []string, index map[string]int, latency bool) (float64, []int64, error) {
	var pending []atomic.Int64 // per key: time of the first Add since its last Get
	if latency {
		pending = make([]atomic.Int64, len(keys))
	}
	epoch := time.Now()
	samples := make([][]int64, queueWorkers)
	var workers sync.WaitGroup
	for w := range queueWorkers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for {
				k, shutdown := q.Get()
				if shutdown {
					return
				}
				if latency {
					if t := pending[index[k]].Swap(0); t != 0 {
						samples[w] = append(samples[w], int64(time.Since(epoch))-t)
					}
				}
				q.Done(k)
			}
		}()
	}
	start := time.Now()
	var producers sync.WaitGroup
	for p := range queueProducers {
		producers.Add(1)
		go func() {
			defer producers.Done()
			r := rand.New(rand.NewPCG(uint64(p), 42))
			for i := 0; i < queueAdds/queueProducers; i++ {
				if i%4096 == 0 && ctx.Err() != nil {
					return
				}
				j := r.IntN(len(keys))
				if latency {
					pending[j].CompareAndSwap(0, int64(time.Since(epoch)))
				}
				q.Add(keys[j])
			}
		}()
	}
	producers.Wait()
	q.Drain()
	elapsed := time.Since(start)
	workers.Wait()
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	return float64(queueAdds) / elapsed.Seconds(), slices.Concat(samples...), nil
}

func p99(samples []int64) float64 {
	if len(samples) == 0 {
		return 0
	}
	slices.Sort(samples)
	return float64(samples[len(samples)*99/100])
}

func benchReconcile(ctx context.Context) ([]Result, error) {
	keys := make([]string, queueKeys)
	index := make(map[string]int, queueKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("namespace-%d/object-%d", i%100, i)
		index[keys[i]] = i
	}
	impls := []func() benchQueue{newOurs, newClientGo}
	// Rounds alternate between the two queues; each figure is the median.
	rates := make([][]float64, 2)
	lat := make([][]float64, 2)
	for range queueRounds {
		for i, mk := range impls {
			r, _, err := queueLoad(ctx, mk(), keys, index, false)
			if err != nil {
				return nil, err
			}
			rates[i] = append(rates[i], r)
			_, s, err := queueLoad(ctx, mk(), keys, index, true)
			if err != nil {
				return nil, err
			}
			if len(s) == 0 {
				return nil, fmt.Errorf("queue-latency-p99: no samples")
			}
			lat[i] = append(lat[i], p99(s)/1e3)
		}
	}
	median := func(v []float64) float64 {
		v = slices.Clone(v)
		slices.Sort(v)
		return v[len(v)/2]
	}
	return []Result{
		{Name: "queue-adds", Ours: median(rates[0]), Anchor: median(rates[1]), Unit: "adds/s", HigherIsBetter: true},
		{Name: "queue-latency-p99", Ours: median(lat[0]), Anchor: median(lat[1]), Unit: "µs", HigherIsBetter: false},
	}, nil
}
