package reconcile

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/reconcile/internal/keytable"
	"github.com/setpoint-dev/setpoint/reconcile/internal/lanes"
	"github.com/setpoint-dev/setpoint/reconcile/internal/timeheap"
)

// Priorities for AddWithPriority. Any int works; higher is handed out first.
const (
	// PriorityLow is for work that may wait, such as the initial list of an
	// informer, so that it does not delay fresh changes.
	PriorityLow = -1
	// PriorityNormal is what Add uses.
	PriorityNormal = 0
	// PriorityHigh goes ahead of normal work.
	PriorityHigh = 1
)

const (
	shardBits = 6
	numShards = 1 << shardBits
)

// QueueConfig configures a Queue. Every field is optional.
type QueueConfig[K comparable] struct {
	// Clock times delays and metrics; tests pass clockwork.NewFakeClock().
	// nil (the default) is the real clock.
	Clock clockwork.Clock
	// RateLimiter decides AddRateLimited's delays. Default:
	// DefaultRateLimiter(Clock).
	RateLimiter RateLimiter[K]
	// Metrics, when set, receive the queue's depth, adds, latencies and
	// retries. See NewMetrics.
	Metrics *Metrics
}

// Queue is a work queue of keys with client-go's guarantees:
//
//   - a key added many times before it is handed out is handed out once;
//   - a key is never handed to two workers at once: between Get and Done it
//     is "processing", and adds in that time are held back;
//   - a key added while it is processing is handed out again after Done;
//   - nothing added before ShutDownWithDrain is lost: it waits until every
//     such key has been handed out and is Done.
//
// Keys are handed out in FIFO order within a priority, higher priorities
// first; a pending key re-added at a higher priority moves up. Delayed adds
// (AddAfter, AddRateLimited) wait on the queue's Clock.
//
// Unlike client-go's, ShutDown stops handing out at once and discards what is
// pending; ShutDownWithDrain is the way to finish the work.
//
// A Queue is safe for concurrent use. The zero value is not usable; call
// NewQueue.
type Queue[K comparable] struct {
	clock   clockwork.Clock
	limiter RateLimiter[K]
	metrics *Metrics
	seed    maphash.Seed
	base    time.Time // metrics times are kept relative to it
	shards  [numShards]shard[K]

	stopped  atomic.Bool  // shut down (with or without drain): adds are ignored
	inflight atomic.Int64 // keys handed out, or being handed out, and not yet Done
	depth    atomic.Int64 // pending keys

	mu      sync.Mutex // guards the fields below
	cond    sync.Cond
	ready   lanes.Lanes[K]
	waiters int
	state   queueState

	dmu      sync.Mutex // guards the delay fields below
	delayed  *timeheap.Heap[K]
	timer    clockwork.Timer
	timerAt  time.Time
	timerGen uint64
	dstopped bool
	due      []K
}

type queueState int

const (
	running queueState = iota
	draining
	stopped
)

type shard[K comparable] struct {
	mu    sync.Mutex
	items keytable.Table[K, itemState]
	seq   uint64
	_     [64]byte // keep shards on separate cache lines
}

// itemState is the state of one key the queue knows about. A key with no
// state is neither pending nor processing. It is kept small (32 bytes) and stored inline in the shard's table, so
// that an add usually touches one cache line.
type itemState struct {
	dirty      bool // added and not yet handed out since
	processing bool // handed out and not yet Done
	queued     bool // has a current entry in ready (dirty && !processing)
	prio       int32
	seq        uint64        // the current ready entry's sequence number
	readyAt    time.Duration // when it became queued, since q.base (metrics only)
	startedAt  time.Duration // when it was handed out, since q.base (metrics only)
}

// NewQueue returns an empty, running queue.
func NewQueue[K comparable](cfg QueueConfig[K]) *Queue[K] {
	q := &Queue[K]{clock: cfg.Clock, limiter: cfg.RateLimiter, metrics: cfg.Metrics, seed: maphash.MakeSeed()}
	if q.clock == nil {
		q.clock = clockwork.NewRealClock()
	}
	if q.limiter == nil {
		q.limiter = DefaultRateLimiter[K](q.clock)
	}
	q.cond.L = &q.mu
	q.base = q.clock.Now()
	q.delayed = timeheap.New[K]()
	return q
}

// shard returns key's shard and hash. The shard comes from the hash's top
// bits and the shard's table uses the low bits.
func (q *Queue[K]) shard(key K) (*shard[K], uint64) {
	h := maphash.Comparable(q.seed, key)
	return &q.shards[h>>(64-shardBits)], h
}

// Add makes key pending at PriorityNormal. It does nothing after shut down.
func (q *Queue[K]) Add(key K) { q.AddWithPriority(key, PriorityNormal) }

