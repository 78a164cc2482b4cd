package store

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/setpoint-dev/setpoint/watch"
)

// WithWatchCache serves Watch from a watch cache: one backend watch of the
// whole resource, fanned out by a watch.Broadcaster that keeps the last
// window events, so that many watchers cost one backend watch. A watch that
// starts before the cache's window falls back to its own backend watch, so
// the cache never turns a valid start revision into ErrGone. The cache starts
// with the first Watch; Close stops it. window must be positive.
func WithWatchCache(window int) Option {
	return func(o *options) {
		o.watchCache = true
		o.watchWindow = window
	}
}

// watchCache is a store's broadcaster and its lifecycle.
type watchCache struct {
	window int
	done   chan struct{} // closed by close: every watch of the store ends

	mu     sync.Mutex
	b      *watch.Broadcaster[KV]
	ended  chan struct{} // closed when b's Run returns
	cancel context.CancelFunc
	closed bool
}

// broadcaster returns the running broadcaster, starting a new one (at the
// backend's current revision) if there is none or the last one ended.
func (c *watchCache) broadcaster(ctx context.Context, b Backend, prefix string) (*watch.Broadcaster[KV], error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, fmt.Errorf("watch cache: %w", watch.ErrClosed)
	}
	if c.b != nil {
		select {
		case <-c.ended:
			c.b = nil // ended (compacted past it, or the backend closed): start anew
		default:
			return c.b, nil
		}
	}
	rev, err := b.Revision(ctx)
	if err != nil {
		return nil, err
	}
	source := func(ctx context.Context, afterRev int64) (watch.Watcher[KV], error) {
		return b.Watch(ctx, prefix, afterRev)
	}
	bc, err := watch.NewBroadcaster(source, rev, watch.BroadcasterConfig{Window: c.window, Name: prefix})
	if err != nil {
		return nil, fmt.Errorf("%w: watch cache: %v", ErrInvalid, err)
	}
	// The cache outlives the Watch call that started it: it runs until
	// Close, on a context of its own.
	runCtx, cancel := context.WithCancel(context.Background())
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		_ = bc.Run(runCtx)
	}()
	c.b, c.ended, c.cancel = bc, ended, cancel
	return bc, nil
}

// subscribe returns a watcher of every change under the store's prefix after
// afterRev (0: after the backend's current revision): from the cache when
// it still holds afterRev, else from the backend directly.
func (c *watchCache) subscribe(ctx context.Context, b Backend, prefix string, afterRev int64, bookmarks bool) (watch.Watcher[KV], error) {
	bc, err := c.broadcaster(ctx, b, prefix)
	if err != nil {
		return nil, err
	}
	if afterRev == 0 {
		if afterRev, err = b.Revision(ctx); err != nil {
			return nil, err
		}
	}
	var opts []watch.SubscribeOption
	if bookmarks {
		opts = append(opts, watch.WithBookmarks())
	}
	w, err := bc.Subscribe(ctx, afterRev, opts...)
	if errors.Is(err, watch.ErrGone) || errors.Is(err, watch.ErrClosed) {
		// Older than the cache's window, or the cache just ended: the
		// backend may still have that history.
		return b.Watch(ctx, prefix, afterRev)
	}
	return w, err
}

// close stops the cache; its watchers end with watch.ErrClosed.
func (c *watchCache) close() {
	c.mu.Lock()
	if !c.closed {
		close(c.done)
	}
	c.closed = true
	cancel, ended := c.cancel, c.ended
	c.b = nil
	c.mu.Unlock()
	if cancel != nil {
		cancel()
		<-ended
	}
}

// Close stops the store's watch cache (see WithWatchCache); every watch of
// the store ends with watch.ErrClosed (also those served by their own
// backend watch), and later Watch calls fail. A store without a
// watch cache has nothing to stop. Close does not close the backend.
func (s *Store[T]) Close() error {
	if s.cache != nil {
		s.cache.close()
	}
	return nil
}
