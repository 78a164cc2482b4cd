package watch

import (
	"context"
	"errors"
	"fmt"
)

// subscriberChan caps the channel part of a subscriber's buffer; the rest of
// SubscriberBuffer is the shared ring, so memory per subscriber stays small.
const subscriberChan = 128

// subscriber is one Subscribe call: a position in the broadcaster's ring and a
// goroutine that copies events from there into the subscriber's stream.
type subscriber[T any] struct {
	b         *Broadcaster[T]
	stream    *Stream[T]
	next      uint64 // sequence number of the next event to hand over
	after     int64  // events at or before this revision are skipped
	bookmarks bool   // forward Bookmark events
	limit     uint64 // events that may arrive while the channel stays full
	lastRev   int64  // revision of the last event delivered
}

// run delivers events until the subscription ends, then detaches it and
// closes its stream with the reason.
func (s *subscriber[T]) run(ctx context.Context) {
	err := s.loop(ctx)
	s.b.mu.Lock()
	delete(s.b.subs, s)
	s.b.mu.Unlock()
	s.b.metrics.subscribers.Dec()
	if errors.Is(err, ErrTooSlow) {
		s.b.metrics.tooSlow.Inc()
		s.b.log.Info("watch subscriber cut off", "err", err)
	}
	s.stream.Close(err)
}

func (s *subscriber[T]) loop(ctx context.Context) error {
	b := s.b
	size := uint64(len(b.ring))
	var batch []Event[T]
	for {
		b.mu.RLock()
		if err := s.checkLagLocked(s.next, b.head); err != nil {
			b.mu.RUnlock()
			return err
		}
		end := min(b.head, s.next+maxBatch)
		for seq := s.next; seq < end; seq++ {
			batch = append(batch, b.ring[seq%size])
		}
		var (
			notify chan struct{}
			endErr error
		)
		if len(batch) == 0 {
			endErr = b.endErr
			notify = b.notify
			b.waiting.Store(true)
		}
		b.mu.RUnlock()

		if len(batch) == 0 {
			if endErr != nil {
				return endErr
			}
			select {
			case <-notify:
			case <-s.stream.done:
				return ErrStopped
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		for i := range batch {
			ev := &batch[i]
			if ev.Revision <= s.after || (ev.Type == Bookmark && !s.bookmarks) {
				continue
			}
			if err := s.send(ctx, ev, s.next+uint64(i)); err != nil {
				return err
			}
		}
		s.next += uint64(len(batch))
		clear(batch)
		batch = batch[:0]
	}
}

// checkLagLocked reports ErrTooSlow if the event with sequence number pos has
// dropped out of the ring, or if the consumer's channel has stayed full since
// the head was at blockedAt while more than limit further events arrived.
// blockedAt is b.head when not blocked. b.mu is held.
func (s *subscriber[T]) checkLagLocked(pos, blockedAt uint64) error {
	b := s.b
	if pos < b.oldestLocked() {
		return fmt.Errorf("%w: the events after revision %d left the window of %d before they were delivered; resume after revision %d", ErrTooSlow, s.lastRev, len(b.ring), s.lastRev)
	}
	if arrived := b.head - blockedAt; arrived > s.limit {
		return fmt.Errorf("%w: took no event while %d more arrived (limit %d); resume after revision %d", ErrTooSlow, arrived, s.limit, s.lastRev)
	}
	return nil
}

// send hands ev (sequence number pos) to the consumer. While the consumer's
// channel is full it keeps checking its lag, so a stuck consumer is cut off
// as soon as it is too far behind, not only when it next reads.
func (s *subscriber[T]) send(ctx context.Context, ev *Event[T], pos uint64) error {
	select {
	case s.stream.ch <- *ev:
		s.lastRev = ev.Revision
		return nil
	default:
	}
	b := s.b
	blockedAt := uint64(0)
	for first := true; ; first = false {
		b.mu.RLock()
		if first {
			blockedAt = b.head
		}
		err := s.checkLagLocked(pos, blockedAt)
		notify := b.notify
		b.waiting.Store(true)
		b.mu.RUnlock()
		if err != nil {
			return err
		}
		select {
		case s.stream.ch <- *ev:
			s.lastRev = ev.Revision
			return nil
		case <-notify:
		case <-s.stream.done:
			return ErrStopped
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
