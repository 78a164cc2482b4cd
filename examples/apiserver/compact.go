package apiserver

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/store"
)

// DefaultCompactionInterval is how often the apiserver compacts storage,
// as Kubernetes' apiserver does (--etcd-compaction-interval).
const DefaultCompactionInterval = 5 * time.Minute

// compactor compacts the backend's history every interval, up to the
// revision it saw one interval before: a watch that reconnects within an
// interval can resume, and history never grows without bound (an etcd
// that is never compacted fills its quota and refuses every write).
// Compaction frees space inside etcd's database for reuse; giving it back
// to the file system takes a defragmentation (see the README).
type compactor struct {
	b        store.Backend
	clock    clockwork.Clock
	interval time.Duration
	log      *slog.Logger
	// ticked, if set, is called at the end of each interval with the
	// revision compacted (0: none) and the error (tests).
	ticked func(compacted int64, err error)
}

// run compacts until ctx ends. A failed compaction is logged and tried
// again at the next interval; an already compacted revision (another
// apiserver compacted further) is no error.
func (c *compactor) run(ctx context.Context) error {
	t := c.clock.NewTicker(c.interval)
	defer t.Stop()
	var seen int64
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.Chan():
		}
		var compacted int64
		var err error
		if seen > 0 {
			err = c.b.Compact(ctx, seen)
			if errors.Is(err, store.ErrGone) {
				err = nil
			}
			if err != nil && ctx.Err() == nil {
				c.log.Warn("compacting storage failed; will retry", "revision", seen, "err", err)
			} else if err == nil {
				c.log.Debug("compacted storage", "revision", seen)
				compacted = seen
			}
		}
		if rev, rerr := c.b.Revision(ctx); rerr == nil {
			seen = rev
		} else if ctx.Err() == nil {
			c.log.Warn("reading the storage revision failed", "err", rerr)
		}
		if c.ticked != nil {
			c.ticked(compacted, err)
		}
	}
}
