package etcd

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// watchBuffer is the number of events a backend watcher buffers.
const watchBuffer = 256

// Watch streams changes under prefix after afterRev (0: after the current
// revision, as WatchCurrent) through one etcd watch with previous values (WithPrevKV) and
// progress notifications, which arrive as watch.Bookmark events when the
// server is configured to send them. A start before the compacted revision
// (afterRev < compact revision) ends the stream with a *watch.GoneError.
// So does an event that arrives after a progress notification for a later
// revision: etcd 3.7 can send one to a watch that is still catching up on
// older revisions (seen with both RequestProgress and periodic
// notifications), and the consumer, which took the notification as a
// promise, would otherwise skip the event; it relists instead, as after a
// compaction. The etcd client resumes the watch transparently after
// a connection loss, so no event is skipped; a lost leader ends the stream
// with an error (the caller re-watches from its last revision).
//
// The watch keeps reading etcd while its consumer is slow; once the events
// its consumer has not taken weigh more than the lag budget (see
// WithWatchBufferBytes), it stops the etcd watch, delivers what it had
// accepted, and ends with watch.ErrTooSlow: the consumer watches again after
// the last revision it processed.
func (b *Backend) Watch(ctx context.Context, prefix string, afterRev int64) (watch.Watcher[store.KV], error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if afterRev <= 0 {
		w, _, err := b.WatchCurrent(ctx, prefix)
		return w, err
	}
	// The etcd watch starts AT afterRev, not after it, and the pump drops
	// that revision's events: etcd sends progress notifications only to
	// watches whose start revision is not in the future, so an idle watch
	// started after the current revision would get no bookmarks.
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	wch := b.c.Watch(wctx, watchKey(prefix), watchOpts(prefix, clientv3.WithRev(afterRev))...)
	return b.stream(ctx, cancel, wch, afterRev), nil
}

var _ store.CurrentWatcher = (*Backend)(nil)

// WatchCurrent is Watch from the current revision, with nothing to catch
// up on: the etcd watch has no start revision, so etcd counts it caught up
// from its creation, and the revision it reports at creation is the one
// returned (changes after it are delivered; one between the creation and
// that report is in the revision, not delivered). It waits for etcd to
// create the watch.
func (b *Backend) WatchCurrent(ctx context.Context, prefix string) (watch.Watcher[store.KV], int64, error) {
	if err := b.check(); err != nil {
		return nil, 0, err
	}
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	wch := b.c.Watch(wctx, watchKey(prefix), watchOpts(prefix)...)
	var created clientv3.WatchResponse
	select {
	case resp, ok := <-wch:
		if !ok {
			cancel()
			if err := ctx.Err(); err != nil {
				return nil, 0, err
			}
			return nil, 0, fmt.Errorf("etcd watch of %q: channel closed before the watch was created: %w", prefix, watch.ErrClosed)
		}
		if err := resp.Err(); err != nil {
			cancel()
			return nil, 0, fmt.Errorf("etcd watch of %q: %w", prefix, err)
		}
		if !resp.Created {
			cancel()
			return nil, 0, fmt.Errorf("etcd watch of %q: first response is not the creation", prefix)
		}
		created = resp
	case <-ctx.Done():
		cancel()
		return nil, 0, ctx.Err()
	case <-b.done:
		cancel()
		return nil, 0, ErrClosed
	}
	rev := created.Header.Revision
	return b.stream(ctx, cancel, wch, rev), rev, nil
}

// watchKey is the etcd key of a watch of prefix ("" is every key).
func watchKey(prefix string) string {
	if prefix == "" {
		return "\x00"
	}
	return prefix
}

// watchOpts are the options of every backend watch of prefix: previous
// values, progress notifications and the creation response.
func watchOpts(prefix string, more ...clientv3.OpOption) []clientv3.OpOption {
	opts := append([]clientv3.OpOption{clientv3.WithPrevKV(), clientv3.WithProgressNotify(), clientv3.WithCreatedNotify()}, more...)
	if prefix == "" {
		return append(opts, clientv3.WithFromKey())
	}
	return append(opts, clientv3.WithPrefix())
}

