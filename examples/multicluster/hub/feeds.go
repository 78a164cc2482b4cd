package hub

import (
	"context"
	"strings"
	"sync"
	"time"

	mc "github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/multicluster/internal/dynamic"
	"github.com/setpoint-dev/setpoint/reconcile"
)

// feedRetry is how long a feed watch waits before watching again after
// its stream failed or ended.
const feedRetry = time.Second

// feedWatches keeps one watch on each feed object some Subscription
// names; each event of one enqueues the Subscriptions naming it, so a
// change reaches their Descriptions without waiting for the resync. A
// watch stops when no Subscription names its object any more.
type feedWatches struct {
	d     *Deployer
	mu    sync.Mutex
	ctx   context.Context // Run's; nil before Run and after it
	wg    sync.WaitGroup
	byRef map[dynamic.Ref]*feedWatch
	bySub map[string][]dynamic.Ref // Subscription key -> its feeds
}

type feedWatch struct {
	cancel context.CancelFunc
	subs   map[string]bool // Subscription keys
}

// start lets set start watches, bound to ctx.
func (f *feedWatches) start(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctx = ctx
}

// stop ends every watch and waits for them.
func (f *feedWatches) stop() {
	f.mu.Lock()
	f.ctx = nil
	for ref, w := range f.byRef {
		w.cancel()
		delete(f.byRef, ref)
	}
	clear(f.bySub)
	f.mu.Unlock()
	f.wg.Wait()
}

// refsOf returns the feed objects sub names.
func refsOf(sub *mc.Subscription) []dynamic.Ref {
	var refs []dynamic.Ref
	for _, fd := range sub.Spec.Feeds {
		refs = append(refs, dynamic.Ref{APIVersion: fd.APIVersion, Kind: fd.Kind, Namespace: fd.Namespace, Name: fd.Name})
	}
	return refs
}

// set records that Subscription sub (its key) names refs (none: it is
// gone or invalid), starting and stopping watches to match.
func (f *feedWatches) set(sub string, refs []dynamic.Ref) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ctx == nil {
		return
	}
	for _, ref := range f.bySub[sub] {
		if w := f.byRef[ref]; w != nil {
			delete(w.subs, sub)
			if len(w.subs) == 0 {
				w.cancel()
				delete(f.byRef, ref)
			}
		}
	}
	delete(f.bySub, sub)
	if len(refs) == 0 {
		return
	}
	f.bySub[sub] = refs
	for _, ref := range refs {
		w := f.byRef[ref]
		if w == nil {
			ctx, cancel := context.WithCancel(f.ctx)
			w = &feedWatch{cancel: cancel, subs: map[string]bool{}}
			f.byRef[ref] = w
			f.wg.Add(1)
			go func() { defer f.wg.Done(); f.watch(ctx, ref) }()
		}
		w.subs[sub] = true
	}
}

// watch watches ref until ctx ends, enqueueing its Subscriptions at each
// event (the first of each watch is the object's current state, so
// nothing missed between two watches is lost).
func (f *feedWatches) watch(ctx context.Context, ref dynamic.Ref) {
	q := f.d.ctrl.Queue()
	for {
		err := f.d.feeds.Watch(ctx, ref, func(dynamic.Event) {
			f.mu.Lock()
			var subs []string
			if w := f.byRef[ref]; w != nil {
				for s := range w.subs {
					subs = append(subs, s)
				}
			}
			f.mu.Unlock()
			for _, s := range subs {
				ns, name, _ := strings.Cut(s, "/")
				q.Add(reconcile.Request{Namespace: ns, Name: name})
			}
		})
		if ctx.Err() != nil {
			return
		}
		f.d.log.Debug("feed watch ended, watching again", "feed", ref.String(), "err", err)
		select {
		case <-ctx.Done():
			return
		case <-f.d.cfg.Clock.After(feedRetry):
		}
	}
}
