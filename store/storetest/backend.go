package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// WaitTimeout bounds every wait of the suites (for a watch event, say). It
// is generous: it only matters when something is broken.
var WaitTimeout = 20 * time.Second

var prefixSeq atomic.Int64

// uniquePrefix returns a key prefix no other test of this process uses, so
// suites can share one server.
func uniquePrefix(t *testing.T) string {
	return fmt.Sprintf("/storetest/%d-%d/", time.Now().UnixNano(), prefixSeq.Add(1))
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*WaitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// RunBackend runs the Backend contract suite. newBackend is called once per
// subtest and may return backends sharing one server; the suite uses a
// distinct key prefix in each subtest. The subtests do not run in parallel,
// and one of them compacts the store.
func RunBackend(t *testing.T, newBackend func(t *testing.T) store.Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b store.Backend, p string)
	}{
		{"CRUD", testBackendCRUD},
		{"Errors", testBackendErrors},
		{"Fences", testBackendFences},
		{"RangeAtRevision", testBackendRangeAtRevision},
		{"PagingAcrossWrite", testBackendPaging},
		{"Compaction", testBackendCompaction},
		{"WatchOrder", testBackendWatchOrder},
		{"WatchFromRevision", testBackendWatchFromRevision},
		{"WatchStop", testBackendWatchStop},
		{"ConcurrentCAS", testBackendConcurrentCAS},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t)
			if b == nil {
				t.Fatal("newBackend returned nil")
			}
			tc.fn(t, b, uniquePrefix(t))
		})
	}
}

func mustCreate(t *testing.T, b store.Backend, key, val string, fences ...store.Fence) int64 {
	t.Helper()
	rev, err := b.Create(testCtx(t), key, []byte(val), fences...)
	if err != nil {
		t.Fatalf("Create(%q): %v", key, err)
	}
	return rev
}

func mustUpdate(t *testing.T, b store.Backend, key, val string, rev int64) int64 {
	t.Helper()
	rev, err := b.Update(testCtx(t), key, []byte(val), rev)
	if err != nil {
		t.Fatalf("Update(%q): %v", key, err)
	}
	return rev
}

func mustGet(t *testing.T, b store.Backend, key string) store.KV {
	t.Helper()
	kv, err := b.Get(testCtx(t), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return kv
}

func mustRevision(t *testing.T, b store.Backend) int64 {
	t.Helper()
	rev, err := b.Revision(testCtx(t))
	if err != nil {
		t.Fatalf("Revision: %v", err)
	}
	return rev
}

func testBackendCRUD(t *testing.T, b store.Backend, p string) {
	ctx := testCtx(t)
	k := p + "a"
	before := mustRevision(t, b)
	r1 := mustCreate(t, b, k, "one")
	if r1 <= before {
		t.Fatalf("Create revision %d, want > %d", r1, before)
	}
	kv := mustGet(t, b, k)
	if kv.Key != k || string(kv.Value) != "one" || kv.ModRevision != r1 || kv.CreateRevision != r1 {
		t.Fatalf("Get after Create = %+v, want value one at create=mod=%d", kv, r1)
	}
	r2, err := b.Update(ctx, k, []byte("two"), r1)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if r2 <= r1 {
		t.Fatalf("Update revision %d, want > %d", r2, r1)
	}
	kv = mustGet(t, b, k)
	if string(kv.Value) != "two" || kv.ModRevision != r2 || kv.CreateRevision != r1 {
		t.Fatalf("Get after Update = %+v, want two mod=%d create=%d", kv, r2, r1)
	}
	if got := mustRevision(t, b); got < r2 {
		t.Fatalf("Revision() = %d, want >= %d", got, r2)
	}
	last, r3, err := b.Delete(ctx, k, r2)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if r3 <= r2 || string(last.Value) != "two" || last.ModRevision != r2 || last.CreateRevision != r1 {
		t.Fatalf("Delete = %+v at %d, want last state two (mod %d, create %d) at a revision > %d", last, r3, r2, r1, r2)
	}
	if _, err := b.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	r4 := mustCreate(t, b, k, "three")
	if kv := mustGet(t, b, k); kv.CreateRevision != r4 || string(kv.Value) != "three" {
		t.Fatalf("re-Create: %+v, want create revision %d", kv, r4)
	}
	// Delete with revision 0 deletes any version.
	if last, _, err := b.Delete(ctx, k, 0); err != nil || string(last.Value) != "three" {
		t.Fatalf("Delete(rev 0) = %+v, %v; want last state three", last, err)
	}
	// Empty values are legal.
	mustCreate(t, b, p+"empty", "")
	if kv := mustGet(t, b, p+"empty"); len(kv.Value) != 0 {
		t.Fatalf("empty value read back as %q", kv.Value)
	}
}

func testBackendErrors(t *testing.T, b store.Backend, p string) {
	ctx := testCtx(t)
	k := p + "a"
	r1 := mustCreate(t, b, k, "one")
	rev := mustRevision(t, b)
	if _, err := b.Create(ctx, k, []byte("x")); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("Create existing: err = %v, want ErrAlreadyExists", err)
	}
	_, err := b.Update(ctx, k, []byte("x"), r1-1)
	var ce *store.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Update stale: err = %v, want *ConflictError", err)
	}
	if ce.Current != r1 || ce.Expected != r1-1 || ce.Key != k {
		t.Fatalf("ConflictError = %+v, want key %s expected %d current %d", ce, k, r1-1, r1)
	}
	if l := ce.Latest; l != nil && (string(l.Value) != "one" || l.ModRevision != r1 || l.Key != k) {
		t.Fatalf("ConflictError.Latest = %+v, want the current state one at %d", l, r1)
	}
	if _, err := b.Update(ctx, p+"missing", []byte("x"), 5); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Update missing: err = %v, want ErrNotFound", err)
	}
	if _, _, err := b.Delete(ctx, k, r1+100); !errors.As(err, &ce) || ce.Current != r1 {
		t.Fatalf("Delete stale: err = %v, want *ConflictError with current %d", err, r1)
	}
	if _, _, err := b.Delete(ctx, p+"missing", 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Delete missing: err = %v, want ErrNotFound", err)
	}
	if _, err := b.Get(ctx, p+"missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get missing: err = %v, want ErrNotFound", err)
	}
	if got := mustRevision(t, b); got != rev {
		t.Fatalf("failed writes moved the revision from %d to %d", rev, got)
	}
	if kv := mustGet(t, b, k); string(kv.Value) != "one" || kv.ModRevision != r1 {
		t.Fatalf("failed writes changed the key: %+v", kv)
	}
	if _, err := b.Range(ctx, p, store.RangeOptions{Revision: rev + 1000}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("Range at a future revision: err = %v, want ErrInvalid", err)
	}
}