// AddWithPriority makes key pending at priority prio (higher is served
// first). A key that is already pending keeps its place unless prio is higher,
// in which case it moves to the end of prio's lane. It does nothing after shut
// down.
func (q *Queue[K]) AddWithPriority(key K, prio int) {
	if q.stopped.Load() {
		return
	}
	p := int32(max(min(prio, math.MaxInt32), math.MinInt32))
	sh, h := q.shard(key)
	sh.mu.Lock()
	it := sh.items.Get(h, key)
	if it == nil {
		it = sh.items.Insert(h, key)
	}
	switch {
	case it.queued:
		if p > it.prio {
			it.prio = p
			sh.seq++
			it.seq = sh.seq
			q.push(p, lanes.Entry[K]{Key: key, Seq: it.seq})
		}
	case it.processing:
		if !it.dirty || p > it.prio {
			it.prio = p
		}
		it.dirty = true
	default:
		it.dirty = true
		q.enqueue(sh, key, it, p)
	}
	sh.mu.Unlock()
}

// enqueue puts a dirty, idle key in the ready lanes. sh.mu is held.
func (q *Queue[K]) enqueue(sh *shard[K], key K, it *itemState, prio int32) {
	it.queued = true
	it.prio = prio
	sh.seq++
	it.seq = sh.seq
	q.depth.Add(1)
	if m := q.metrics; m != nil {
		it.readyAt = q.clock.Since(q.base)
		m.adds.Inc()
		m.depth.Inc()
	}
	q.push(prio, lanes.Entry[K]{Key: key, Seq: it.seq})
}

func (q *Queue[K]) push(prio int32, e lanes.Entry[K]) {
	q.mu.Lock()
	if q.state != stopped {
		q.ready.Push(int(prio), e)
		if q.waiters > 0 {
			q.cond.Signal()
		}
	}
	q.mu.Unlock()
}

// Get blocks until a key is pending, marks it processing and returns it. The
// caller must call Done(key) when it has finished with it. Get returns
// ErrShutDown once the queue has been shut down (after ShutDownWithDrain: once
// nothing is left that could be handed out), or ctx's error when ctx ends
// while it waits. A pending key is handed out even if ctx has ended, so a
// cancelled ctx makes Get a non-blocking poll.
func (q *Queue[K]) Get(ctx context.Context) (K, error) {
	var zero K
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	q.mu.Lock()
	for {
		if e, ok := q.ready.Pop(); ok {
			q.inflight.Add(1)
			q.mu.Unlock()
			if q.claim(e) {
				return e.Key, nil
			}
			q.release() // a superseded entry
			q.mu.Lock()
			continue
		}
		if q.state == stopped || (q.state == draining && q.inflight.Load() == 0) {
			q.mu.Unlock()
			return zero, ErrShutDown
		}
		if err := ctx.Err(); err != nil {
			q.mu.Unlock()
			return zero, err
		}
		if stop == nil && ctx.Done() != nil {
			stop = context.AfterFunc(ctx, q.wakeAll)
		}
		q.waiters++
		q.cond.Wait()
		q.waiters--
	}
}

