package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
)

// TestCreateWithSideWrites: a Create carries the context's side writes in
// its transaction; a side key that moved fails it with a conflict naming
// that key and writes nothing; a dry run makes none; a backend without
// side writes refuses them.
func TestCreateWithSideWrites(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	pods, err := store.New[*Pod](b, podResource)
	if err != nil {
		t.Fatal(err)
	}
	counter, err := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "counter"}, Spec: PodSpec{Image: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	next := store.Clone(counter)
	next.Spec.Image = "1"
	sw, err := pods.SideWrite(next)
	if err != nil {
		t.Fatal(err)
	}
	if sw.Key != pods.Key("ns", "counter") {
		t.Fatalf("side write key %q", sw.Key)
	}
	if _, err := pods.Create(store.WithSideWrites(ctx, sw), &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "a"}}); err != nil {
		t.Fatal(err)
	}
	got, err := pods.Get(ctx, "ns", "counter")
	if err != nil || got.Spec.Image != "1" || got.UID != counter.UID {
		t.Fatalf("counter after the create: %+v, %v", got, err)
	}
	// The same side write again: the counter has moved.
	rev, _ := b.Revision(ctx)
	var ce *store.ConflictError
	if _, err := pods.Create(store.WithSideWrites(ctx, sw), &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "b"}}); !errors.As(err, &ce) || ce.Key != sw.Key {
		t.Fatalf("stale side write: %v", err)
	}
	// A dry run makes no side write.
	if _, err := pods.Create(store.WithDryRun(store.WithSideWrites(ctx, sw)), &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "c"}}); err != nil {
		t.Fatalf("dry-run create with a side write: %v", err)
	}
	if now, _ := b.Revision(ctx); now != rev {
		t.Fatalf("refused and dry-run creates wrote: revision %d -> %d", rev, now)
	}
	// A backend that cannot.
	plain, err := store.New[*Pod](plainBackend{memory.New()}, podResource)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Create(store.WithSideWrites(ctx, sw), &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "x"}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("side write on a backend without them: %v", err)
	}
}

// plainBackend hides its backend's side writes: a backend that cannot
// make them.
type plainBackend struct{ store.Backend }
