package main

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// rawWatcher is the anchor of the watch benchmarks: one plain etcd watcher of
// a prefix, counting events until it has seen total of them.
type rawWatcher struct {
	// Warm is closed at the first event.
	Warm chan struct{}
	// Done receives nil after total events, or the error that ended the
	// watch first.
	Done chan error
	// End is when the last counted event arrived; read it only after Done
	// delivered nil.
	End time.Time
}

// startRawWatch watches prefix after startRev with cli and counts events.
func startRawWatch(ctx context.Context, cli *clientv3.Client, prefix string, startRev int64, total int) *rawWatcher {
	r := &rawWatcher{Warm: make(chan struct{}), Done: make(chan error, 1)}
	go func() {
		wch := cli.Watch(clientv3.WithRequireLeader(ctx), prefix, clientv3.WithPrefix(), clientv3.WithRev(startRev+1), clientv3.WithPrevKV())
		got := 0
		for resp := range wch {
			if err := resp.Err(); err != nil {
				r.Done <- err
				return
			}
			for range resp.Events {
				if got++; got == 1 {
					close(r.Warm)
				}
			}
			if got >= total {
				r.End = time.Now()
				r.Done <- nil
				return
			}
		}
		r.Done <- fmt.Errorf("raw watch ended after %d of %d events", got, total)
	}()
	return r
}
