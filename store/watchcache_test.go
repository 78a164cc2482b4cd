package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/watch"
)

// countingBackend counts backend watches.
type countingBackend struct {
	*memory.Backend
	watches atomic.Int32
}

func (c *countingBackend) Watch(ctx context.Context, prefix string, afterRev int64) (watch.Watcher[store.KV], error) {
	c.watches.Add(1)
	return c.Backend.Watch(ctx, prefix, afterRev)
}

func nextEvent(t *testing.T, w watch.Watcher[*Pod]) watch.Event[*Pod] {
	t.Helper()
	select {
	case ev, ok := <-w.Events():
		if !ok {
			t.Fatalf("watch ended: %v", w.Err())
		}
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no event within 20s")
	}
	return watch.Event[*Pod]{}
}

func TestWatchCacheSharesOneBackendWatch(t *testing.T) {
	ctx := context.Background()
	b := &countingBackend{Backend: memory.New()}
	pods, err := store.New[*Pod](b, podResource, store.WithWatchCache(store.WatchCacheConfig{Window: 32}))
	if err != nil {
		t.Fatal(err)
	}
	const n = 10
	ws := make([]watch.Watcher[*Pod], n)
	start, _ := b.Revision(ctx)
	for i := range ws {
		if ws[i], err = pods.Watch(ctx, fmt.Sprint("ns", i), store.WatchOptions{AfterRevision: start}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if _, err := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: fmt.Sprint("ns", i), Name: "p"}}); err != nil {
			t.Fatal(err)
		}
	}
	for i, w := range ws {
		ev := nextEvent(t, w)
		if ev.Type != watch.Added || ev.Object.Namespace != fmt.Sprint("ns", i) || ev.Revision != start+int64(i)+1 {
			t.Fatalf("watcher %d got %v %s at %d", i, ev.Type, store.KeyOf(ev.Object), ev.Revision)
		}
	}
	if got := b.watches.Load(); got != 1 {
		t.Fatalf("%d backend watches for %d watchers, want 1", got, n)
	}
	// A start older than the cache's window falls back to its own backend
	// watch instead of failing.
	for i := range 60 {
		if _, err := pods.GuaranteedUpdate(ctx, "ns0", "p", func(p *Pod) (*Pod, error) {
			p.Spec.Image = fmt.Sprint(i)
			return p, nil
		}); err != nil {
			t.Fatal(err)
		}
		// Once ws[0] has seen them all, so has the cache, whose window has
		// moved past start. (ws[0] reads as it goes: a watcher whose
		// untaken events leave the window is cut off.)
		if ev := nextEvent(t, ws[0]); ev.Type != watch.Modified {
			t.Fatalf("ns0 watcher: %v", ev.Type)
		}
	}
	old, err := pods.Watch(ctx, "ns1", store.WatchOptions{AfterRevision: start})
	if err != nil {
		t.Fatalf("watch from before the window: %v", err)
	}
	if ev := nextEvent(t, old); ev.Revision != start+2 || ev.Object.Namespace != "ns1" {
		t.Fatalf("fallback watch: first event %v %s at %d", ev.Type, store.KeyOf(ev.Object), ev.Revision)
	}
	// (More than 2 if a watcher, descheduled on a loaded machine, fell out
	// of the tiny window and resumed through its own backend watch.)
	if got := b.watches.Load(); got < 2 {
		t.Fatalf("%d backend watches, want the cache's and a fallback", got)
	}
	old.Stop()
	// Close ends the cache's watchers and refuses new watches.
	if err := pods.Close(); err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		for range w.Events() {
		}
		if !errors.Is(w.Err(), watch.ErrClosed) {
			t.Fatalf("watcher after Close: %v", w.Err())
		}
	}
	if _, err := pods.Watch(ctx, "", store.WatchOptions{}); !errors.Is(err, watch.ErrClosed) {
		t.Fatalf("Watch after Close: err = %v", err)
	}
	if _, err := store.New[*Pod](b, podResource, store.WithWatchCache(store.WatchCacheConfig{Window: -1})); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("window 0: err = %v", err)
	}
}

