package informer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/embedetcd"
	"github.com/setpoint-dev/setpoint/store/etcd"
	"github.com/setpoint-dev/setpoint/store/etcdtest"
	"github.com/setpoint-dev/setpoint/watch"
)

var podResource = store.Resource{Name: "pods", APIVersion: "v1", Kind: "Pod", Namespaced: true}

// breakable wraps a typed store so the test can cut every open watch, and
// hold new watches back while it compacts.
type breakable struct {
	*store.Store[*pod]
	gate    sync.RWMutex // write-held while compacting: Watch waits
	mu      sync.Mutex
	cancels []context.CancelFunc
	breaks  atomic.Int64
}

func (b *breakable) Watch(ctx context.Context, ns string, opts store.WatchOptions) (watch.Watcher[*pod], error) {
	b.gate.RLock()
	defer b.gate.RUnlock()
	wctx, cancel := context.WithCancel(ctx)
	b.mu.Lock()
	b.cancels = append(b.cancels, cancel)
	b.mu.Unlock()
	inner, err := b.Store.Watch(wctx, ns, opts)
	if err != nil {
		cancel()
		return nil, err
	}
	// Forward events until broken; nothing is forwarded once breakAll has
	// returned, so a write after it is never seen on this stream.
	outer := watch.NewStream[*pod](16)
	go func() {
		defer inner.Stop()
		for {
			select {
			case ev, ok := <-inner.Events():
				if !ok {
					outer.Close(inner.Err())
					return
				}
				if wctx.Err() != nil || !outer.Send(wctx, ev) {
					outer.Close(errBroken)
					return
				}
			case <-wctx.Done():
				outer.Close(errBroken)
				return
			case <-outer.Done():
				outer.Close(nil)
				return
			}
		}
	}()
	return outer, nil
}

var errBroken = errors.New("test broke the watch stream")

// breakAll ends every open watch stream.
func (b *breakable) breakAll() {
	b.mu.Lock()
	for _, c := range b.cancels {
		c()
	}
	b.cancels = nil
	b.mu.Unlock()
	b.breaks.Add(1)
}