func testBackendFences(t *testing.T, b store.Backend, p string) {
	ctx := testCtx(t)
	lock := p + "lock"
	term1 := store.Fence{Key: lock, CreateRevision: mustCreate(t, b, lock, "leader-1")}
	k := p + "obj"
	r := mustCreate(t, b, k, "v1", term1)
	r, err := b.Update(ctx, k, []byte("v2"), r, term1)
	if err != nil {
		t.Fatalf("Update with a valid fence: %v", err)
	}
	// A new term: the lock key is deleted and created anew.
	if _, _, err := b.Delete(ctx, lock, 0); err != nil {
		t.Fatal(err)
	}
	term2 := store.Fence{Key: lock, CreateRevision: mustCreate(t, b, lock, "leader-2")}
	before := mustRevision(t, b)
	if _, err := b.Update(ctx, k, []byte("stale"), r, term1); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("Update with a stale fence: err = %v, want ErrFenced", err)
	}
	if _, err := b.Create(ctx, p+"new", []byte("stale"), term1); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("Create with a stale fence: err = %v, want ErrFenced", err)
	}
	// The fence is checked first: a stale writer learns it is fenced even
	// when its other precondition fails too.
	if _, err := b.Create(ctx, k, []byte("stale"), term1); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("Create of an existing key with a stale fence: err = %v, want ErrFenced", err)
	}
	if _, _, err := b.Delete(ctx, k, r, term1); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("Delete with a stale fence: err = %v, want ErrFenced", err)
	}
	if _, err := b.Update(ctx, k, []byte("stale"), r, store.Fence{Key: p + "nolock", CreateRevision: 1}); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("Update with a missing fence key: err = %v, want ErrFenced", err)
	}
	if got := mustRevision(t, b); got != before {
		t.Fatalf("fenced writes moved the revision from %d to %d", before, got)
	}
	if kv := mustGet(t, b, k); string(kv.Value) != "v2" {
		t.Fatalf("fenced writes changed the object to %q", kv.Value)
	}
	if _, err := b.Get(ctx, p+"new"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("fenced Create wrote the key: err = %v", err)
	}
	// Two fences: both must hold.
	other := store.Fence{Key: p + "lock2", CreateRevision: mustCreate(t, b, p+"lock2", "x")}
	if _, err := b.Update(ctx, k, []byte("v3"), r, term2, other); err != nil {
		t.Fatalf("Update with two valid fences: %v", err)
	}
	kv := mustGet(t, b, k)
	if _, _, err := b.Delete(ctx, k, kv.ModRevision, term2, term1); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("Delete with one stale fence of two: err = %v, want ErrFenced", err)
	}
	if _, _, err := b.Delete(ctx, k, kv.ModRevision, term2); err != nil {
		t.Fatalf("Delete with a valid fence: %v", err)
	}
}

