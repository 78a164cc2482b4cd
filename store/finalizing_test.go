package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
)

// ns is a namespace-like object: spec.finalizers hold off its deletion.
type ns struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             struct {
		Finalizers []string `json:"finalizers,omitempty"`
	} `json:"spec"`
	Status struct {
		Phase string `json:"phase,omitempty"`
	} `json:"status"`
}

// TestWithFinalizing: a resource's own finalizers (a namespace's
// spec.finalizers) hold off its deletion on every path: Delete marks it
// (deletionTimestamp and the resource's mark, phase Terminating) and keeps
// it, in a dry run too without writing; an update that clears the last
// finalizer deletes it (issue 12 case 8).
func TestWithFinalizing(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	nss, err := store.New[*ns](b, store.Resource{Name: "namespaces", APIVersion: "v1", Kind: "Namespace"},
		store.WithFinalizing(func(n *ns) bool { return len(n.Spec.Finalizers) > 0 }, func(n *ns) { n.Status.Phase = "Terminating" }))
	if err != nil {
		t.Fatal(err)
	}
	n := &ns{ObjectMeta: store.ObjectMeta{Name: "team"}}
	n.Spec.Finalizers = []string{"kubernetes"}
	n.Status.Phase = "Active"
	if _, err := nss.Create(ctx, n); err != nil {
		t.Fatal(err)
	}
	rev, _ := b.Revision(ctx)
	got, err := nss.Delete(store.WithDryRun(ctx), "", "team")
	if err != nil || got.DeletionTimestamp == nil || got.Status.Phase != "Terminating" {
		t.Fatalf("dry-run delete: %+v, %v", got, err)
	}
	if now, _ := b.Revision(ctx); now != rev {
		t.Fatal("a dry-run delete wrote")
	}
	got, err = nss.Delete(ctx, "", "team")
	if err != nil || got.DeletionTimestamp == nil || got.Status.Phase != "Terminating" {
		t.Fatalf("delete: %+v, %v", got, err)
	}
	cur, err := nss.Get(ctx, "", "team")
	if err != nil || cur.DeletionTimestamp == nil || cur.Status.Phase != "Terminating" {
		t.Fatalf("after delete: %+v, %v; want it kept, marked", cur, err)
	}
	// A second delete changes nothing.
	again, err := nss.Delete(ctx, "", "team")
	if err != nil || again.ResourceVersion != cur.ResourceVersion {
		t.Fatalf("second delete: %+v, %v", again, err)
	}
	// Clearing the finalizers (an update) deletes it.
	if _, err := nss.GuaranteedUpdate(ctx, "", "team", func(n *ns) (*ns, error) {
		n.Spec.Finalizers = nil
		return n, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := nss.Get(ctx, "", "team"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after its finalizers went: %v, want it gone", err)
	}
	// Without pending finalizers, a delete deletes at once.
	if _, err := nss.Create(ctx, &ns{ObjectMeta: store.ObjectMeta{Name: "plain"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := nss.Delete(ctx, "", "plain"); err != nil {
		t.Fatal(err)
	}
	if _, err := nss.Get(ctx, "", "plain"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("plain: %v, want it gone", err)
	}
	// A metadata finalizer still holds once spec.finalizers are empty.
	m := &ns{ObjectMeta: store.ObjectMeta{Name: "meta", Finalizers: []string{"example.com/x"}}}
	m.Spec.Finalizers = []string{"kubernetes"}
	if _, err := nss.Create(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := nss.Delete(ctx, "", "meta"); err != nil {
		t.Fatal(err)
	}
	if _, err := nss.GuaranteedUpdate(ctx, "", "meta", func(n *ns) (*ns, error) { n.Spec.Finalizers = nil; return n, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := nss.Get(ctx, "", "meta"); err != nil {
		t.Fatalf("meta with its metadata finalizer: %v, want it kept", err)
	}
}