// TestChaosOnEmbeddedEtcd: writers create, update and delete a few thousand
// objects in real etcd while the test breaks watch streams, compacts
// (forcing relists) and restarts the server. At the end the cache equals a
// fresh list exactly, and every handler's events replay to that list with
// no duplicate add and no missed delete.
func TestChaosOnEmbeddedEtcd(t *testing.T) {
	cluster := etcdtest.StartCluster(t, 1, func(c *embedetcd.Config) {
		c.WatchProgressNotifyInterval = 200 * time.Millisecond
	})
	backend := etcd.New(cluster.Client())
	st, err := store.New[*pod](backend, podResource, store.WithKeyPrefix("/chaos"))
	if err != nil {
		t.Fatal(err)
	}
	src := &breakable{Store: st}
	inf := mustNew(t, src, Config[*pod]{
		Name:     "chaos",
		PageSize: 50,
		Backoff:  Backoff{Initial: 2 * time.Millisecond, Max: 20 * time.Millisecond},
		Indexers: map[string]IndexFunc[*pod]{"node": nodeIndex},
	})
	steady := &recorder{}
	if _, err := inf.AddHandler(steady); err != nil {
		t.Fatal(err)
	}
	startInformer(t, inf)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}

	const writers, opsPerWriter, keysPerWriter = 4, 600, 40
	var wg sync.WaitGroup
	var writes, failures atomic.Int64
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := 0; i < opsPerWriter; i++ {
				name := fmt.Sprintf("w%d-%d", w, r.IntN(keysPerWriter))
				ns := fmt.Sprint("ns", r.IntN(3))
				if err := chaosWrite(st, r, ns, name, i); err != nil {
					failures.Add(1) // outcome unknown (server down): the final list is the truth
					time.Sleep(5 * time.Millisecond)
					continue
				}
				writes.Add(1)
			}
		}(w)
	}
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()

	// Chaos until the writers finish.
	var compactions, restarts int
	for round := 0; ; round++ {
		select {
		case <-writersDone:
		case <-time.After(20 * time.Millisecond):
		}
		select {
		case <-writersDone:
		default:
			switch {
			case round%15 == 14 && restarts < 2:
				if err := cluster.Stop(0); err != nil {
					t.Fatal(err)
				}
				time.Sleep(100 * time.Millisecond)
				if err := cluster.Restart(0); err != nil {
					t.Fatal(err)
				}
				restarts++
			case round%4 == 3:
				// Cut the watch, write, and compact before the informer can
				// resume: its revision is gone, so it must relist.
				src.gate.Lock()
				src.breakAll()
				if err := chaosCompact(st, backend); err == nil {
					compactions++
				}
				src.gate.Unlock()
			default:
				src.breakAll()
			}
			continue
		}
		break
	}
	t.Logf("writes %d (failed %d), watch breaks %d, compactions %d, restarts %d, relists %d",
		writes.Load(), failures.Load(), src.breaks.Load(), compactions, restarts, inf.stats.relists.Load())
	if writes.Load() < writers*opsPerWriter/2 {
		t.Fatalf("only %d of %d writes succeeded", writes.Load(), writers*opsPerWriter)
	}
	if restarts == 0 || compactions == 0 {
		t.Fatalf("chaos did not happen: %d restarts, %d compactions (writers too fast?)", restarts, compactions)
	}

	// A handler added after the chaos, and the steady one, must both agree
	// with a fresh list.
	late := &recorder{}
	lateReg, err := inf.AddHandler(late)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var want map[string]string
	var rev int64
	for {
		l, err := st.List(ctx, "", store.ListOptions{})
		if err == nil {
			want = map[string]string{}
			for _, o := range l.Items {
				want[store.KeyOf(o)] = o.ResourceVersion
			}
			rev = l.Revision
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("final list: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := inf.WaitForRevision(ctx, rev); err != nil {
		t.Fatalf("cache never reached the final revision: %v (last error %v)", err, inf.LastError())
	}
	if d := diffModels(want, cacheModel(inf.Cache())); d != "" {
		t.Fatalf("cache differs from a fresh list at revision %d: %s", rev, d)
	}
	waitFor(t, "handlers drained", func() bool { return inf.metricSample().queueDepth == 0 && lateReg.HasSynced() })
	for name, rec := range map[string]*recorder{"steady": steady, "late": late} {
		if d := diffModels(want, replay(t, rec.snapshot())); d != "" {
			t.Fatalf("%s handler's events do not replay to the final list: %s", name, d)
		}
	}
	if inf.stats.relists.Load() == 0 {
		t.Fatal("compactions never forced a relist")
	}
}

// chaosWrite creates, updates or deletes one object.
func chaosWrite(st *store.Store[*pod], r *rand.Rand, ns, name string, i int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p := newPod(ns, name, i)
	p.Spec.NodeName = fmt.Sprint("n", r.IntN(4))
	_, err := st.Create(ctx, p)
	if !errors.Is(err, store.ErrAlreadyExists) {
		return err
	}
	if r.IntN(3) == 0 {
		_, err = st.Delete(ctx, ns, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	_, err = st.GuaranteedUpdate(ctx, ns, name, func(cur *pod) (*pod, error) {
		cur.Spec.Value = i
		cur.Spec.NodeName = p.Spec.NodeName
		return cur, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// chaosCompact writes a marker object twice and compacts at the resulting
// revision, so any watch resuming from before it gets ErrGone.
func chaosCompact(st *store.Store[*pod], b store.Backend) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Two writes: etcd still serves a watch from the compaction revision
	// itself, so one write would not put the informer's revision out of reach.
	for i := 0; i < 2; i++ {
		if _, err := st.GuaranteedUpdate(ctx, "marker", "m", func(cur *pod) (*pod, error) {
			cur.Spec.Value++
			return cur, nil
		}); errors.Is(err, store.ErrNotFound) {
			if _, err := st.Create(ctx, newPod("marker", "m", 0)); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
	}
	rev, err := b.Revision(ctx)
	if err != nil {
		return err
	}
	return b.Compact(ctx, rev)
}

// TestReadYourWritesOnEtcd: on real etcd, WaitForRevision returns once the
// cache holds the caller's write; for a write the informer's watch does not
// cover (another namespace), etcd's progress notifications (bookmarks) move
// the cache's revision on.
func TestReadYourWritesOnEtcd(t *testing.T) {
	srv := etcdtest.Start(t, func(c *embedetcd.Config) {
		c.WatchProgressNotifyInterval = 100 * time.Millisecond
	})
	st, err := store.New[*pod](etcd.New(srv.Client()), podResource, store.WithKeyPrefix("/ryw"))
	if err != nil {
		t.Fatal(err)
	}
	inf := mustNew(t, st, Config[*pod]{Namespace: "a"})
	startInformer(t, inf)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := inf.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		p, err := st.Create(ctx, newPod("a", fmt.Sprint("p", i), i))
		if err != nil {
			t.Fatal(err)
		}
		rev, _ := store.ParseRevision(p.ResourceVersion)
		if err := inf.WaitForRevision(ctx, rev); err != nil {
			t.Fatal(err)
		}
		if got, ok := inf.Get("a", p.Name); !ok || got.ResourceVersion != p.ResourceVersion {
			t.Fatalf("after WaitForRevision(%d) the cache has %v, %v", rev, got, ok)
		}
	}
	other, err := st.Create(ctx, newPod("b", "elsewhere", 0))
	if err != nil {
		t.Fatal(err)
	}
	rev, _ := store.ParseRevision(other.ResourceVersion)
	if err := inf.WaitForRevision(ctx, rev); err != nil {
		t.Fatalf("a write outside the informer's namespace never became visible through bookmarks: %v", err)
	}
	if _, ok := inf.Get("b", "elsewhere"); ok {
		t.Fatal("object from another namespace cached")
	}
}
