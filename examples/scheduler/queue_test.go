package scheduler

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

func qpod(name string, prio int32) *api.Pod {
	return &api.Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: name, UID: name}, Spec: api.PodSpec{Priority: &prio}}
}

func popNow(t *testing.T, q *queue) *queuedPod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	qp := q.pop(ctx)
	if qp == nil {
		t.Fatal("pop: nothing became active")
	}
	return qp
}

func TestQueueOrder(t *testing.T) {
	clock := clockwork.NewFakeClock()
	q := newQueue(clock, time.Second, 10*time.Second)
	q.add(qpod("low-1", 0))
	clock.Advance(time.Millisecond)
	q.add(qpod("high", 100))
	clock.Advance(time.Millisecond)
	q.add(qpod("low-2", 0))
	var got []string
	for range 3 {
		got = append(got, popNow(t, q).pod.Name)
	}
	if fmt.Sprint(got) != "[high low-1 low-2]" {
		t.Fatalf("order %v, want priority then arrival", got)
	}
}

// TestQueueBackoff: 1 s doubling to 10 s, counted from the attempt.
func TestQueueBackoff(t *testing.T) {
	clock := clockwork.NewFakeClock()
	q := newQueue(clock, time.Second, 10*time.Second)
	q.add(qpod("p", 0))
	for _, want := range []time.Duration{1, 2, 4, 8, 10, 10} {
		qp := popNow(t, q)
		q.retry(qp, false)
		if a, b, _ := q.lens(); a != 0 || b != 1 {
			t.Fatalf("after failure: active %d backoff %d", a, b)
		}
		if err := clock.BlockUntilContext(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		clock.Advance(want*time.Second - time.Millisecond)
		if a, _, _ := q.lens(); a != 0 {
			t.Fatalf("active before its %ds backoff ended", want)
		}
		clock.Advance(time.Millisecond)
		waitActive(t, q)
	}
}

// TestQueueUnschedulable: an unschedulable pod waits for a cluster event,
// not a timer; an event during its attempt sends it to backoff instead.
func TestQueueUnschedulable(t *testing.T) {
	clock := clockwork.NewFakeClock()
	q := newQueue(clock, time.Second, 10*time.Second)
	q.add(qpod("p", 0))
	qp := popNow(t, q)
	q.retry(qp, true)
	clock.Advance(time.Hour)
	if a, b, u := q.lens(); a != 0 || b != 0 || u != 1 {
		t.Fatalf("after an hour: %d %d %d, want only unschedulable", a, b, u)
	}
	q.moveAll() // its backoff is long over: straight to active
	if a, _, u := q.lens(); a != 1 || u != 0 {
		t.Fatalf("after the event: active %d unschedulable %d", a, u)
	}
	qp = popNow(t, q)
	q.moveAll() // an event while it is in flight
	q.retry(qp, true)
	if _, b, u := q.lens(); b != 1 || u != 0 {
		t.Fatalf("event during the attempt: backoff %d unschedulable %d, want backoff", b, u)
	}
	// A status-only refresh does not move an unschedulable pod; a spec
	// change (add) does.
	clock.Advance(10 * time.Second)
	qp = popNow(t, q)
	q.retry(qp, true)
	q.refresh(qpod("p", 0))
	if _, _, u := q.lens(); u != 1 {
		t.Fatal("refresh moved an unschedulable pod")
	}
	q.add(qpod("p", 0))
	if a, _, u := q.lens(); a != 1 || u != 0 {
		t.Fatal("an update did not move the unschedulable pod")
	}
	q.remove("ns", "p")
	if a, b, u := q.lens(); a+b+u != 0 {
		t.Fatal("remove left the pod queued")
	}
}

// TestQueueStress: many goroutines add, pop, retry, remove and move pods;
// every pod is always in at most one place, and every pod added and not
// removed is eventually popped.
func TestQueueStress(t *testing.T) {
	q := newQueue(clockwork.NewRealClock(), time.Microsecond, 10*time.Microsecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const n = 200
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range n {
				q.add(qpod(fmt.Sprintf("p-%d-%d", w, i), int32(r.IntN(3))))
				if r.IntN(10) == 0 {
					q.moveAll()
				}
			}
		}()
	}
	done := map[string]int{}
	var mu sync.Mutex
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(rand.Uint64(), 2))
			for {
				pctx, pcancel := context.WithTimeout(ctx, 500*time.Millisecond)
				qp := q.pop(pctx)
				pcancel()
				if qp == nil {
					return
				}
				q.check(t)
				switch r.IntN(4) {
				case 0:
					q.retry(qp, false)
				case 1:
					q.retry(qp, true)
					q.moveAll()
				default:
					q.done(qp.key)
					mu.Lock()
					done[qp.key]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(done) != 4*n {
		t.Fatalf("%d pods finished, want %d", len(done), 4*n)
	}
	for k, c := range done {
		if c != 1 {
			t.Fatalf("%s finished %d times", k, c)
		}
	}
}

// check verifies that no pod is in two places.
func (q *queue) check(t *testing.T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	seen := map[string]string{}
	note := func(key, where string) {
		if prev, ok := seen[key]; ok {
			t.Errorf("pod %s both %s and %s", key, prev, where)
		}
		seen[key] = where
	}
	for _, qp := range q.active {
		note(qp.key, "active")
		if q.activeByKey[qp.key] != qp {
			t.Errorf("pod %s in the heap, not in the index", qp.key)
		}
	}
	for k := range q.backoff {
		note(k, "backoff")
	}
	for k := range q.unschedulable {
		note(k, "unschedulable")
	}
	for k := range q.inFlight {
		note(k, "in flight")
	}
	if len(q.activeByKey) != q.active.Len() {
		t.Errorf("index has %d pods, heap %d", len(q.activeByKey), q.active.Len())
	}
}

// waitActive waits for the fake clock's timer goroutine to move a pod to
// active.
func waitActive(t *testing.T, q *queue) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if a, _, _ := q.lens(); a == 1 {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("no pod became active after its backoff")
}