// TestWatchCacheRestartsAfterCompaction: a compaction past the cache ends
// its watchers with ErrGone or ErrTooSlow (never skipping); the cache starts
// again by itself, and a client that relists and watches again is served.
func TestWatchCacheRestartsAfterCompaction(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	pods, _ := store.New[*Pod](b, podResource, store.WithWatchCache(store.WatchCacheConfig{Window: 8}))
	defer pods.Close()
	w, err := pods.Watch(ctx, "", store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Do not read, so the cache's watcher falls behind; then compact.
	var last int64
	for i := range 600 {
		p, err := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: fmt.Sprint("p", i)}})
		if err != nil {
			t.Fatal(err)
		}
		last, _ = store.ParseRevision(p.ResourceVersion)
	}
	if err := b.Compact(ctx, last); err != nil {
		t.Fatal(err)
	}
	// The first watcher ends (too slow or gone), never skipping.
	var prev int64
	for ev := range w.Events() {
		if prev != 0 && ev.Revision != prev+1 {
			t.Fatalf("gap: %d after %d", ev.Revision, prev)
		}
		prev = ev.Revision
	}
	if !errors.Is(w.Err(), watch.ErrGone) && !errors.Is(w.Err(), watch.ErrTooSlow) {
		t.Fatalf("first watcher ended with %v, want ErrGone or ErrTooSlow", w.Err())
	}
	// A client lists and watches again; a watch that caught the cache's
	// old generation as it ended gets ErrGone and does it again.
	for attempt := 0; ; attempt++ {
		l, err := pods.List(ctx, "", store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w2, err := pods.Watch(ctx, "", store.WatchOptions{AfterRevision: l.Revision})
		if err != nil {
			t.Fatal(err)
		}
		p, err := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: fmt.Sprint("after", attempt)}})
		if err != nil {
			t.Fatal(err)
		}
		ev, ok := <-w2.Events()
		w2.Stop()
		if !ok {
			if errors.Is(w2.Err(), watch.ErrGone) && attempt < 3 {
				continue
			}
			t.Fatalf("watch after compaction ended: %v", w2.Err())
		}
		if ev.Object.Name != p.Name || ev.Object.ResourceVersion != p.ResourceVersion {
			t.Fatalf("after compaction: %v %s", ev.Type, ev.Object.Name)
		}
		break
	}
}

// TestWatchCacheStress: writers and many watchers through a tiny cache
// window, so that watchers fall out of it; each one that is cut off
// (ErrTooSlow) watches again after the last revision it processed, as the
// contract says, and still sees exactly its namespace's writes, in order,
// none skipped or repeated.
func TestWatchCacheStress(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	pods, _ := store.New[*Pod](b, podResource, store.WithWatchCache(store.WatchCacheConfig{Window: 16}))
	defer pods.Close()
	start, _ := b.Revision(ctx)
	const writers, perWriter, watchersPerNS = 4, 50, 4
	namespaces := []string{"a", "b"}
	type sub struct {
		ns string
		w  watch.Watcher[*Pod]
	}
	var subs []sub
	for _, ns := range namespaces {
		for range watchersPerNS {
			w, err := pods.Watch(ctx, ns, store.WatchOptions{AfterRevision: start})
			if err != nil {
				t.Fatal(err)
			}
			subs = append(subs, sub{ns, w})
		}
	}
	revs := make(chan [2]any, writers*perWriter)
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ns := namespaces[g%len(namespaces)]
			for i := range perWriter {
				p, err := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("w%d-%d", g, i)}})
				if err != nil {
					t.Error(err)
					return
				}
				rv, _ := store.ParseRevision(p.ResourceVersion)
				revs <- [2]any{ns, rv}
			}
		}()
	}
	wg.Wait()
	close(revs)
	want := map[string][]int64{}
	for r := range revs {
		want[r[0].(string)] = append(want[r[0].(string)], r[1].(int64))
	}
	for _, ns := range namespaces {
		slices.Sort(want[ns])
	}
	var resumes atomic.Int32
	for i, s := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := s.w
			defer func() { w.Stop() }()
			last := start
			for j := 0; j < len(want[s.ns]); {
				select {
				case ev, ok := <-w.Events():
					if !ok {
						if !errors.Is(w.Err(), watch.ErrTooSlow) {
							t.Errorf("watcher %d (%s) ended after %d events: %v", i, s.ns, j, w.Err())
							return
						}
						resumes.Add(1)
						var err error
						if w, err = pods.Watch(ctx, s.ns, store.WatchOptions{AfterRevision: last}); err != nil {
							t.Errorf("watcher %d: resume after %d: %v", i, last, err)
							return
						}
						continue
					}
					if rev := want[s.ns][j]; ev.Revision != rev || ev.Object.Namespace != s.ns {
						t.Errorf("watcher %d (%s) event %d at %d in %s, want %d", i, s.ns, j, ev.Revision, ev.Object.Namespace, rev)
						return
					}
					last = ev.Revision
					j++
				case <-time.After(20 * time.Second):
					t.Errorf("watcher %d stalled after %d events", i, j)
					return
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d resumes after ErrTooSlow", resumes.Load())
}

// currentBackend is a memory backend that is a store.CurrentWatcher: it
// records the revision each WatchCurrent started after and each Range's
// revision, and writes a pod right after opening the watch (a write the
// watch must deliver and the load must not hold).
type currentBackend struct {
	*memory.Backend
	mu      sync.Mutex
	started []int64
	ranges  []int64
	watches int
}

func (c *currentBackend) WatchCurrent(ctx context.Context, prefix string) (watch.Watcher[store.KV], int64, error) {
	rev, err := c.Backend.Revision(ctx)
	if err != nil {
		return nil, 0, err
	}
	w, err := c.Backend.Watch(ctx, prefix, rev)
	if err != nil {
		return nil, 0, err
	}
	c.mu.Lock()
	c.started = append(c.started, rev)
	c.mu.Unlock()
	late, err := json.Marshal(&Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "late"}})
	if err != nil {
		return nil, 0, err
	}
	if _, err := c.Backend.Create(ctx, prefix+"ns/late", late); err != nil {
		w.Stop()
		return nil, 0, err
	}
	return w, rev, nil
}

