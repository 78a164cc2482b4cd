package store_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/etcd"
	"github.com/setpoint-dev/setpoint/store/etcdtest"
	"github.com/setpoint-dev/setpoint/store/memory"
)

// runCache runs a watch cache of st until the test ends, and returns once
// it has loaded the current state (a watch waits for that).
func runCache(t *testing.T, st *store.Store[*Pod], cfg store.WatchCacheConfig) *store.WatchCache[*Pod] {
	t.Helper()
	c, err := store.NewWatchCache(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watch cache Run: %v", err)
		}
	})
	w, err := c.Watch(ctx, "", store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.Stop()
	return c
}

func etcdPods(t *testing.T, prefix string) (*store.Store[*Pod], *etcd.Backend) {
	t.Helper()
	srv := etcdtest.Start(t)
	b := etcd.New(srv.Client())
	st, err := store.New[*Pod](b, podResource, store.WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	return st, b
}

func itemsJSON(t *testing.T, items any) string {
	t.Helper()
	b, err := json.Marshal(items)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCachedListEqualsEtcdList: for random histories of creates, updates
// and deletes with labels, every cache-served list (random namespace,
// label selector, field filter and page size, with writes between the
// pages) equals etcd's list at the same revision, page by page, continue
// tokens included.
func TestCachedListEqualsEtcdList(t *testing.T) {
	ctx := context.Background()
	st, _ := etcdPods(t, "/lcprop")
	c := runCache(t, st, store.WatchCacheConfig{})
	rng := rand.New(rand.NewPCG(19, uint64(time.Now().UnixNano())))
	namespaces := []string{"a", "b", "c"}
	selectors := []string{"", "app=x", "app!=x", "app in (x,y),tier", "!tier", "tier=front,app=z"}
	images := []string{"i0", "i1", "i2"}
	randomWrites := func(n int) {
		for range n {
			ns, name := namespaces[rng.IntN(len(namespaces))], fmt.Sprint("p", rng.IntN(25))
			labels := map[string]string{"app": []string{"x", "y", "z"}[rng.IntN(3)]}
			if rng.IntN(2) == 0 {
				labels["tier"] = []string{"front", "back"}[rng.IntN(2)]
			}
			image := images[rng.IntN(len(images))]
			_, err := st.Get(ctx, ns, name)
			switch {
			case errors.Is(err, store.ErrNotFound):
				_, err = st.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: ns, Name: name, Labels: labels}, Spec: PodSpec{Image: image}})
			case err == nil && rng.IntN(3) == 0:
				_, err = st.Delete(ctx, ns, name)
			case err == nil:
				_, err = st.GuaranteedUpdate(ctx, ns, name, func(p *Pod) (*Pod, error) {
					p.Labels, p.Spec.Image = labels, image
					return p, nil
				})
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	fromCache, fromEtcd := 0, 0
	for round := range 6 {
		randomWrites(40)
		for q := range 12 {
			ns := ""
			if rng.IntN(2) == 0 {
				ns = namespaces[rng.IntN(len(namespaces))]
			}
			sel, err := store.ParseSelector(selectors[rng.IntN(len(selectors))])
			if err != nil {
				t.Fatal(err)
			}
			var filter func(store.Object) bool
			if rng.IntN(3) == 0 {
				image := images[rng.IntN(len(images))]
				filter = func(o store.Object) bool { return o.(*Pod).Spec.Image != image }
			}
			limit := int64(rng.IntN(8))
			opts := store.CachedListOptions{ListOptions: store.ListOptions{Selector: sel, Filter: filter, Limit: limit}}
			switch rng.IntN(3) {
			case 0:
				opts.AnyRevision = true
			case 1:
				opts.MinRevision = c.Revision()
			}
			what := fmt.Sprintf("round %d query %d: ns %q selector %q limit %d", round, q, ns, sel, limit)
			got, err := c.List(ctx, ns, opts)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if !got.FromCache {
				t.Fatalf("%s: first page not served from the cache", what)
			}
			for page := 0; ; page++ {
				want, err := st.List(ctx, ns, store.ListOptions{Selector: sel, Filter: filter, Limit: limit, Revision: got.Revision, Continue: opts.Continue})
				if err != nil {
					t.Fatalf("%s page %d: etcd: %v", what, page, err)
				}
				if g, w := itemsJSON(t, got.Items), itemsJSON(t, want.Items); g != w {
					t.Fatalf("%s page %d at %d:\ncache %s\netcd  %s", what, page, got.Revision, g, w)
				}
				if got.Revision != want.Revision || got.Continue != want.Continue {
					t.Fatalf("%s page %d: cache revision %d continue %q, etcd %d %q", what, page, got.Revision, got.Continue, want.Revision, want.Continue)
				}
				if got.FromCache {
					fromCache++
				} else {
					fromEtcd++
				}
				if got.Continue == "" {
					break
				}
				if rng.IntN(2) == 0 {
					randomWrites(3) // the next page is still at the first page's revision
				}
				opts = store.CachedListOptions{ListOptions: store.ListOptions{Selector: sel, Filter: filter, Limit: limit, Continue: got.Continue}}
				if got, err = c.List(ctx, ns, opts); err != nil {
					t.Fatalf("%s page %d: %v", what, page+1, err)
				}
				if !got.FromCache {
					t.Fatalf("%s page %d: a continue of a list the cache served was not served from its snapshot", what, page+1)
				}
			}
		}
	}
	if fromCache == 0 {
		t.Fatal("no page was served from the cache")
	}
}

// TestCachedListFallbacks: Exact at an old revision and continue tokens
// the cache has no snapshot for are read from etcd (or 410 once
// compacted), as Store.List does; bad tokens are ErrInvalid naming the
// token; etcd's tokens work on the cache and the cache's on etcd.
func TestCachedListFallbacks(t *testing.T) {
	ctx := context.Background()
	st, b := etcdPods(t, "/lcfall")
	for i := range 5 {
		if _, err := st.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: fmt.Sprint("p", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	c := runCache(t, st, store.WatchCacheConfig{})
	old, err := c.List(ctx, "ns", store.CachedListOptions{})
	if err != nil || !old.FromCache || len(old.Items) != 5 {
		t.Fatalf("consistent list: %+v, %v", old, err)
	}
	// An etcd token, taken before the cache moves on, is served by the
	// cache's etcd fallback at its revision afterwards.
	etcdPage, err := st.List(ctx, "ns", store.ListOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "p9"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.List(ctx, "", store.CachedListOptions{}); err != nil { // the cache has seen p9
		t.Fatal(err)
	}
	next, err := c.List(ctx, "ns", store.CachedListOptions{ListOptions: store.ListOptions{Limit: 2, Continue: etcdPage.Continue}})
	if err != nil {
		t.Fatal(err)
	}
	if next.FromCache || next.Revision != old.Revision || len(next.Items) != 2 || next.Items[0].Object.Name != "p2" {
		t.Fatalf("etcd token on the cache: from cache %v, revision %d (want %d), %d items", next.FromCache, next.Revision, old.Revision, len(next.Items))
	}
	// The cache's token works on etcd.
	cachePage, err := c.List(ctx, "ns", store.CachedListOptions{ListOptions: store.ListOptions{Limit: 4}})
	if err != nil || !cachePage.FromCache || cachePage.Continue == "" {
		t.Fatalf("paged cache list: %+v, %v", cachePage, err)
	}
	rest, err := st.List(ctx, "ns", store.ListOptions{Continue: cachePage.Continue})
	if err != nil || len(rest.Items) != 2 || rest.Revision != cachePage.Revision {
		t.Fatalf("cache token on etcd: %+v, %v", rest, err)
	}
	// Exact: at the cache's revision from the cache, older from etcd.
	exact, err := c.List(ctx, "ns", store.CachedListOptions{ListOptions: store.ListOptions{Revision: old.Revision}})
	if err != nil || exact.FromCache || len(exact.Items) != 5 {
		t.Fatalf("exact at an old revision: %+v, %v", exact, err)
	}
	exact, err = c.List(ctx, "ns", store.CachedListOptions{ListOptions: store.ListOptions{Revision: cachePage.Revision}})
	if err != nil || !exact.FromCache || len(exact.Items) != 6 {
		t.Fatalf("exact at the cache's revision: %+v, %v", exact, err)
	}
	// Compacted: the etcd token's revision is gone, and the cache has no
	// snapshot of it.
	if _, err := st.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "p10"}}); err != nil {
		t.Fatal(err)
	}
	cur, _ := b.Revision(ctx)
	if err := b.Compact(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if _, err := c.List(ctx, "ns", store.CachedListOptions{ListOptions: store.ListOptions{Continue: etcdPage.Continue}}); !errors.Is(err, store.ErrGone) {
		t.Fatalf("compacted continue token: %v, want ErrGone", err)
	}
	if _, err := c.List(ctx, "ns", store.CachedListOptions{ListOptions: store.ListOptions{Revision: old.Revision}}); !errors.Is(err, store.ErrGone) {
		t.Fatalf("exact at a compacted revision: %v, want ErrGone", err)
	}
	// The cache's own snapshot outlives the compaction.
	kept, err := c.List(ctx, "ns", store.CachedListOptions{ListOptions: store.ListOptions{Continue: cachePage.Continue}})
	if err != nil || !kept.FromCache || len(kept.Items) != 2 {
		t.Fatalf("continue of a kept snapshot after compaction: %+v, %v", kept, err)
	}
	// Bad tokens and arguments.
	foreign, _ := json.Marshal(struct {
		Rev   int64  `json:"rev"`
		Start []byte `json:"start"`
	}{5, []byte("/other/pods/ns/p0")})
	for _, tok := range []string{"!!", "e30", base64.RawURLEncoding.EncodeToString(foreign)} {
		_, err := c.List(ctx, "ns", store.CachedListOptions{ListOptions: store.ListOptions{Continue: tok}})
		var fe *store.FieldError
		if !errors.Is(err, store.ErrInvalid) || !errors.As(err, &fe) || fe.Field != "continue" {
			t.Fatalf("token %q: %v, want ErrInvalid on continue", tok, err)
		}
	}
	if _, err := c.List(ctx, "ns", store.CachedListOptions{MinRevision: -1}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("negative MinRevision: %v", err)
	}
	if _, err := c.List(ctx, "Bad_NS", store.CachedListOptions{}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad namespace: %v", err)
	}
}

// noProgress hides the backend's RequestProgress.
type noProgress struct{ store.Backend }

// TestCachedListWaitsThenFallsBack: on a backend without progress
// notifications, a consistent list waits for the cache (which has not seen
// the write to another resource) for ListWait on the injected clock, then
// reads the backend; resourceVersion "0" is served at once from the cache.
func TestCachedListWaitsThenFallsBack(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	clock := clockwork.NewFakeClock()
	pods, err := store.New[*Pod](noProgress{b}, podResource)
	if err != nil {
		t.Fatal(err)
	}
	others, err := store.New[*Pod](b, store.Resource{Name: "others", APIVersion: "v1", Kind: "Pod", Namespaced: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "p"}}); err != nil {
		t.Fatal(err)
	}
	c := runCache(t, pods, store.WatchCacheConfig{Clock: clock, ListWait: time.Second})
	if _, err := others.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "o"}}); err != nil {
		t.Fatal(err)
	}
	cur, _ := b.Revision(ctx)
	any0, err := c.List(ctx, "", store.CachedListOptions{AnyRevision: true})
	if err != nil || !any0.FromCache || any0.Revision >= cur || len(any0.Items) != 1 {
		t.Fatalf("resourceVersion 0: %+v, %v (backend at %d)", any0, err, cur)
	}
	type result struct {
		l   *store.EncodedList[*Pod]
		err error
	}
	done := make(chan result, 1)
	go func() {
		l, err := c.List(ctx, "", store.CachedListOptions{})
		done <- result{l, err}
	}()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		t.Fatalf("the list did not wait: %+v, %v", r.l, r.err)
	default:
	}
	clock.Advance(time.Second)
	r := <-done
	if r.err != nil || r.l.FromCache || r.l.Revision != cur || len(r.l.Items) != 1 {
		t.Fatalf("after the wait: %+v, %v; want the backend's list at %d", r.l, r.err, cur)
	}
}

