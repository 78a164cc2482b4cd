package apiserver

import (
	"context"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// apfRejection says why a request was not admitted: the label of
// apiserver_flowcontrol_rejected_requests_total's reason.
type apfRejection string

const (
	apfAdmitted     apfRejection = ""
	apfQueueFull    apfRejection = "queue-full"
	apfTimeOut      apfRejection = "time-out"
	apfCancelled    apfRejection = "cancelled"
	apfNoQueuesFree apfRejection = "concurrency-limit"
)

// apfLevel is a priority level's seats and queues. Its invariant, under
// mu: executing <= seats, and a request waits in a queue only while every
// seat is taken (waiting > 0 implies executing == seats).
type apfLevel struct {
	spec  apfLevelSpec
	uid   string
	seats int
	clock clockwork.Clock
	wait  time.Duration

	mu        sync.Mutex
	executing int
	waiting   int
	queues    [][]*apfWaiter
	// next is the queue the round robin looks at first.
	next int
}

// apfWaiter is one queued request; ready is closed when it is admitted.
type apfWaiter struct {
	ready    chan struct{}
	admitted bool
	queue    int
}

func newAPFLevel(spec apfLevelSpec, seats int, clock clockwork.Clock, wait time.Duration) *apfLevel {
	return &apfLevel{spec: spec, uid: apfUID("prioritylevel", spec.name), seats: seats, clock: clock, wait: wait, queues: make([][]*apfWaiter, spec.queues)}
}

// admit takes a seat for a request of flow, waiting in a queue while the
// level has none free (at most wait, and while ctx lasts). It returns a
// release func when admitted (call it exactly once), or why not; waited
// is how long the request was queued.
func (l *apfLevel) admit(ctx context.Context, flow string) (release func(), why apfRejection, waited time.Duration) {
	if l.spec.exempt {
		return func() {}, apfAdmitted, 0
	}
	l.mu.Lock()
	if l.executing < l.seats && l.waiting == 0 {
		l.executing++
		l.mu.Unlock()
		return l.releaseOnce(), apfAdmitted, 0
	}
	if len(l.queues) == 0 {
		l.mu.Unlock()
		return nil, apfNoQueuesFree, 0
	}
	q := l.chooseQueue(flow)
	if len(l.queues[q]) >= l.spec.queueLength {
		l.mu.Unlock()
		return nil, apfQueueFull, 0
	}
	w := &apfWaiter{ready: make(chan struct{}), queue: q}
	l.queues[q] = append(l.queues[q], w)
	l.waiting++
	l.mu.Unlock()

	start := l.clock.Now()
	timer := l.clock.NewTimer(l.wait)
	defer timer.Stop()
	why = apfTimeOut
	select {
	case <-w.ready:
		return l.releaseOnce(), apfAdmitted, l.clock.Since(start)
	case <-timer.Chan():
	case <-ctx.Done():
		why = apfCancelled
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w.admitted {
		// Admitted while giving up: the seat is ours, so use it.
		return l.releaseOnce(), apfAdmitted, l.clock.Since(start)
	}
	qu := l.queues[w.queue]
	for i, x := range qu {
		if x == w {
			l.queues[w.queue] = append(qu[:i:i], qu[i+1:]...)
			break
		}
	}
	l.waiting--
	return nil, why, l.clock.Since(start)
}

// chooseQueue picks, of the handSize queues flow's hand holds (shuffle
// sharding: the hand is dealt from a hash of the flow), the shortest.
// Called with mu held.
func (l *apfLevel) chooseQueue(flow string) int {
	h := fnv.New64a()
	h.Write([]byte(flow))
	v := h.Sum64()
	n := len(l.queues)
	hand := min(max(l.spec.handSize, 1), n)
	best, bestLen := -1, 0
	dealt := make([]bool, n)
	for range hand {
		// Deal one card from the deck that is left.
		left := uint64(n)
		for _, d := range dealt {
			if d {
				left--
			}
		}
		k := int(v % left)
		v /= left
		for i := range n {
			if dealt[i] {
				continue
			}
			if k == 0 {
				dealt[i] = true
				if best < 0 || len(l.queues[i]) < bestLen {
					best, bestLen = i, len(l.queues[i])
				}
				break
			}
			k--
		}
	}
	return best
}

// releaseOnce returns a func that gives the seat back and admits the next
// queued requests; calls after the first do nothing.
func (l *apfLevel) releaseOnce() func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			l.executing--
			l.dispatch()
			l.mu.Unlock()
		})
	}
}

// dispatch admits queued requests while seats are free, taking the head
// of each non-empty queue in turn (round robin). Called with mu held.
func (l *apfLevel) dispatch() {
	for l.executing < l.seats && l.waiting > 0 {
		for i := range len(l.queues) {
			q := (l.next + i) % len(l.queues)
			if len(l.queues[q]) == 0 {
				continue
			}
			w := l.queues[q][0]
			l.queues[q][0] = nil
			l.queues[q] = l.queues[q][1:]
			l.next = (q + 1) % len(l.queues)
			w.admitted = true
			close(w.ready)
			l.executing++
			l.waiting--
			break
		}
	}
}

// state returns the seats taken and the requests queued.
func (l *apfLevel) state() (executing, waiting int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.executing, l.waiting
}
