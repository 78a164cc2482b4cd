package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/etcd"
	"github.com/setpoint-dev/setpoint/store/etcdtest"
)

// TestWatchCacheChaosOnEtcd is field case 16 on real etcd: rounds of writes,
// a compaction past an idle resource's last event, and an etcd restart. The
// idle resource's watch cache cannot resume its etcd watch, so it starts
// again at the current revision (its watchers relist), while a busy
// resource's cache resumes; informers over both stores keep seeing every
// event, and their caches equal a fresh list after every round.
func TestWatchCacheChaosOnEtcd(t *testing.T) {
	// Default progress notifications (every 10 minutes): the idle cache's
	// revision stays at its last event, as in the field.
	cluster := etcdtest.StartCluster(t, 1)
	backend := etcd.New(cluster.Client())
	reg := prometheus.NewRegistry()
	cacheCfg := store.WatchCacheConfig{MinBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
	newStore := func(name string) *store.Store[*Pod] {
		st, err := store.New[*Pod](backend, store.Resource{Name: name, APIVersion: "v1", Kind: "Pod", Namespaced: true},
			store.WithKeyPrefix("/chaos16"), store.WithRegisterer(reg), store.WithWatchCache(cacheCfg))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	idle, busy := newStore("idles"), newStore("busies")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	type watched struct {
		st  *store.Store[*Pod]
		inf *informer.Informer[*Pod]
	}
	var all []watched
	for _, st := range []*store.Store[*Pod]{idle, busy} {
		inf, err := informer.New[*Pod](st, informer.Config[*Pod]{
			Name:    st.Resource().Name,
			Backoff: informer.Backoff{Initial: 5 * time.Millisecond, Max: 100 * time.Millisecond},
		})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		runCtx, stop := context.WithCancel(ctx)
		go func() { done <- inf.Run(runCtx) }()
		t.Cleanup(func() {
			stop()
			if err := <-done; err != nil {
				t.Errorf("informer Run: %v", err)
			}
		})
		if err := inf.WaitForSync(ctx); err != nil {
			t.Fatal(err)
		}
		all = append(all, watched{st, inf})
	}
	// create retries while etcd restarts.
	create := func(st *store.Store[*Pod], name string) int64 {
		t.Helper()
		for {
			p, err := st.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: name}})
			if err == nil {
				rev, _ := store.ParseRevision(p.ResourceVersion)
				return rev
			}
			if ctx.Err() != nil {
				t.Fatalf("create %s: %v", name, err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	// caughtUp waits for every informer to reach the revision of its
	// store's last write, and compares its cache with a fresh list.
	caughtUp := func(round int, revs ...int64) {
		t.Helper()
		for i, w := range all {
			rev := revs[i]
			if err := w.inf.WaitForRevision(ctx, rev); err != nil {
				t.Fatalf("round %d: informer %s never reached revision %d: %v (last error %v)", round, w.st.Resource().Name, rev, err, w.inf.LastError())
			}
			l, err := w.st.List(ctx, "", store.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var want, got []string
			for _, p := range l.Items {
				want = append(want, p.Name+"@"+p.ResourceVersion)
			}
			for _, p := range w.inf.List() {
				got = append(got, p.Name+"@"+p.ResourceVersion)
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(want, got) {
				t.Fatalf("round %d: informer %s has %v, the store %v", round, w.st.Resource().Name, got, want)
			}
		}
	}
	const rounds = 3
	for round := range rounds {
		idleRev := create(idle, fmt.Sprintf("idle-%d", round))
		var last int64
		for i := range 20 {
			last = create(busy, fmt.Sprintf("busy-%d-%d", round, i))
		}
		caughtUp(round, idleRev, last)
		// The idle resource goes quiet; the busy one writes on; compact
		// past the idle one's last event, then restart etcd.
		for i := range 10 {
			last = create(busy, fmt.Sprintf("busy-%d-more-%d", round, i))
		}
		if err := backend.Compact(ctx, last); err != nil {
			t.Fatal(err)
		}
		if err := cluster.Stop(0); err != nil {
			t.Fatal(err)
		}
		if err := cluster.Restart(0); err != nil {
			t.Fatal(err)
		}
		idleRev = create(idle, fmt.Sprintf("idle-%d-after", round))
		last = create(busy, fmt.Sprintf("busy-%d-after", round))
		caughtUp(round, idleRev, last)
		// Both caches run again (a dead one would leave every watch to
		// its own etcd watch).
		for _, c := range []struct {
			st  *store.Store[*Pod]
			rev int64
		}{{idle, idleRev}, {busy, last}} {
			for deadline := time.Now().Add(30 * time.Second); c.st.WatchCache().Revision() < c.rev; {
				if time.Now().After(deadline) {
					t.Fatalf("round %d: the %s watch cache is at revision %d, not %d: it did not start again", round, c.st.Resource().Name, c.st.WatchCache().Revision(), c.rev)
				}
				select {
				case <-ctx.Done():
				case <-time.After(10 * time.Millisecond):
				}
			}
		}
	}
	rebuilds := 0.0
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "setpoint_store_watch_cache_rebuilds_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "resource" && l.GetValue() == "idles" {
					rebuilds = m.GetCounter().GetValue()
				}
			}
		}
	}
	if rebuilds < 1 {
		t.Fatalf("the idle resource's watch cache was rebuilt %v times: the chaos did not hit case 16", rebuilds)
	}
	t.Logf("idle cache rebuilt %v times in %d rounds", rebuilds, rounds)
}
