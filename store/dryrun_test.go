package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
)

// TestDryRun: with WithDryRun every write checks what the real write
// checks and returns the would-be object, and nothing is ever written
// (issue 12 cases 1 and 18).
func TestDryRun(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	pods, err := store.New[*Pod](b, podResource)
	if err != nil {
		t.Fatal(err)
	}
	lock, err := b.Create(ctx, "/locks/leader", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	web, err := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "web", Finalizers: []string{"example.com/hold"}}, Spec: PodSpec{Image: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "plain"}})
	if err != nil {
		t.Fatal(err)
	}
	dry := store.WithDryRun(ctx)
	if !store.DryRunFrom(dry) || store.DryRunFrom(ctx) {
		t.Fatal("DryRunFrom does not report WithDryRun")
	}
	rev, _ := b.Revision(ctx)

	got, err := pods.Create(dry, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", GenerateName: "new-"}, Spec: PodSpec{Image: "b"}})
	if err != nil || got.UID == "" || got.Name == "" || got.ResourceVersion != "" || got.Generation != 1 || got.Spec.Image != "b" {
		t.Fatalf("dry-run create: %+v, %v", got, err)
	}
	if _, err := pods.Create(dry, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "web"}}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("dry-run create of an existing name: %v", err)
	}
	if _, err := pods.Create(dry, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "Bad"}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("dry-run create of an invalid object: %v", err)
	}
	upd := store.Clone(web)
	upd.Spec.Image = "c"
	got, err = pods.Update(dry, upd)
	if err != nil || got.Spec.Image != "c" || got.Generation != 2 || got.ResourceVersion != web.ResourceVersion {
		t.Fatalf("dry-run update: %+v, %v", got, err)
	}
	stale := store.Clone(web)
	stale.ResourceVersion = "1"
	if _, err := pods.Update(dry, stale); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("dry-run update of a stale version: %v", err)
	}
	got, err = pods.GuaranteedUpdate(dry, "ns", "web", func(p *Pod) (*Pod, error) {
		p.Labels = map[string]string{"touched": "yes"}
		return p, nil
	})
	if err != nil || got.Labels["touched"] != "yes" {
		t.Fatalf("dry-run guaranteed update: %+v, %v", got, err)
	}
	got, err = pods.Delete(dry, "ns", "web")
	if err != nil || got.DeletionTimestamp == nil {
		t.Fatalf("dry-run delete of an object with a finalizer: %+v, %v", got, err)
	}
	if got, err = pods.Delete(dry, "ns", "plain"); err != nil || got.Name != "plain" {
		t.Fatalf("dry-run delete: %+v, %v", got, err)
	}
	if _, err := pods.Delete(dry, "ns", "plain", store.WithPreconditionUID("other")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("dry-run delete with a failed precondition: %v", err)
	}
	if _, err := pods.Delete(dry, "ns", "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("dry-run delete of a missing object: %v", err)
	}
	// Fences are checked in a dry run too.
	stalef := store.WithFence(dry, store.Fence{Key: "/locks/leader", CreateRevision: lock - 1})
	if _, err := pods.Create(stalef, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "f"}}); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("dry-run create with a stale fence: %v", err)
	}
	if _, err := pods.Update(stalef, upd); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("dry-run update with a stale fence: %v", err)
	}
	if _, err := pods.Delete(stalef, "ns", "plain"); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("dry-run delete with a stale fence: %v", err)
	}
	good := store.WithFence(dry, store.Fence{Key: "/locks/leader", CreateRevision: lock})
	if _, err := pods.Delete(good, "ns", "plain"); err != nil {
		t.Fatalf("dry-run delete with a good fence: %v", err)
	}
	if now, _ := b.Revision(ctx); now != rev {
		t.Fatalf("dry runs wrote: revision %d -> %d", rev, now)
	}
	for _, p := range []*Pod{web, plain} {
		cur, err := pods.Get(ctx, "ns", p.Name)
		if err != nil || cur.ResourceVersion != p.ResourceVersion || cur.DeletionTimestamp != nil {
			t.Fatalf("%s after dry runs: %+v, %v", p.Name, cur, err)
		}
	}
}
