package memory

import (
	"context"
	"slices"
	"strings"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// watchBuffer is the number of events a backend watcher buffers.
const watchBuffer = 256

// Watch streams changes under prefix after afterRev (0: after the current
// revision). A start before the compacted revision (afterRev < compact
// revision, as with the etcd backend) gives a *watch.GoneError; so does a
// compaction past a watcher that has fallen behind it.
func (b *Backend) Watch(ctx context.Context, prefix string, afterRev int64) (watch.Watcher[store.KV], error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return nil, ErrClosed
	}
	if afterRev < 0 {
		afterRev = 0
	}
	if afterRev == 0 {
		afterRev = b.rev
	}
	next := afterRev + 1
	if afterRev < b.compacted {
		return nil, &watch.GoneError{Requested: afterRev, Oldest: b.compacted}
	}
	s := watch.NewStream[store.KV](watchBuffer)
	go b.feed(ctx, s, prefix, next)
	return s, nil
}

// feed sends the events from revision next on to s until the stream ends.
func (b *Backend) feed(ctx context.Context, s *watch.Stream[store.KV], prefix string, next int64) {
	var batch []watch.Event[store.KV]
	bookmark := false // a progress notification is due once caught up
	for {
		batch = batch[:0]
		b.mu.RLock()
		if b.closed {
			b.mu.RUnlock()
			s.Close(ErrClosed)
			return
		}
		if next <= b.compacted {
			oldest := b.compacted
			b.mu.RUnlock()
			s.Close(&watch.GoneError{Requested: next - 1, Oldest: oldest})
			return
		}
		for i := max(next-b.logStart, 0); i < int64(len(b.log)) && len(batch) < watchBuffer; i++ {
			ev := b.log[i]
			next = b.logStart + i + 1
			if !strings.HasPrefix(ev.kv.Key, prefix) {
				continue
			}
			kv := ev.kv
			kv.Value = slices.Clone(kv.Value)
			kv.PrevValue = slices.Clone(ev.prev)
			batch = append(batch, watch.Event[store.KV]{Type: ev.typ, Object: kv, Revision: kv.ModRevision})
		}
		caughtUp := next > b.rev
		changed, progress, rev := b.changed, b.progress, b.rev
		b.mu.RUnlock()
		if caughtUp && bookmark {
			batch = append(batch, watch.Event[store.KV]{Type: watch.Bookmark, Revision: rev})
			bookmark = false
		}
		for _, e := range batch {
			if !s.Send(ctx, e) {
				s.Close(stopReason(ctx))
				return
			}
		}
		if !caughtUp {
			continue
		}
		select {
		case <-progress:
			bookmark = true
		case <-changed:
		case <-s.Done():
			s.Close(watch.ErrStopped)
			return
		case <-ctx.Done():
			s.Close(ctx.Err())
			return
		case <-b.done:
		}
	}
}

// RequestProgress makes every watch of the backend deliver a
// watch.Bookmark at the current revision once it has sent every event up
// to it (store.ProgressRequester), as etcd's progress requests do.
func (b *Backend) RequestProgress(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	close(b.progress)
	b.progress = make(chan struct{})
	return nil
}

func stopReason(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return watch.ErrStopped
}
