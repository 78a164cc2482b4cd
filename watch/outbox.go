package watch

import (
	"context"
)

// Outbox feeds a Stream from a producer that must keep reading its upstream
// (an etcd watch, say, whose client would otherwise buffer every event for a
// stalled consumer), within a byte budget: events wait in the outbox's queue
// and the stream's channel until the consumer takes them, and their summed
// weight, the consumer's lag, may not exceed the budget.
//
// When Push would go over the budget it refuses the event: the producer must
// then stop reading its upstream (releasing what that buffers) and call
// Finish with an error wrapping ErrTooSlow. Finish still delivers every
// event accepted before, so the consumer loses nothing and resumes after
// the last revision it processed; a consumer that never reads holds at most
// the budget (plus one event, which Push always accepts when nothing else is
// pending, so that a consumer can always make progress).
//
// The producer's loop selects on its upstream and on sending Head into C:
//
//	select {
//	case ev := <-upstream:
//		if !out.Push(ev, weight(ev)) { ... stop upstream; out.Finish(ctx, tooSlowErr); return }
//	case out.C() <- out.Head():
//		out.Pop()
//	case <-out.Done():
//		...
//	}
//
// An Outbox belongs to the stream's one producer and is not safe for
// concurrent use.
type Outbox[T any] struct {
	s     *Stream[T]
	max   int64
	queue []Event[T]
	qw    []int64 // weights of queue
	first int     // index of the head of queue
	qsum  int64   // weight queued
	// before[i % len(before)] is sentSum before the i-th event sent into the
	// channel; with len(channel) it gives the weight still in the channel.
	before  []int64
	nsent   uint64
	sentSum int64
}

// NewOutbox returns an outbox that feeds s and keeps the untaken weight
// within maxBytes (no bound if maxBytes <= 0).
func NewOutbox[T any](s *Stream[T], maxBytes int64) *Outbox[T] {
	return &Outbox[T]{s: s, max: maxBytes, before: make([]int64, max(cap(s.ch), 1))}
}

// Stream returns the stream the outbox feeds.
func (o *Outbox[T]) Stream() *Stream[T] { return o.s }

// Done is the stream's Done: closed once the consumer stopped.
func (o *Outbox[T]) Done() <-chan struct{} { return o.s.Done() }

// Len returns the number of queued events.
func (o *Outbox[T]) Len() int { return len(o.queue) - o.first }

// Pending returns the weight the consumer has not taken: queued events and
// those still in the stream's channel.
func (o *Outbox[T]) Pending() int64 { return o.qsum + o.inChannel() }

// inChannel returns the weight of the events in the channel.
func (o *Outbox[T]) inChannel() int64 {
	n := uint64(len(o.s.ch))
	if n == 0 || n > o.nsent {
		return 0
	}
	return o.sentSum - o.before[(o.nsent-n)%uint64(len(o.before))]
}

// Push queues e, which weighs weight bytes, and reports whether it fitted in
// the budget. An event is refused only when other untaken events are
// pending; after a refusal the producer must Finish.
func (o *Outbox[T]) Push(e Event[T], weight int64) bool {
	if o.max > 0 {
		if p := o.Pending(); p > 0 && p+weight > o.max {
			return false
		}
	}
	if o.first > 0 && o.first == len(o.queue) {
		o.queue, o.qw, o.first = o.queue[:0], o.qw[:0], 0
	}
	o.queue = append(o.queue, e)
	o.qw = append(o.qw, weight)
	o.qsum += weight
	return true
}

// C returns the channel to send Head into, or nil (never ready) when the
// queue is empty.
func (o *Outbox[T]) C() chan<- Event[T] {
	if o.Len() == 0 {
		return nil
	}
	return o.s.ch
}

// Head returns the oldest queued event (the zero event when none is).
func (o *Outbox[T]) Head() Event[T] {
	if o.Len() == 0 {
		return Event[T]{}
	}
	return o.queue[o.first]
}

// Pop records that Head was sent into C.
func (o *Outbox[T]) Pop() {
	w := o.qw[o.first]
	o.queue[o.first] = Event[T]{}
	o.first++
	o.qsum -= w
	o.before[o.nsent%uint64(len(o.before))] = o.sentSum
	o.nsent++
	o.sentSum += w
}

// Finish delivers the queued events (waiting for the consumer as long as it
// takes, or until it stops or ctx ends) and then closes the stream with err
// (ErrClosed if nil). It reports whether every queued event was delivered.
func (o *Outbox[T]) Finish(ctx context.Context, err error) bool {
	all := true
	for o.Len() > 0 {
		if !o.s.Send(ctx, o.Head()) {
			all = false
			break
		}
		o.Pop()
	}
	if !all {
		clear(o.queue)
		o.queue, o.qw, o.first, o.qsum = nil, nil, 0, 0
	}
	o.s.Close(err)
	return all
}
