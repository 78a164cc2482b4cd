package informer

import (
	"sync"
	"sync/atomic"

	"github.com/setpoint-dev/setpoint/informer/internal/ring"
	"github.com/setpoint-dev/setpoint/store"
)

// Handler receives an informer's events for one object type. Calls for one
// handler are sequential and in order per object. The objects passed are the
// cache's shared, read-only objects.
type Handler[T store.Object] interface {
	// OnAdd: obj appeared. initial is true while delivering the initial list
	// (lets controllers put those keys in a low-priority lane).
	OnAdd(obj T, initial bool)
	// OnUpdate: old was replaced by new (also on periodic resync, with old == new state).
	OnUpdate(old, new T)
	// OnDelete: obj was deleted. finalStateUnknown is true when the delete was
	// only inferred from a relist, and obj is the last state the cache saw.
	OnDelete(obj T, finalStateUnknown bool)
}

// HandlerFuncs adapts functions; nil funcs are skipped.
type HandlerFuncs[T store.Object] struct {
	// AddFunc is called by OnAdd.
	AddFunc func(obj T, initial bool)
	// UpdateFunc is called by OnUpdate.
	UpdateFunc func(old, new T)
	// DeleteFunc is called by OnDelete.
	DeleteFunc func(obj T, finalStateUnknown bool)
}

var _ Handler[store.Object] = HandlerFuncs[store.Object]{}

// OnAdd calls AddFunc if set.
func (f HandlerFuncs[T]) OnAdd(obj T, initial bool) {
	if f.AddFunc != nil {
		f.AddFunc(obj, initial)
	}
}

// OnUpdate calls UpdateFunc if set.
func (f HandlerFuncs[T]) OnUpdate(old, new T) {
	if f.UpdateFunc != nil {
		f.UpdateFunc(old, new)
	}
}

// OnDelete calls DeleteFunc if set.
func (f HandlerFuncs[T]) OnDelete(obj T, finalStateUnknown bool) {
	if f.DeleteFunc != nil {
		f.DeleteFunc(obj, finalStateUnknown)
	}
}

type noteKind uint8

const (
	noteAdd noteKind = iota
	noteUpdate
	noteDelete
)

// note is one queued handler call.
type note[T store.Object] struct {
	kind noteKind
	flag bool // initial for add, finalStateUnknown for delete
	old  T    // update only
	obj  T
}

// batchSize is how many notes a listener takes from its queue per lock.
const batchSize = 256

// listener delivers notes to one handler from its own goroutine, through an
// unbounded queue, so that a slow handler delays only itself.
type listener[T store.Object] struct {
	h   Handler[T]
	reg *Registration

	mu      sync.Mutex
	q       ring.Ring[note[T]]
	wake    chan struct{} // cap 1: a push happened
	stopped bool
	pushed  uint64 // notes ever pushed; guarded by mu
}

func newListener[T store.Object](h Handler[T]) *listener[T] {
	l := &listener[T]{h: h, wake: make(chan struct{}, 1)}
	l.reg = &Registration{stop: make(chan struct{}), done: make(chan struct{})}
	l.reg.syncTarget.Store(-1)
	return l
}

// push queues n and returns without waiting for the handler.
func (l *listener[T]) push(n note[T]) {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return
	}
	l.q.Push(n)
	l.pushed++
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// markSynced records that everything pushed so far is the handler's initial
// contents: the registration is synced once the handler has processed it.
func (l *listener[T]) markSynced() {
	l.mu.Lock()
	l.reg.syncTarget.Store(int64(l.pushed))
	l.mu.Unlock()
}

// depth returns how many pushed notes the handler has not finished.
func (l *listener[T]) depth() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return 0
	}
	return int(l.pushed - l.reg.processed.Load())
}

// stop ends the listener: queued notes are dropped and no new call starts.
func (l *listener[T]) stop() {
	l.mu.Lock()
	if !l.stopped {
		l.stopped = true
		l.q.Clear()
		close(l.reg.stop)
	}
	l.mu.Unlock()
}

// run delivers notes until stop.
func (l *listener[T]) run() {
	defer close(l.reg.done)
	batch := make([]note[T], batchSize)
	var zero note[T]
	for {
		l.mu.Lock()
		if l.stopped {
			l.mu.Unlock()
			return
		}
		n := l.q.PopInto(batch)
		l.mu.Unlock()
		if n == 0 {
			select {
			case <-l.wake:
			case <-l.reg.stop:
				return
			}
			continue
		}
		for i := 0; i < n; i++ {
			if l.reg.removed.Load() {
				return
			}
			nt := batch[i]
			batch[i] = zero
			switch nt.kind {
			case noteAdd:
				l.h.OnAdd(nt.obj, nt.flag)
			case noteUpdate:
				l.h.OnUpdate(nt.old, nt.obj)
			case noteDelete:
				l.h.OnDelete(nt.obj, nt.flag)
			}
			l.reg.processed.Add(1)
		}
	}
}

// Registration is one handler added to an informer. Use it to remove the
// handler and to learn when the handler has processed the informer's initial
// contents.
type Registration struct {
	remove     func()
	removed    atomic.Bool
	processed  atomic.Uint64
	syncTarget atomic.Int64 // -1 until the initial contents are queued
	stop       chan struct{}
	done       chan struct{}
	once       sync.Once
}

// HasSynced reports whether the informer has synced and this handler has
// been called for every object of its initial contents (the first list, or
// the cache's contents when the handler was added later).
func (r *Registration) HasSynced() bool {
	t := r.syncTarget.Load()
	return t >= 0 && r.processed.Load() >= uint64(t)
}

// Remove detaches the handler and drops its queued events. A call already
// under way when Remove is called completes; no further call follows it.
// Wait on Done to know that no call is running any more. Remove does not
// block, so it may be called from inside the handler, more than once, and
// after the informer has stopped.
func (r *Registration) Remove() {
	r.once.Do(func() {
		r.removed.Store(true)
		r.remove()
	})
}

// Done is closed once the handler's delivery goroutine has exited, after
// Remove or when the informer stops; no call to the handler is running or
// will run after that.
func (r *Registration) Done() <-chan struct{} { return r.done }
