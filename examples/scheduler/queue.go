package scheduler

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// queuedPod is a pod waiting to be scheduled.
type queuedPod struct {
	pod      *api.Pod
	key      string
	attempts int
	arrived  time.Time // first time it was queued: the tie breaker
	tried    time.Time // start of the last attempt
	index    int       // in the active heap, -1 elsewhere
}

func priorityOf(p *api.Pod) int32 {
	if p.Spec.Priority != nil {
		return *p.Spec.Priority
	}
	return 0
}

type activeHeap []*queuedPod

func (h activeHeap) Len() int { return len(h) }
func (h activeHeap) Less(i, j int) bool {
	pi, pj := priorityOf(h[i].pod), priorityOf(h[j].pod)
	if pi != pj {
		return pi > pj
	}
	return h[i].arrived.Before(h[j].arrived)
}
func (h activeHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *activeHeap) Push(x any) {
	q := x.(*queuedPod)
	q.index = len(*h)
	*h = append(*h, q)
}
func (h *activeHeap) Pop() any {
	old := *h
	q := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	q.index = -1
	return q
}

// queue is the scheduling queue: an active heap ordered by priority then
// arrival, a backoff set (1 s doubling to 10 s by default, per pod's
// attempts) and an unschedulable set moved back to active on cluster
// events. Each pod is in at most one of them, or in flight (popped and
// not yet done).
type queue struct {
	clock              clockwork.Clock
	initial, maxBackof time.Duration

	mu            sync.Mutex
	active        activeHeap
	activeByKey   map[string]*queuedPod
	backoff       map[string]*queuedPod
	unschedulable map[string]*queuedPod
	inFlight      map[string]*queuedPod
	// moved is set for in-flight pods when a cluster event happened while
	// they were being scheduled, so a failure retries with backoff rather
	// than waiting for another event.
	moved  map[string]bool
	wake   chan struct{}
	closed bool
}

func newQueue(clock clockwork.Clock, initial, maxBackoff time.Duration) *queue {
	return &queue{clock: clock, initial: initial, maxBackof: maxBackoff,
		activeByKey: map[string]*queuedPod{}, backoff: map[string]*queuedPod{}, unschedulable: map[string]*queuedPod{},
		inFlight: map[string]*queuedPod{}, moved: map[string]bool{}, wake: make(chan struct{}, 1)}
}

func (q *queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// add queues a pod (or refreshes the copy of a queued one). An update to
// a pod waiting as unschedulable moves it to active, as the change may
// make it fit.
func (q *queue) add(pod *api.Pod) {
	key := pod.Namespace + "/" + pod.Name
	q.mu.Lock()
	defer q.mu.Unlock()
	if qp, ok := q.inFlight[key]; ok {
		qp.pod = pod
		q.moved[key] = true
		return
	}
	if qp, ok := q.activeByKey[key]; ok {
		qp.pod = pod
		heap.Fix(&q.active, qp.index)
		return
	}
	if qp, ok := q.backoff[key]; ok {
		qp.pod = pod
		return
	}
	if qp, ok := q.unschedulable[key]; ok {
		delete(q.unschedulable, key)
		qp.pod = pod
		q.pushLocked(qp)
		return
	}
	q.pushLocked(&queuedPod{pod: pod, key: key, arrived: q.clock.Now(), index: -1})
}

func (q *queue) pushLocked(qp *queuedPod) {
	heap.Push(&q.active, qp)
	q.activeByKey[qp.key] = qp
	q.signal()
}

// refresh replaces the copy of a queued pod without moving it.
func (q *queue) refresh(pod *api.Pod) {
	key := pod.Namespace + "/" + pod.Name
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, m := range []map[string]*queuedPod{q.activeByKey, q.backoff, q.unschedulable, q.inFlight} {
		if qp, ok := m[key]; ok {
			qp.pod = pod
			return
		}
	}
	q.pushLocked(&queuedPod{pod: pod, key: key, arrived: q.clock.Now(), index: -1})
}

// remove drops a pod from wherever it waits.
func (q *queue) remove(namespace, name string) {
	key := namespace + "/" + name
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.backoff, key)
	delete(q.unschedulable, key)
	delete(q.inFlight, key)
	if qp, ok := q.activeByKey[key]; ok {
		heap.Remove(&q.active, qp.index)
		delete(q.activeByKey, key)
	}
}

// pop waits for the highest-priority active pod; it returns nil when ctx
// ends.
func (q *queue) pop(ctx context.Context) *queuedPod {
	for {
		q.mu.Lock()
		if q.active.Len() > 0 {
			qp := heap.Pop(&q.active).(*queuedPod)
			delete(q.activeByKey, qp.key)
			qp.attempts++
			qp.tried = q.clock.Now()
			q.inFlight[qp.key] = qp
			delete(q.moved, qp.key)
			q.mu.Unlock()
			return qp
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-q.wake:
		}
	}
}

// done ends a pod's attempt that succeeded (or was dropped).
func (q *queue) done(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.inFlight, key)
	delete(q.moved, key)
}

// backoffFor is 1 s doubling per attempt up to 10 s (by default).
func (q *queue) backoffFor(attempts int) time.Duration {
	d := q.initial
	for i := 1; i < attempts && d < q.maxBackof; i++ {
		d *= 2
	}
	return min(d, q.maxBackof)
}

// retry puts a failed pod back: in backoff after an error or when a
// cluster event happened during its attempt, otherwise in the
// unschedulable set until an event moves it.
func (q *queue) retry(qp *queuedPod, unschedulable bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.inFlight[qp.key]; !ok {
		return // removed meanwhile
	}
	delete(q.inFlight, qp.key)
	moved := q.moved[qp.key]
	delete(q.moved, qp.key)
	if unschedulable && !moved {
		q.unschedulable[qp.key] = qp
		return
	}
	q.backoffLocked(qp)
}

// backoffLocked holds qp until its backoff, counted from the start of its
// last attempt, has passed (at once to active if it already has).
func (q *queue) backoffLocked(qp *queuedPod) {
	d := qp.tried.Add(q.backoffFor(qp.attempts)).Sub(q.clock.Now())
	if d <= 0 {
		q.pushLocked(qp)
		return
	}
	q.backoff[qp.key] = qp
	q.clock.AfterFunc(d, func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		if cur, ok := q.backoff[qp.key]; ok && cur == qp {
			delete(q.backoff, qp.key)
			q.pushLocked(qp)
		}
	})
}

// moveAll is called on cluster events that may make pods fit: every
// unschedulable pod goes to active, or to backoff while its backoff
// lasts, and in-flight attempts are marked.
func (q *queue) moveAll() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for key := range q.inFlight {
		q.moved[key] = true
	}
	for key, qp := range q.unschedulable {
		delete(q.unschedulable, key)
		q.backoffLocked(qp)
	}
}

// lens returns the sizes of the active, backoff and unschedulable sets.
func (q *queue) lens() (active, backoff, unschedulable int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.active.Len(), len(q.backoff), len(q.unschedulable)
}
