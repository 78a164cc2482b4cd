package watch

import (
	"context"
	"sync"
)

// Stream is a Watcher whose events are produced by the code that owns it. It is
// the building block for every Watcher in setpoint: a producer calls Send for
// each event and Close with the reason when the stream ends; the consumer reads
// Events. The zero value is not usable; call NewStream.
type Stream[T any] struct {
	ch   chan Event[T]
	done chan struct{} // closed by Stop or Close; producers select on it

	mu     sync.Mutex
	err    error // reason the stream ended; set once
	closed bool  // ch closed
	after  []func(error)
}

var _ Watcher[int] = (*Stream[int])(nil)

// NewStream returns a stream whose channel holds up to buffer events.
func NewStream[T any](buffer int) *Stream[T] {
	return &Stream[T]{ch: make(chan Event[T], buffer), done: make(chan struct{})}
}

// Events returns the consumer's channel.
func (s *Stream[T]) Events() <-chan Event[T] { return s.ch }

// Err returns the reason the stream ended, or nil while it is open.
func (s *Stream[T]) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		return nil
	}
	return s.err
}

// Done is closed once the stream has been stopped or closed; producers use it
// to notice that nobody is reading any more.
func (s *Stream[T]) Done() <-chan struct{} { return s.done }

// Send delivers e, blocking until the consumer has room, the stream ends, or
// ctx is done. It reports whether the event was delivered.
func (s *Stream[T]) Send(ctx context.Context, e Event[T]) bool {
	select {
	case <-s.done:
		return false
	default:
	}
	select {
	case s.ch <- e:
		return true
	case <-s.done:
		return false
	case <-ctx.Done():
		return false
	}
}

// TrySend delivers e only if the consumer's buffer has room. It reports whether
// the event was delivered; a false result on an open stream means the buffer is
// full.
func (s *Stream[T]) TrySend(e Event[T]) bool {
	select {
	case <-s.done:
		return false
	default:
	}
	select {
	case s.ch <- e:
		return true
	default:
		return false
	}
}

// Close ends the stream with reason err (ErrClosed if nil). Events already
// buffered stay readable; the channel is closed after them. Only the producer
// may call Close, and it must not call Send afterwards.
func (s *Stream[T]) Close(err error) {
	if err == nil {
		err = ErrClosed
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if s.err == nil {
		s.err = err
	}
	s.closed = true
	s.signal()
	close(s.ch)
	after, end := s.after, s.err
	s.after = nil
	s.mu.Unlock()
	for _, f := range after {
		f(end)
	}
}

// AfterClose arranges for f to be called with the stream's end reason once
// it is closed (at once if it already is). It is for a consumer that must
// act on the end while it is busy elsewhere, without a goroutine of its own
// waiting for it; f runs on the producer's goroutine and must not block.
func (s *Stream[T]) AfterClose(f func(err error)) {
	s.mu.Lock()
	if !s.closed {
		s.after = append(s.after, f)
		s.mu.Unlock()
		return
	}
	err := s.err
	s.mu.Unlock()
	f(err)
}

// Stop ends the stream from the consumer's side. The producer sees Done closed
// and must then call Close; Err reports ErrStopped regardless of what the
// producer passes.
func (s *Stream[T]) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = ErrStopped
	}
	s.signal()
}

func (s *Stream[T]) signal() {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
}
