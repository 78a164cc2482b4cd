package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
)

// TestPropagationFinalizers: a delete with a propagation policy sets the
// policy's finalizer in the same write that marks the object (Kubernetes'
// orphan and foregroundDeletion), a later delete can switch the policy,
// Background removes both (and then deletes an object left with no
// finalizer), a policy-less delete leaves finalizers alone, and another
// finalizer is kept through all of it.
func TestPropagationFinalizers(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	st, err := store.New[*ns](b, store.Resource{Name: "widgets", APIVersion: "v1", Kind: "Widget", Namespaced: true})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name string, finalizers ...string) {
		t.Helper()
		o := &ns{ObjectMeta: store.ObjectMeta{Namespace: "a", Name: name, Finalizers: finalizers}}
		if _, err := st.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	check := func(name string, want ...string) *ns {
		t.Helper()
		cur, err := st.Get(ctx, "a", name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if cur.DeletionTimestamp == nil || !slices.Equal(cur.Finalizers, want) {
			t.Fatalf("%s: deletionTimestamp %v, finalizers %q; want marked with %q", name, cur.DeletionTimestamp, cur.Finalizers, want)
		}
		return cur
	}

	mk("orphaned")
	rev, _ := b.Revision(ctx)
	got, err := st.Delete(store.WithDryRun(ctx), "a", "orphaned", store.WithPropagationPolicy(store.PropagationOrphan))
	if err != nil || got.DeletionTimestamp == nil || !slices.Equal(got.Finalizers, []string{store.FinalizerOrphanDependents}) {
		t.Fatalf("dry run: %+v, %v", got, err)
	}
	if now, _ := b.Revision(ctx); now != rev {
		t.Fatal("a dry-run delete wrote")
	}
	if _, err := st.Delete(ctx, "a", "orphaned", store.WithPropagationPolicy(store.PropagationOrphan)); err != nil {
		t.Fatal(err)
	}
	first := check("orphaned", store.FinalizerOrphanDependents)
	// A repeated delete with the same policy writes nothing.
	rev, _ = b.Revision(ctx)
	if _, err := st.Delete(ctx, "a", "orphaned", store.WithPropagationPolicy(store.PropagationOrphan)); err != nil {
		t.Fatal(err)
	}
	if now, _ := b.Revision(ctx); now != rev {
		t.Fatal("a repeated delete with the same policy wrote")
	}
	// Switching to Foreground swaps the finalizer and keeps the mark.
	if _, err := st.Delete(ctx, "a", "orphaned", store.WithPropagationPolicy(store.PropagationForeground)); err != nil {
		t.Fatal(err)
	}
	if cur := check("orphaned", store.FinalizerDeleteDependents); !cur.DeletionTimestamp.Equal(first.DeletionTimestamp.Time) {
		t.Fatalf("deletionTimestamp moved from %v to %v", first.DeletionTimestamp, cur.DeletionTimestamp)
	}
	// No policy: finalizers stay.
	if _, err := st.Delete(ctx, "a", "orphaned"); err != nil {
		t.Fatal(err)
	}
	check("orphaned", store.FinalizerDeleteDependents)
	// Background removes the last one: the object goes.
	if _, err := st.Delete(ctx, "a", "orphaned", store.WithPropagationPolicy(store.PropagationBackground)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, "a", "orphaned"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after a background delete: %v, want NotFound", err)
	}

	// Another finalizer is kept, and holds the object after Background.
	mk("held", "example.com/hold")
	if _, err := st.Delete(ctx, "a", "held", store.WithPropagationPolicy(store.PropagationForeground)); err != nil {
		t.Fatal(err)
	}
	check("held", "example.com/hold", store.FinalizerDeleteDependents)
	if _, err := st.Delete(ctx, "a", "held", store.WithPropagationPolicy(store.PropagationBackground)); err != nil {
		t.Fatal(err)
	}
	check("held", "example.com/hold")

	// Background on an object without finalizers deletes it at once.
	mk("plain")
	if _, err := st.Delete(ctx, "a", "plain", store.WithPropagationPolicy(store.PropagationBackground)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, "a", "plain"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("plain: %v, want NotFound", err)
	}
	if p := store.ResolveDeleteOptions(store.WithPropagationPolicy(store.PropagationOrphan)); p.PropagationPolicy != store.PropagationOrphan {
		t.Fatalf("ResolveDeleteOptions: %+v", p)
	}
}

// TestPropagationGraceful: on the graceful path (pods), the policy's
// finalizer is set with the grace period, and a later delete that only
// changes the policy keeps the deadline.
func TestPropagationGraceful(t *testing.T) {
	ctx := context.Background()
	st, err := store.New[*ns](memory.New(), store.Resource{Name: "widgets", APIVersion: "v1", Kind: "Widget", Namespaced: true})
	if err != nil {
		t.Fatal(err)
	}
	o := &ns{ObjectMeta: store.ObjectMeta{Namespace: "a", Name: "p"}}
	if _, err := st.Create(ctx, o); err != nil {
		t.Fatal(err)
	}
	thirty := func(*ns) int64 { return 30 }
	got, pending, err := st.DeleteGracefully(ctx, "a", "p", thirty, store.WithPropagationPolicy(store.PropagationForeground))
	if err != nil || !pending || !slices.Equal(got.Finalizers, []string{store.FinalizerDeleteDependents}) || *got.DeletionGracePeriodSeconds != 30 {
		t.Fatalf("graceful foreground delete: %+v pending=%v err=%v", got, pending, err)
	}
	again, _, err := st.DeleteGracefully(ctx, "a", "p", thirty, store.WithPropagationPolicy(store.PropagationOrphan))
	if err != nil || !slices.Equal(again.Finalizers, []string{store.FinalizerOrphanDependents}) ||
		*again.DeletionGracePeriodSeconds != 30 || !again.DeletionTimestamp.Equal(got.DeletionTimestamp.Time) {
		t.Fatalf("policy switch: %+v (before %+v), err %v", again.ObjectMeta, got.ObjectMeta, err)
	}
}