// stream pumps the etcd watch wch, which started after afterRev, into a
// new watch stream; cancel stops the etcd watch.
func (b *Backend) stream(ctx context.Context, cancel context.CancelFunc, wch clientv3.WatchChan, afterRev int64) watch.Watcher[store.KV] {
	s := watch.NewStream[store.KV](watchBuffer)
	go func() {
		defer cancel()
		out := watch.NewOutbox(s, b.watchBuffer)
		err := b.pump(ctx, wch, out, afterRev)
		cancel() // stop the etcd watch before waiting for the consumer
		out.Finish(ctx, err)
	}()
	return s
}

// pump forwards etcd watch responses to out until the stream ends, and
// returns the reason.
func (b *Backend) pump(ctx context.Context, wch clientv3.WatchChan, out *watch.Outbox[store.KV], afterRev int64) error {
	// last is the revision the consumer was told the watch has reached
	// (an event's or a progress notification's); lastEvent is the
	// revision of the last event it was given.
	last, lastEvent := afterRev, afterRev
	for {
		var resp clientv3.WatchResponse
		var ok bool
		select {
		case resp, ok = <-wch:
		case out.C() <- out.Head():
			out.Pop()
			continue
		case <-out.Done():
			return watch.ErrStopped
		case <-b.done:
			return ErrClosed
		}
		if !ok {
			if err := ctx.Err(); err != nil {
				return err
			}
			return fmt.Errorf("etcd watch: channel closed: %w", watch.ErrClosed)
		}
		if resp.CompactRevision != 0 {
			return &watch.GoneError{Requested: last, Oldest: resp.CompactRevision}
		}
		if err := resp.Err(); err != nil {
			if errors.Is(err, rpctypes.ErrCompacted) {
				return &watch.GoneError{Requested: last}
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("etcd watch: %w", err)
		}
		if resp.Created {
			continue
		}
		if resp.IsProgressNotify() {
			rev := resp.Header.Revision
			if rev < last {
				continue
			}
			if !out.Push(watch.Event[store.KV]{Type: watch.Bookmark, Revision: rev}, 0) {
				return b.tooSlow(last)
			}
			last = rev
			continue
		}
		for _, ev := range resp.Events {
			e := convert(ev)
			if e.Revision <= lastEvent {
				continue // the start revision itself, or a resumed watch's repeat
			}
			if e.Revision <= last {
				// etcd sent a progress notification for a revision before
				// this event of it: it can do so while a watch that started
				// at an older revision is still catching up. The consumer
				// took the notification as a promise that nothing came
				// before it, so it cannot take this event in order: end the
				// watch as if its start were compacted, and the consumer
				// starts again from a fresh list (as after a compaction).
				return fmt.Errorf("etcd watch: event at revision %d arrived after a progress notification for revision %d: %w",
					e.Revision, last, &watch.GoneError{Requested: lastEvent})
			}
			if !out.Push(e, e.Object.Size()) {
				return b.tooSlow(last)
			}
			last, lastEvent = e.Revision, e.Revision
		}
	}
}

func (b *Backend) tooSlow(last int64) error {
	return fmt.Errorf("etcd watch: %w: the consumer left more than %d bytes of events untaken; resume after revision %d", watch.ErrTooSlow, b.watchBuffer, last)
}

func convert(ev *clientv3.Event) watch.Event[store.KV] {
	kv := kvOf(ev.Kv)
	var prev []byte
	if ev.PrevKv != nil {
		prev = ev.PrevKv.Value
	}
	out := watch.Event[store.KV]{Revision: ev.Kv.ModRevision}
	switch {
	case ev.Type == mvccpb.DELETE:
		out.Type = watch.Deleted
		if ev.PrevKv != nil {
			kv.Value = ev.PrevKv.Value
			kv.CreateRevision = ev.PrevKv.CreateRevision
		}
		kv.PrevValue = prev
	case ev.IsCreate():
		out.Type = watch.Added
	default:
		out.Type = watch.Modified
		kv.PrevValue = prev
	}
	out.Object = kv
	return out
}

var _ store.ProgressRequester = (*Backend)(nil)

// RequestProgress asks etcd for a progress notification on every watch of
// the backend (they share one gRPC stream): each then delivers a
// watch.Bookmark at the current revision once it has sent every event up
// to it. etcd answers only when all of the stream's watches are caught up;
// a watch cache asks again while it waits.
func (b *Backend) RequestProgress(ctx context.Context) error {
	if err := b.check(); err != nil {
		return err
	}
	return mapErr(b.c.RequestProgress(clientv3.WithRequireLeader(ctx)), "etcd progress request", 0)
}
