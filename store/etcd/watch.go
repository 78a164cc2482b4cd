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
// revision) through one etcd watch with previous values (WithPrevKV) and
// progress notifications, which arrive as watch.Bookmark events when the
// server is configured to send them. A compacted start ends the stream with
// a *watch.GoneError. The etcd client resumes the watch transparently after
// a connection loss, so no event is skipped; a lost leader ends the stream
// with an error (the caller re-watches from its last revision).
func (b *Backend) Watch(ctx context.Context, prefix string, afterRev int64) (watch.Watcher[store.KV], error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if afterRev < 0 {
		afterRev = 0
	}
	opts := []clientv3.OpOption{clientv3.WithPrevKV(), clientv3.WithProgressNotify(), clientv3.WithCreatedNotify()}
	if prefix == "" {
		opts = append(opts, clientv3.WithFromKey())
	} else {
		opts = append(opts, clientv3.WithPrefix())
	}
	if afterRev > 0 {
		opts = append(opts, clientv3.WithRev(afterRev+1))
	}
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	key := prefix
	if key == "" {
		key = "\x00"
	}
	wch := b.c.Watch(wctx, key, opts...)
	s := watch.NewStream[store.KV](watchBuffer)
	go func() {
		defer cancel()
		s.Close(b.pump(ctx, wch, s, afterRev))
	}()
	return s, nil
}

// pump forwards etcd watch responses to s until the stream ends, and
// returns the reason.
func (b *Backend) pump(ctx context.Context, wch clientv3.WatchChan, s *watch.Stream[store.KV], afterRev int64) error {
	last := afterRev
	for {
		var resp clientv3.WatchResponse
		var ok bool
		select {
		case resp, ok = <-wch:
		case <-s.Done():
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
			return &watch.GoneError{Requested: last, Oldest: resp.CompactRevision - 1}
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
			last = rev
			if !s.Send(ctx, watch.Event[store.KV]{Type: watch.Bookmark, Revision: rev}) {
				return stopReason(ctx)
			}
			continue
		}
		for _, ev := range resp.Events {
			e := convert(ev)
			last = e.Revision
			if !s.Send(ctx, e) {
				return stopReason(ctx)
			}
		}
	}
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

func stopReason(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return watch.ErrStopped
}