// TestConsistentCachedListStress: writers update their own pods while
// another resource is written too (so the pods' cache learns etcd's
// revision only from progress notifications); every consistent list
// started after a write was acknowledged shows that write or a later one.
func TestConsistentCachedListStress(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, b := etcdPods(t, "/lcstress")
	others, err := store.New[*Pod](b, store.Resource{Name: "others", APIVersion: "v1", Kind: "Pod", Namespaced: true}, store.WithKeyPrefix("/lcstress"))
	if err != nil {
		t.Fatal(err)
	}
	const writers, writes, listers = 4, 60, 3
	acked := make([]atomic.Int64, writers)
	for i := range writers {
		if _, err := st.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: fmt.Sprint("w", i)}, Spec: PodSpec{Image: "0"}}); err != nil {
			t.Fatal(err)
		}
	}
	c := runCache(t, st, store.WatchCacheConfig{})
	var wg sync.WaitGroup
	var writing atomic.Int32
	writing.Store(writers + 1)
	errs := make(chan error, writers+listers+1)
	for i := range writers {
		wg.Go(func() {
			defer writing.Add(-1)
			for n := 1; n <= writes; n++ {
				if _, err := st.GuaranteedUpdate(ctx, "ns", fmt.Sprint("w", i), func(p *Pod) (*Pod, error) {
					p.Spec.Image = strconv.Itoa(n)
					return p, nil
				}); err != nil {
					errs <- err
					return
				}
				acked[i].Store(int64(n))
			}
		})
	}
	wg.Go(func() {
		defer writing.Add(-1)
		for n := range writes * 2 {
			if _, err := others.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: fmt.Sprint("o", n)}}); err != nil {
				errs <- err
				return
			}
		}
	})
	var fromCache, lists atomic.Int64
	for range listers {
		wg.Go(func() {
			for writing.Load() > 0 {
				var before [writers]int64
				for i := range before {
					before[i] = acked[i].Load()
				}
				l, err := c.List(ctx, "ns", store.CachedListOptions{})
				if err != nil {
					errs <- err
					return
				}
				lists.Add(1)
				if l.FromCache {
					fromCache.Add(1)
				}
				for _, it := range l.Items {
					var i int
					if _, err := fmt.Sscanf(it.Object.Name, "w%d", &i); err != nil {
						errs <- fmt.Errorf("unexpected pod %s", it.Object.Name)
						return
					}
					if got, _ := strconv.ParseInt(it.Object.Spec.Image, 10, 64); got < before[i] {
						errs <- fmt.Errorf("list at %d (from cache %v) shows write %d of pod w%d, but write %d was acknowledged before it started", l.Revision, l.FromCache, got, i, before[i])
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if lists.Load() == 0 || fromCache.Load()*2 < lists.Load() {
		t.Fatalf("%d of %d consistent lists were served from the cache; want most", fromCache.Load(), lists.Load())
	}
}

// TestCachedListProgressOnMemory: the memory backend's progress
// notifications bring the cache to the backend's revision after writes to
// another resource, so consistent lists are served from the cache.
func TestCachedListProgressOnMemory(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	pods, err := store.New[*Pod](b, podResource)
	if err != nil {
		t.Fatal(err)
	}
	others, err := store.New[*Pod](b, store.Resource{Name: "others", APIVersion: "v1", Kind: "Pod", Namespaced: true})
	if err != nil {
		t.Fatal(err)
	}
	c := runCache(t, pods, store.WatchCacheConfig{ListWait: time.Hour})
	for i := range 3 {
		if _, err := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: fmt.Sprint("p", i)}}); err != nil {
			t.Fatal(err)
		}
		if _, err := others.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: fmt.Sprint("o", i)}}); err != nil {
			t.Fatal(err)
		}
		cur, _ := b.Revision(ctx)
		l, err := c.List(ctx, "ns", store.CachedListOptions{})
		if err != nil || !l.FromCache || l.Revision < cur || len(l.Items) != i+1 {
			t.Fatalf("consistent list after write %d: %+v, %v (backend at %d)", i, l, err, cur)
		}
	}
}
