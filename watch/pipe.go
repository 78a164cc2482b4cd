package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// EncodeStream writes every event of w to enc until w ends or ctx is done,
// as a server's watch handler does. When w ends with a failure the client
// must act on (ErrGone, ErrTooSlow, ErrClosed or any other error except
// ErrStopped and context errors), it first writes that failure as an ERROR
// event. It returns why the stream ended (never nil) and stops w before
// returning. A write error stops w and is returned.
func EncodeStream[T any](ctx context.Context, enc *Encoder, w Watcher[T]) error {
	defer w.Stop()
	events := w.Events()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-events:
			if !ok {
				err := w.Err()
				if err == nil {
					err = ErrClosed
				}
				if errors.Is(err, ErrStopped) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
					return err
				}
				if werr := EncodeEvent(enc, Event[T]{Type: Error, Err: err}); werr != nil {
					return werr
				}
				return err
			}
			if err := EncodeEvent(enc, e); err != nil {
				return err
			}
		}
	}
}

// DecodeStream returns a watcher of the events read from r, as a client of a
// watch endpoint uses it: r is typically an HTTP response body. Lines are
// decoded into T with DecodeEvent. The stream ends (and r is closed) when:
// an ERROR event arrives (Err is its *StatusError, so a 410 wraps ErrGone);
// a line is malformed (a *DecodeError wrapping ErrMalformed); r ends
// (ErrClosed) or fails (the read error); Stop is called (ErrStopped); or ctx
// is done (ctx's error). maxLine is as for NewDecoder; buffer is the
// channel's capacity.
func DecodeStream[T any](ctx context.Context, r io.ReadCloser, maxLine, buffer int) *Stream[T] {
	s := NewStream[T](buffer)
	closed := make(chan struct{})
	go func() {
		// Unblock a pending Read when the consumer stops or ctx ends.
		select {
		case <-s.Done():
		case <-ctx.Done():
		case <-closed:
		}
		r.Close()
	}()
	go func() {
		defer close(closed)
		s.Close(decodeInto(ctx, s, NewDecoder(r, maxLine)))
	}()
	return s
}

// decodeInto feeds s from dec and returns why it stopped.
func decodeInto[T any](ctx context.Context, s *Stream[T], dec *Decoder) error {
	for {
		we, err := dec.Next()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			select {
			case <-s.Done():
				return ErrStopped
			default:
			}
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("%w: the server ended the watch stream", ErrClosed)
			}
			return err
		}
		e, err := DecodeEvent[T](we)
		if err != nil {
			return err
		}
		if e.Type == Error {
			return e.Err
		}
		if !s.Send(ctx, e) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return ErrStopped
		}
	}
}