func testBackendRangeAtRevision(t *testing.T, b store.Backend, p string) {
	ctx := testCtx(t)
	ra := mustCreate(t, b, p+"a", "a1")
	mustCreate(t, b, p+"b", "b1")
	mustCreate(t, b, p+"c", "c1")
	mustCreate(t, b, p[:len(p)-1]+"x", "outside") // shares the prefix minus '/'
	old := mustRevision(t, b)
	if _, err := b.Update(ctx, p+"a", []byte("a2"), ra); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Delete(ctx, p+"b", 0); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, b, p+"d", "d1")

	res, err := b.Range(ctx, p, store.RangeOptions{Revision: old})
	if err != nil {
		t.Fatalf("Range at %d: %v", old, err)
	}
	if got, want := rangeString(res.KVs), "a=a1 b=b1 c=c1"; got != want || res.Revision != old || res.More {
		t.Fatalf("Range at old revision = %q (rev %d, more %v), want %q at %d", got, res.Revision, res.More, want, old)
	}
	res, err = b.Range(ctx, p, store.RangeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rangeString(res.KVs), "a=a2 c=c1 d=d1"; got != want {
		t.Fatalf("Range now = %q, want %q", got, want)
	}
	if now := mustRevision(t, b); res.Revision != now {
		t.Fatalf("Range revision %d, want current %d", res.Revision, now)
	}
	res, err = b.Range(ctx, p, store.RangeOptions{StartKey: p + "b", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := rangeString(res.KVs); got != "c=c1" || !res.More {
		t.Fatalf("Range from b limit 1 = %q more %v, want c=c1 more true", got, res.More)
	}
	res, err = b.Range(ctx, p, store.RangeOptions{StartKey: p + "c", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := rangeString(res.KVs); got != "c=c1 d=d1" || res.More {
		t.Fatalf("Range from c limit 2 = %q more %v, want c=c1 d=d1 more false", got, res.More)
	}
}

func rangeString(kvs []store.KV) string {
	var buf bytes.Buffer
	for i, kv := range kvs {
		if i > 0 {
			buf.WriteByte(' ')
		}
		fmt.Fprintf(&buf, "%s=%s", kv.Key[bytes.LastIndexByte([]byte(kv.Key), '/')+1:], kv.Value)
	}
	return buf.String()
}

func testBackendPaging(t *testing.T, b store.Backend, p string) {
	ctx := testCtx(t)
	for i := range 10 {
		mustCreate(t, b, fmt.Sprintf("%sk%02d", p, i), fmt.Sprint(i))
	}
	snap, err := b.Range(ctx, p, store.RangeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := rangeString(snap.KVs)
	var got []store.KV
	start, rev := "", int64(0)
	for page := 0; ; page++ {
		res, err := b.Range(ctx, p, store.RangeOptions{Limit: 3, StartKey: start, Revision: rev})
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if len(res.KVs) > 3 {
			t.Fatalf("page %d has %d keys, limit 3", page, len(res.KVs))
		}
		if page == 0 {
			rev = res.Revision
			// Concurrent writes after the first page must not show.
			var wg sync.WaitGroup
			wg.Add(3)
			go func() { defer wg.Done(); _, _, _ = b.Delete(ctx, p+"k07", 0) }()
			go func() { defer wg.Done(); _, _ = b.Create(ctx, p+"k055", []byte("new")) }()
			go func() {
				defer wg.Done()
				kv, err := b.Get(ctx, p+"k08")
				if err == nil {
					_, _ = b.Update(ctx, p+"k08", []byte("changed"), kv.ModRevision)
				}
			}()
			wg.Wait()
		} else if res.Revision != rev {
			t.Fatalf("page %d read at revision %d, want %d", page, res.Revision, rev)
		}
		got = append(got, res.KVs...)
		if !res.More {
			break
		}
		start = res.KVs[len(res.KVs)-1].Key + "\x00"
	}
	if g := rangeString(got); g != want {
		t.Fatalf("paged range = %q, want the snapshot %q", g, want)
	}
	now, err := b.Range(ctx, p, store.RangeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if g := rangeString(now.KVs); g == want {
		t.Fatalf("the concurrent writes did not happen: %q", g)
	}
}

func testBackendCompaction(t *testing.T, b store.Backend, p string) {
	ctx := testCtx(t)
	r1 := mustCreate(t, b, p+"a", "1")
	r2, err := b.Update(ctx, p+"a", []byte("2"), r1)
	if err != nil {
		t.Fatal(err)
	}
	r3, err := b.Update(ctx, p+"a", []byte("3"), r2)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, b, p+"b", "b")
	if _, _, err := b.Delete(ctx, p+"b", 0); err != nil {
		t.Fatal(err)
	}
	if err := b.Compact(ctx, r3); err != nil {
		t.Fatalf("Compact(%d): %v", r3, err)
	}
	if _, err := b.Range(ctx, p, store.RangeOptions{Revision: r1}); !errors.Is(err, store.ErrGone) {
		t.Fatalf("Range at compacted revision %d: err = %v, want ErrGone", r1, err)
	}
	res, err := b.Range(ctx, p, store.RangeOptions{Revision: r3})
	if err != nil {
		t.Fatalf("Range at the compaction revision: %v", err)
	}
	if got := rangeString(res.KVs); got != "a=3" {
		t.Fatalf("Range at the compaction revision = %q, want a=3", got)
	}
	res, err = b.Range(ctx, p, store.RangeOptions{})
	if err != nil || rangeString(res.KVs) != "a=3" {
		t.Fatalf("Range after compaction = %q, %v; want a=3", rangeString(res.KVs), err)
	}
	// A watch from before the compaction fails with ErrGone, as the error
	// or as the stream's end.
	w, err := b.Watch(ctx, p, r1-1)
	if err == nil {
		if ev, ok := nextEvent(t, w); ok && ev.Type != watch.Error {
			t.Fatalf("watch from a compacted revision delivered %v at %d", ev.Type, ev.Revision)
		}
		err = w.Err()
		w.Stop()
	}
	if !errors.Is(err, store.ErrGone) {
		t.Fatalf("Watch from compacted revision %d: err = %v, want ErrGone", r1-1, err)
	}
	// A watch after the compaction revision itself still works.
	w, err = b.Watch(ctx, p, r3)
	if err != nil {
		t.Fatalf("Watch after the compaction revision: %v", err)
	}
	defer w.Stop()
	r4 := mustCreate(t, b, p+"c", "c")
	skipped := 0
	for {
		ev := nextChange(t, w)
		if ev.Revision == r4 {
			break
		}
		if ev.Revision <= r3 || ev.Revision > r4 {
			t.Fatalf("watch after %d delivered revision %d", r3, ev.Revision)
		}
		skipped++ // the delete of b, between r3 and r4
	}
	if skipped != 2 {
		t.Fatalf("watch after %d delivered %d events before %d, want 2 (create and delete of b)", r3, skipped, r4)
	}
	// Compacting an already compacted revision is not an error.
	if err := b.Compact(ctx, r2); err != nil {
		t.Fatalf("Compact(%d) after Compact(%d): %v", r2, r3, err)
	}
	// Writes go on.
	if _, err := b.Update(ctx, p+"a", []byte("4"), r3); err != nil {
		t.Fatalf("Update after compaction: %v", err)
	}
	if _, err := b.Range(ctx, p, store.RangeOptions{Revision: r3 - 1}); !errors.Is(err, store.ErrGone) {
		t.Fatalf("Range just below the compaction revision: err = %v, want ErrGone", err)
	}
	if _, err := b.Update(ctx, p+"c", []byte("5"), r4); err != nil {
		t.Fatalf("Update after compaction: %v", err)
	}
}

func testBackendConcurrentCAS(t *testing.T, b store.Backend, p string) {
	ctx := testCtx(t)
	k := p + "counter"
	mustCreate(t, b, k, "0")
	const workers, incs = 8, 25
	var conflicts atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < incs; {
				kv, err := b.Get(ctx, k)
				if err != nil {
					t.Errorf("Get: %v", err)
					return
				}
				_, err = b.Update(ctx, k, []byte(fmt.Sprint(atoi(string(kv.Value))+1)), kv.ModRevision)
				var ce *store.ConflictError
				switch {
				case errors.As(err, &ce):
					conflicts.Add(1)
				case err != nil:
					t.Errorf("Update: %v", err)
					return
				default:
					i++
				}
			}
		}()
	}
	wg.Wait()
	if got := atoi(string(mustGet(t, b, k).Value)); got != workers*incs {
		t.Fatalf("counter = %d after %d increments (%d conflicts): lost updates", got, workers*incs, conflicts.Load())
	}
}
