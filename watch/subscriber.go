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
// goroutine that converts events from there into the subscriber's stream.
type subscriber[T, O any] struct {
	b         *Broadcaster[T]
	stream    *Stream[O]
	same      *Stream[T] // stream itself when there is no conversion (O is T)
	conv      func(Event[T]) (Event[O], bool)
	next      uint64 // sequence number of the next event to hand over
	after     int64  // events at or before this revision are skipped
	bookmarks bool   // forward Bookmark events
	limit     uint64 // events that may arrive while the channel stays full
	byteLimit int64  // their weight; 0: no limit
	// sent[i % len(sent)] is the sequence number of the i-th event put into
	// the channel; with len(channel) it names the oldest untaken event.
	sent  []uint64
	nsent uint64
}

// run delivers events until the subscription ends, then detaches it and
// closes its stream with the reason. The events already in the stream's
// channel stay there for the consumer: dropping them while it may be
// reading would leave a gap in what it receives.
func (s *subscriber[T, O]) run(ctx context.Context) {
	err := s.loop(ctx)
	s.b.mu.Lock()
	s.b.subs--
	s.b.mu.Unlock()
	s.b.metrics.subscribers.Dec()
	if errors.Is(err, ErrTooSlow) {
		s.b.metrics.tooSlow.Inc()
		s.b.log.Info("watch subscriber cut off", "err", err)
	}
	s.stream.Close(err)
}

func (s *subscriber[T, O]) loop(ctx context.Context) error {
	b := s.b
	size := uint64(len(b.ring))
	var batch []Event[T]
	for {
		b.mu.RLock()
		if err := s.checkLagLocked(s.next, b.head, b.total); err != nil {
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
			var err error
			if s.same != nil {
				err = send(s, ctx, s.same.ch, ev, s.next+uint64(i))
			} else if out, ok := s.conv(*ev); ok {
				err = send(s, ctx, s.stream.ch, &out, s.next+uint64(i))
			}
			if err != nil {
				return err
			}
		}
		s.next += uint64(len(batch))
		clear(batch)
		batch = batch[:0]
	}
}

// checkLagLocked reports ErrTooSlow if the event with sequence number pos,
// or the oldest event still untaken in the consumer's channel, has dropped
// out of the ring, or if the consumer's channel has stayed full since the
// head was at blockedAt (and the total weight at blockedBytes) while more
// than the limit further events (or bytes) arrived. blockedAt is b.head and
// blockedBytes b.total when not blocked. b.mu is held.
func (s *subscriber[T, O]) checkLagLocked(pos, blockedAt uint64, blockedBytes int64) error {
	b := s.b
	if pos < b.tail {
		return fmt.Errorf("%w: events left the window before they were delivered; resume after the last revision processed", ErrTooSlow)
	}
	if n := uint64(len(s.stream.ch)); n > 0 && n <= s.nsent && s.sent[(s.nsent-n)%uint64(len(s.sent))] < b.tail {
		return fmt.Errorf("%w: events not taken from the channel left the window; resume after the last revision processed", ErrTooSlow)
	}
	if arrived := b.head - blockedAt; arrived > s.limit {
		return fmt.Errorf("%w: took no event while %d more arrived (limit %d); resume after the last revision processed", ErrTooSlow, arrived, s.limit)
	}
	if arrived := b.total - blockedBytes; s.byteLimit > 0 && arrived > s.byteLimit {
		return fmt.Errorf("%w: took no event while %d more bytes arrived (limit %d); resume after the last revision processed", ErrTooSlow, arrived, s.byteLimit)
	}
	return nil
}

// sentOne records that the event with sequence number pos went into the
// channel.
func (s *subscriber[T, O]) sentOne(pos uint64) {
	s.sent[s.nsent%uint64(len(s.sent))] = pos
	s.nsent++
}

// send hands ev (sequence number pos) to the consumer through ch, the
// stream's channel. While the channel is full it keeps checking the
// subscriber's lag, so a stuck consumer is cut off as soon as it is too far
// behind, not only when it next reads.
func send[T, O, E any](s *subscriber[T, O], ctx context.Context, ch chan Event[E], ev *Event[E], pos uint64) error {
	select {
	case ch <- *ev:
		s.sentOne(pos)
		return nil
	default:
	}
	b := s.b
	var blockedAt uint64
	var blockedBytes int64
	for first := true; ; first = false {
		b.mu.RLock()
		if first {
			blockedAt, blockedBytes = b.head, b.total
		}
		err := s.checkLagLocked(pos, blockedAt, blockedBytes)
		notify := b.notify
		b.waiting.Store(true)
		b.mu.RUnlock()
		if err != nil {
			return err
		}
		select {
		case ch <- *ev:
			s.sentOne(pos)
			return nil
		case <-notify:
		case <-s.stream.done:
			return ErrStopped
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
