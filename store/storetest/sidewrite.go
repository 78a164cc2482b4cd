package storetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
)

// RunSideWriter runs the contract of store.SideWriter: a create and its
// side writes happen together or not at all, a side key that has moved (or
// that must not exist and does) fails the create with a *ConflictError for
// that key, fences and existence are still checked, and of concurrent
// creates charging one counter by compare-and-swap, exactly one per
// revision of the counter wins. newBackend's backends must implement
// store.SideWriter.
func RunSideWriter(t *testing.T, newBackend func(t *testing.T) store.Backend) {
	b := newBackend(t)
	sw, ok := b.(store.SideWriter)
	if !ok {
		t.Fatalf("%T does not implement store.SideWriter", b)
	}
	ctx := testCtx(t)
	p := uniquePrefix(t)
	counter := p + "counter"
	crev := mustCreate(t, b, counter, "0")
	rev, err := sw.CreateWithSideWrites(ctx, p+"a", []byte("a"), []store.SideWrite{{Key: counter, Value: []byte("1"), ModRevision: crev}})
	if err != nil {
		t.Fatalf("create with a side write: %v", err)
	}
	if kv := mustGet(t, b, p+"a"); kv.ModRevision != rev || string(kv.Value) != "a" {
		t.Fatalf("created key: %+v, want it at %d", kv, rev)
	}
	cur := mustGet(t, b, counter)
	if string(cur.Value) != "1" || cur.ModRevision < rev {
		t.Fatalf("side key: %+v, want 1 written with the create", cur)
	}
	before := mustRevision(t, b)
	var ce *store.ConflictError
	_, err = sw.CreateWithSideWrites(ctx, p+"b", []byte("b"), []store.SideWrite{{Key: counter, Value: []byte("9"), ModRevision: crev}})
	if !errors.As(err, &ce) || ce.Key != counter || ce.Current != cur.ModRevision {
		t.Fatalf("stale side write: %v, want a *ConflictError for the counter at %d", err, cur.ModRevision)
	}
	if _, err := sw.CreateWithSideWrites(ctx, p+"c", []byte("c"), []store.SideWrite{{Key: counter, Value: []byte("9")}}); !errors.As(err, &ce) {
		t.Fatalf("side write that must create an existing key: %v, want a *ConflictError", err)
	}
	if _, err := sw.CreateWithSideWrites(ctx, p+"a", []byte("again"), []store.SideWrite{{Key: counter, Value: []byte("9"), ModRevision: cur.ModRevision}}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("create of an existing key with a side write: %v, want ErrAlreadyExists", err)
	}
	if _, err := sw.CreateWithSideWrites(ctx, p+"d", []byte("d"), []store.SideWrite{{Key: counter, Value: []byte("9"), ModRevision: cur.ModRevision}},
		store.Fence{Key: p + "nolock", CreateRevision: 1}); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("create with a side write and a stale fence: %v, want ErrFenced", err)
	}
	if got := mustRevision(t, b); got != before {
		t.Fatalf("failed side writes moved the revision from %d to %d", before, got)
	}
	if kv := mustGet(t, b, counter); string(kv.Value) != "1" {
		t.Fatalf("failed side writes changed the counter to %q", kv.Value)
	}
	for _, k := range []string{p + "b", p + "c", p + "d"} {
		if _, err := b.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a failed create wrote %s: %v", k, err)
		}
	}
	// A side key that must not exist yet.
	if _, err := sw.CreateWithSideWrites(ctx, p+"e", []byte("e"), []store.SideWrite{{Key: p + "fresh", Value: []byte("x")}}); err != nil {
		t.Fatalf("side write creating its key: %v", err)
	}
	if kv := mustGet(t, b, p+"fresh"); string(kv.Value) != "x" {
		t.Fatalf("fresh side key: %+v", kv)
	}
	// Concurrent creates that all read the counter at one revision: one
	// wins, every other gets a conflict.
	cur = mustGet(t, b, counter)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := sw.CreateWithSideWrites(ctx, p+"r"+string(rune('0'+i)), []byte("r"), []store.SideWrite{{Key: counter, Value: []byte("2"), ModRevision: cur.ModRevision}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.As(err, new(*store.ConflictError)):
				conflicts++
			default:
				t.Errorf("racing create: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || conflicts != 7 {
		t.Fatalf("racing creates: %d won, %d conflicted; want 1 and 7", wins, conflicts)
	}
	t.Run("conditions", func(t *testing.T) { runSideConditions(t, b, sw) })
}

// runSideConditions: CheckOnly side writes are conditions that write
// nothing; a Prefix condition fails once any key under the prefix was
// created or changed after its revision, and not for a delete.
func runSideConditions(t *testing.T, b store.Backend, sw store.SideWriter) {
	ctx := testCtx(t)
	p := uniquePrefix(t)
	nsRev := mustCreate(t, b, p+"ns", "active")
	dir := p + "quotas/"
	q1 := mustCreate(t, b, dir+"q1", "q")
	// an exact condition that holds: the create happens, the key is untouched
	if _, err := sw.CreateWithSideWrites(ctx, p+"obj1", []byte("o"), []store.SideWrite{
		{Key: p + "ns", ModRevision: nsRev, CheckOnly: true, Value: []byte("ignored")},
		{Key: dir, ModRevision: q1, CheckOnly: true, Prefix: true},
	}); err != nil {
		t.Fatalf("create under holding conditions: %v", err)
	}
	if kv := mustGet(t, b, p+"ns"); string(kv.Value) != "active" || kv.ModRevision != nsRev {
		t.Fatalf("a CheckOnly side write changed its key: %+v", kv)
	}
	// the key moved: conflict for it, nothing written
	nsRev2 := mustUpdate(t, b, p+"ns", "terminating", nsRev)
	var ce *store.ConflictError
	if _, err := sw.CreateWithSideWrites(ctx, p+"obj2", []byte("o"), []store.SideWrite{{Key: p + "ns", ModRevision: nsRev, CheckOnly: true}}); !errors.As(err, &ce) || ce.Key != p+"ns" || ce.Current != nsRev2 {
		t.Fatalf("create under a moved key: %v, want a conflict on it at %d", err, nsRev2)
	}
	// a key created under the prefix after the condition's revision
	q2 := mustCreate(t, b, dir+"q2", "q")
	if _, err := sw.CreateWithSideWrites(ctx, p+"obj3", []byte("o"), []store.SideWrite{{Key: dir, ModRevision: q1, CheckOnly: true, Prefix: true}}); !errors.As(err, &ce) || ce.Key != dir || ce.Current != q2 {
		t.Fatalf("create under a prefix with a newer key: %v, want a conflict at %d", err, q2)
	}
	for _, k := range []string{p + "obj2", p + "obj3"} {
		if _, err := b.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a create under a failed condition wrote %s: %v", k, err)
		}
	}
	// an empty prefix holds at any revision
	if _, err := sw.CreateWithSideWrites(ctx, p+"obj4", []byte("o"), []store.SideWrite{{Key: p + "none/", ModRevision: 0, CheckOnly: true, Prefix: true}}); err != nil {
		t.Fatalf("create under an empty prefix: %v", err)
	}
}