// claim marks a popped entry's key processing, unless the entry was
// superseded.
func (q *Queue[K]) claim(e lanes.Entry[K]) bool {
	sh, h := q.shard(e.Key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	it := sh.items.Get(h, e.Key)
	if it == nil || !it.queued || it.seq != e.Seq {
		return false
	}
	it.queued, it.dirty, it.processing = false, false, true
	q.depth.Add(-1)
	if m := q.metrics; m != nil {
		now := q.clock.Since(q.base)
		m.queueDuration.Observe((now - it.readyAt).Seconds())
		m.depth.Dec()
		it.startedAt = now
	}
	return true
}

// Done marks key as no longer processing. If it was added meanwhile, it is
// pending again. Done of a key that is not processing does nothing.
func (q *Queue[K]) Done(key K) {
	sh, h := q.shard(key)
	sh.mu.Lock()
	it := sh.items.Get(h, key)
	if it == nil || !it.processing {
		sh.mu.Unlock()
		return
	}
	it.processing = false
	if m := q.metrics; m != nil {
		m.workDuration.Observe((q.clock.Since(q.base) - it.startedAt).Seconds())
	}
	if it.dirty {
		q.enqueue(sh, key, it, it.prio)
	} else {
		sh.items.Delete(h, key)
	}
	sh.mu.Unlock()
	q.release()
}

// release ends one hand-out and wakes drainers when it was the last.
func (q *Queue[K]) release() {
	// stopped is set before a drain looks at inflight, so a drain that
	// started before this decrement sees stopped here and gets woken, and
	// one that starts after it sees inflight at zero.
	if q.inflight.Add(-1) == 0 && q.stopped.Load() {
		q.mu.Lock()
		if q.state == draining {
			q.cond.Broadcast()
		}
		q.mu.Unlock()
	}
}

func (q *Queue[K]) wakeAll() {
	q.mu.Lock()
	q.cond.Broadcast()
	q.mu.Unlock()
}

// Len returns the number of pending keys (not counting processing keys, nor
// keys waiting for a delay).
func (q *Queue[K]) Len() int {
	q.mu.Lock()
	st := q.state
	q.mu.Unlock()
	if st == stopped {
		return 0
	}
	return int(q.depth.Load())
}

// ShuttingDown reports whether ShutDown or ShutDownWithDrain has been called.
func (q *Queue[K]) ShuttingDown() bool { return q.stopped.Load() }

// ShutDown stops the queue at once: adds are ignored from now on, pending and
// delayed keys are discarded, and Get returns ErrShutDown. Keys already handed
// out may still be passed to Done. Calling it again does nothing.
func (q *Queue[K]) ShutDown() {
	q.stopped.Store(true)
	q.stopDelays()
	q.mu.Lock()
	q.state = stopped
	q.ready = lanes.Lanes[K]{}
	q.cond.Broadcast()
	q.mu.Unlock()
}

// ShutDownWithDrain stops accepting adds (delayed keys not yet due are
// discarded) and waits until every pending key has been handed out and every
// handed-out key is Done, including keys that come back because they were
// added while processing. Workers must keep calling Get and Done meanwhile;
// Get returns ErrShutDown once the queue is drained. It returns nil when the
// queue is drained, ctx's error if ctx ends first (the queue stays shut down
// and keeps draining), or an error wrapping ErrShutDown if ShutDown cut the
// drain short.
func (q *Queue[K]) ShutDownWithDrain(ctx context.Context) error {
	q.stopped.Store(true)
	q.stopDelays()
	stop := context.AfterFunc(ctx, q.wakeAll)
	defer stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.state == running {
		q.state = draining
		q.cond.Broadcast()
	}
	for {
		switch {
		case q.state == stopped:
			return fmt.Errorf("%w: drain cut short by ShutDown", ErrShutDown)
		case q.ready.Len() == 0 && q.inflight.Load() == 0:
			return nil
		case ctx.Err() != nil:
			return fmt.Errorf("reconcile: draining queue: %w", ctx.Err())
		}
		q.cond.Wait()
	}
}

// AddAfter makes key pending once d has passed on the queue's clock (at
// once if d <= 0). A key already waiting keeps the earlier of its two times.
// It does nothing after shut down.
func (q *Queue[K]) AddAfter(key K, d time.Duration) {
	if q.stopped.Load() {
		return
	}
	if d <= 0 {
		q.Add(key)
		return
	}
	q.dmu.Lock()
	defer q.dmu.Unlock()
	if q.dstopped {
		return
	}
	q.delayed.Add(key, q.clock.Now().Add(d))
	q.arm()
}

// arm adds the keys that are due and sets the timer for the next one. dmu is
// held.
func (q *Queue[K]) arm() {
	for {
		at, ok := q.delayed.Peek()
		if !ok {
			if q.timer != nil {
				q.timer.Stop()
				q.timer = nil
			}
			return
		}
		if q.timer != nil && q.timerAt.Equal(at) {
			return
		}
		now := q.clock.Now()
		if !at.After(now) {
			q.addDue(now)
			continue
		}
		if q.timer != nil {
			q.timer.Stop()
		}
		q.timerGen++
		gen := q.timerGen
		q.timerAt = at
		q.timer = q.clock.AfterFunc(at.Sub(now), func() { q.onTimer(gen) })
		return
	}
}

func (q *Queue[K]) onTimer(gen uint64) {
	q.dmu.Lock()
	defer q.dmu.Unlock()
	if gen == q.timerGen {
		q.timer = nil
	}
	if q.dstopped {
		return
	}
	q.addDue(q.clock.Now())
	q.arm()
}

// addDue adds the keys whose time has come, in time order. dmu is held.
func (q *Queue[K]) addDue(now time.Time) {
	q.due = q.delayed.PopDue(now, q.due[:0])
	for _, k := range q.due {
		q.Add(k)
	}
	clear(q.due)
}

func (q *Queue[K]) stopDelays() {
	q.dmu.Lock()
	defer q.dmu.Unlock()
	q.dstopped = true
	q.delayed.Clear()
	if q.timer != nil {
		q.timer.Stop()
		q.timer = nil
	}
}

// AddRateLimited adds key after the delay its rate limiter gives and returns
// that delay.
func (q *Queue[K]) AddRateLimited(key K) time.Duration {
	d := q.limiter.When(key)
	if m := q.metrics; m != nil {
		m.retries.Inc()
	}
	q.AddAfter(key, d)
	return d
}

// Forget clears key's rate-limiter history; call it when key succeeded. It
// does not remove key from the queue.
func (q *Queue[K]) Forget(key K) { q.limiter.Forget(key) }

// NumRequeues returns how many rate-limited retries key has had since it was
// last forgotten.
func (q *Queue[K]) NumRequeues(key K) int { return q.limiter.NumRequeues(key) }
