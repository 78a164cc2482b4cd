package apiserver

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// stopAfterSync runs an informer-backed plugin until its cache has synced,
// then stops it, leaving a synced cache that sees nothing more: a cache
// behind the store, as another apiserver's writes leave it for a moment.
func stopAfterSync(t *testing.T, run func(context.Context) error, synced func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	for !synced() {
		select {
		case err := <-done:
			t.Fatalf("plugin stopped before its cache synced: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestAdmissionHoldsAgainstStaleCaches: the namespace and quota plugins
// decide from their caches and make the create conditional on what the
// cache showed, in the create's own transaction. With caches that stopped
// before another server's writes: a namespace that went Terminating, or a
// quota created, after the cache's revision still holds (403), and nothing
// is written; with nothing changed, the create goes through without a
// store read.
func TestAdmissionHoldsAgainstStaleCaches(t *testing.T) {
	b := memory.New()
	t.Cleanup(func() { b.Close() })
	rs, err := newResources(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"active", "doomed", "limited"} {
		createNamespace(t, rs, name, api.NamespaceActive)
	}
	l, err := newNamespaceLifecycle(rs.namespaces.st, discard)
	if err != nil {
		t.Fatal(err)
	}
	q, err := newResourceQuota(rs.quotas.st, rs.usage, discard)
	if err != nil {
		t.Fatal(err)
	}
	stopAfterSync(t, l.Run, l.cache.HasSynced)
	stopAfterSync(t, q.Run, q.cache.HasSynced)
	create := func(a rest.Attributes) error {
		return l.Validate(context.Background(), a, func(ctx context.Context) error {
			return q.Validate(ctx, a, func(ctx context.Context) error {
				_, err := rs.pods.st.Create(ctx, a.Object.(*api.Pod))
				return err
			})
		})
	}
	if err := create(podAttrs("active", "p1", "")); err != nil {
		t.Fatalf("create in an unchanged namespace: %v", err)
	}

	// another server marks "doomed" Terminating, and creates a quota
	// "pods: 0" in "limited"; neither cache sees it
	ns, err := rs.namespaces.st.Get(t.Context(), "", "doomed")
	if err != nil {
		t.Fatal(err)
	}
	ns.Status.Phase = api.NamespaceTerminating
	if _, err := rs.namespaces.st.Update(t.Context(), ns); err != nil {
		t.Fatal(err)
	}
	quota := registry.ResourceQuotaKind.New()
	quota.Namespace, quota.Name, quota.Spec.Hard = "limited", "none", api.ResourceList{"pods": api.MustParse("0")}
	if _, err := rs.quotas.st.Create(t.Context(), quota); err != nil {
		t.Fatal(err)
	}
	before, err := b.Revision(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := create(podAttrs("doomed", "p2", "")); statusCode(err) != 403 {
		t.Fatalf("create in a namespace that went Terminating behind the cache: %v, want 403", err)
	}
	if err := create(podAttrs("limited", "p3", "")); statusCode(err) != 403 {
		t.Fatalf("create under a quota the cache has not seen: %v, want 403", err)
	}
	if after, err := b.Revision(t.Context()); err != nil || after != before {
		t.Fatalf("refused creates wrote: revision %d -> %d (%v)", before, after, err)
	}
	if err := create(podAttrs("active", "p4", "")); err != nil {
		t.Fatalf("create in the unchanged namespace afterwards: %v", err)
	}
	for _, key := range [][2]string{{"doomed", "p2"}, {"limited", "p3"}} {
		if _, err := rs.pods.st.Get(t.Context(), key[0], key[1]); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("pod %s/%s: %v, want not found", key[0], key[1], err)
		}
	}
}
