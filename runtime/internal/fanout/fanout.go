// Package fanout copies a container's output stream to the clients attached
// to it. A slow client never slows the container: each has its own queue
// and goroutine, and one that falls too far behind is cut off with
// ErrTooSlow. Wait and Resizes are the rest of an attach session.
package fanout

import (
	"context"
	"errors"
	"io"
	"sync"
)

// ErrTooSlow ends a client that did not keep up with the output.
var ErrTooSlow = errors.New("attached client too slow: output dropped")

// QueueLimit is how many bytes a client may have waiting before it is cut
// off.
const QueueLimit = 4 << 20

// Stream copies what is written to it to its subscribers. It is safe for
// concurrent use.
type Stream struct {
	mu     sync.Mutex
	subs   map[*Sub]struct{}
	closed bool
}

// Sub is one client's subscription.
type Sub struct {
	s      *Stream
	w      io.Writer
	mu     sync.Mutex
	cond   *sync.Cond
	queue  [][]byte
	queued int
	ended  bool // no more chunks will be queued
	cut    error
	done   chan struct{}
	err    error
}

// New returns a stream with no subscribers.
func New() *Stream { return &Stream{subs: map[*Sub]struct{}{}} }

// Subscribe starts copying what is written from now on to w, until the
// stream closes (Done then reports nil once w has everything), Cancel, or
// w fails.
func (s *Stream) Subscribe(w io.Writer) *Sub {
	sub := &Sub{s: s, w: w, done: make(chan struct{})}
	sub.cond = sync.NewCond(&sub.mu)
	s.mu.Lock()
	if s.closed {
		sub.ended = true
	} else {
		s.subs[sub] = struct{}{}
	}
	s.mu.Unlock()
	go sub.run()
	return sub
}

// Write queues a copy of p for every subscriber.
func (s *Stream) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.subs) == 0 {
		return len(p), nil
	}
	c := append([]byte(nil), p...)
	for sub := range s.subs {
		if !sub.push(c) {
			delete(s.subs, sub)
		}
	}
	return len(p), nil
}

// Close ends the stream: subscribers finish once they have written what is
// queued. Later subscribers end at once.
func (s *Stream) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	for sub := range s.subs {
		sub.end(nil)
	}
	s.subs = nil
}

// Subscribers returns how many clients are subscribed.
func (s *Stream) Subscribers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

func (sub *Sub) push(c []byte) bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.ended {
		return false
	}
	if sub.queued+len(c) > QueueLimit {
		sub.ended, sub.cut = true, ErrTooSlow
		sub.cond.Signal()
		return false
	}
	sub.queue = append(sub.queue, c)
	sub.queued += len(c)
	sub.cond.Signal()
	return true
}

func (sub *Sub) end(err error) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if !sub.ended {
		sub.ended, sub.cut = true, err
	}
	sub.cond.Signal()
}

func (sub *Sub) run() {
	defer close(sub.done)
	for {
		sub.mu.Lock()
		for len(sub.queue) == 0 && !sub.ended {
			sub.cond.Wait()
		}
		if sub.cut != nil {
			sub.err = sub.cut
			sub.mu.Unlock()
			return
		}
		if len(sub.queue) == 0 { // ended, all written
			sub.mu.Unlock()
			return
		}
		c := sub.queue[0]
		sub.queue[0] = nil
		sub.queue = sub.queue[1:]
		sub.queued -= len(c)
		sub.mu.Unlock()
		if _, err := sub.w.Write(c); err != nil {
			sub.mu.Lock()
			sub.ended, sub.err = true, err
			sub.queue = nil
			sub.mu.Unlock()
			sub.s.remove(sub)
			return
		}
	}
}

func (s *Stream) remove(sub *Sub) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs, sub)
}

// Done is closed when the subscription has ended; Err then says why.
func (sub *Sub) Done() <-chan struct{} { return sub.done }

// Err is nil when the stream ended and everything was written; ErrTooSlow,
// ErrCanceled or the writer's error otherwise. It is valid once Done is
// closed.
func (sub *Sub) Err() error { return sub.err }

// ErrCanceled ends a subscription its client canceled.
var ErrCanceled = errors.New("attach canceled")

// Cancel stops the subscription: queued output is dropped. A write already
// under way finishes; the writer is not used once Done is closed.
func (sub *Sub) Cancel() {
	sub.end(ErrCanceled)
	sub.s.remove(sub)
}

// Wait waits until every subscription has ended or ctx ends. On the first
// failure, or when ctx ends, it cancels the rest; it returns the failure or
// ctx's error, nil when all ended with their stream.
func Wait(ctx context.Context, subs ...*Sub) error {
	cancelAll := func() {
		for _, o := range subs {
			o.Cancel()
			<-o.Done()
		}
	}
	for _, s := range subs {
		select {
		case <-s.Done():
			if err := s.Err(); err != nil {
				cancelAll()
				return err
			}
		case <-ctx.Done():
			cancelAll()
			return ctx.Err()
		}
	}
	return nil
}

// Resizes applies the terminal sizes of a client until sizes is closed or
// ctx ends. A size that cannot be applied (the process exited) is dropped.
func Resizes[T any](ctx context.Context, sizes <-chan T, apply func(T) error) {
	for {
		select {
		case s, ok := <-sizes:
			if !ok {
				return
			}
			apply(s)
		case <-ctx.Done():
			return
		}
	}
}