func (c *currentBackend) Watch(ctx context.Context, prefix string, afterRev int64) (watch.Watcher[store.KV], error) {
	c.mu.Lock()
	c.watches++
	c.mu.Unlock()
	return c.Backend.Watch(ctx, prefix, afterRev)
}

func (c *currentBackend) Range(ctx context.Context, prefix string, opts store.RangeOptions) (store.RangeResult, error) {
	c.mu.Lock()
	c.ranges = append(c.ranges, opts.Revision)
	c.mu.Unlock()
	return c.Backend.Range(ctx, prefix, opts)
}

// TestWatchCacheOpensItsWatchBeforeLoading: on a CurrentWatcher backend
// the cache opens its backend watch first, loads the state at exactly the
// revision that watch starts after, and uses that watch (no second one),
// so a write between the two is in the cache once.
func TestWatchCacheOpensItsWatchBeforeLoading(t *testing.T) {
	ctx := context.Background()
	b := &currentBackend{Backend: memory.New()}
	pods, err := store.New[*Pod](b, podResource, store.WithWatchCache(store.WatchCacheConfig{}))
	if err != nil {
		t.Fatal(err)
	}
	defer pods.Close()
	if _, err := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "early"}}); err != nil {
		t.Fatal(err)
	}
	// The store's cache starts with its first watch.
	w, err := pods.Watch(ctx, "ns", store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var names []string
	deadline := time.Now().Add(20 * time.Second)
	for {
		l, err := pods.WatchCache().List(ctx, "ns", store.CachedListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		names = names[:0]
		for _, it := range l.Items {
			names = append(names, it.Object.Name)
		}
		if l.FromCache && len(names) == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if fmt.Sprint(names) != "[early late]" {
		b.mu.Lock()
		t.Fatalf("cached list %v, want [early late] (watches from %v, %d Watch calls, ranges at %v)", names, b.started, b.watches, b.ranges)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.started) != 1 || b.watches != 0 {
		t.Fatalf("%d WatchCurrent and %d Watch calls, want 1 and 0", len(b.started), b.watches)
	}
	if len(b.ranges) == 0 || b.ranges[0] != b.started[0] {
		t.Fatalf("the load read revisions %v, want first %d (the watch's start)", b.ranges, b.started[0])
	}
}
