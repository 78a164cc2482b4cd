package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

func testStoreFinalizers(t *testing.T, e *storeEnv) {
	ctx := testCtx(t)
	after := mustRevision(t, e.b)
	w := NewWidget("ns", "f", nil)
	w.Finalizers = []string{"example.com/a", "example.com/b"}
	w = e.create(t, w)
	tw, err := e.s.Watch(ctx, "ns", store.WatchOptions{AfterRevision: after})
	if err != nil {
		t.Fatal(err)
	}
	defer tw.Stop()
	del, err := e.s.Delete(ctx, "ns", "f")
	if err != nil {
		t.Fatalf("Delete with finalizers: %v", err)
	}
	if del.DeletionTimestamp == nil || !del.DeletionTimestamp.Equal(fixedNow) || del.ResourceVersion == w.ResourceVersion {
		t.Fatalf("Delete with finalizers returned %+v; want deletionTimestamp set by a write", del.ObjectMeta)
	}
	if got := e.get(t, "ns", "f"); got.DeletionTimestamp == nil || len(got.Finalizers) != 2 {
		t.Fatalf("object after Delete with finalizers: %+v", got.ObjectMeta)
	}
	e.expectNoWrite(t, "second Delete", nil, "", func() error {
		again, err := e.s.Delete(ctx, "ns", "f")
		if err == nil && again.ResourceVersion != del.ResourceVersion {
			t.Errorf("second Delete wrote: RV %s, want %s", again.ResourceVersion, del.ResourceVersion)
		}
		return err
	})
	add := store.Clone(del)
	add.Finalizers = append(add.Finalizers, "example.com/c")
	e.expectNoWrite(t, "adding a finalizer while deleting", store.ErrInvalid, "metadata.finalizers", func() error {
		_, err := e.s.Update(ctx, add)
		return err
	})
	// Nor through GuaranteedUpdate, even by changing the given object's
	// finalizers and deletion metadata in place.
	e.expectNoWrite(t, "renaming a finalizer in place while deleting", store.ErrInvalid, "metadata.finalizers", func() error {
		_, err := e.s.GuaranteedUpdate(ctx, "ns", "f", func(w *Widget) (*Widget, error) {
			w.Finalizers[1] = "example.com/c"
			*w.DeletionTimestamp = store.Time{}
			return w, nil
		})
		return err
	})
	// The deletion timestamp cannot be cleared by an update.
	one := store.Clone(del)
	one.Finalizers = []string{"example.com/b"}
	one.DeletionTimestamp = nil
	one, err = e.s.Update(ctx, one)
	if err != nil || one.DeletionTimestamp == nil {
		t.Fatalf("removing one finalizer: %+v, %v; want deletionTimestamp kept", one, err)
	}
	// Removing the last finalizer deletes the object.
	last, err := e.s.GuaranteedUpdate(ctx, "ns", "f", func(w *Widget) (*Widget, error) {
		w.Finalizers = nil
		return w, nil
	})
	if err != nil || last == nil || len(last.Finalizers) != 0 {
		t.Fatalf("removing the last finalizer: %+v, %v; want the final state and no error", last, err)
	}
	if _, err := e.s.Get(ctx, "ns", "f"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get after the last finalizer went: err = %v, want ErrNotFound", err)
	}
	wantTypes := []watch.EventType{watch.Added, watch.Modified, watch.Modified, watch.Deleted}
	for i, wt := range wantTypes {
		ev := nextChange(t, tw)
		if ev.Type != wt {
			t.Fatalf("event %d = %v, want %v", i, ev.Type, wt)
		}
		if i == len(wantTypes)-1 && (ev.Object.ResourceVersion != last.ResourceVersion || ev.Object.Name != "f") {
			t.Fatalf("Deleted event object RV %s, want %s", ev.Object.ResourceVersion, last.ResourceVersion)
		}
	}
}

func (e *storeEnv) seed(t *testing.T) {
	t.Helper()
	for i := range 6 {
		for _, ns := range []string{"a", "b"} {
			tier := "back"
			if i%2 == 0 {
				tier = "front"
			}
			w := NewWidget(ns, fmt.Sprintf("w%d", i), map[string]string{"tier": tier, "idx": itoa(i)})
			w.Spec.Size = i
			e.create(t, w)
		}
	}
}

func testStoreListSelectors(t *testing.T, e *storeEnv) {
	ctx := testCtx(t)
	e.seed(t)
	list := func(ns, sel string, filter func(store.Object) bool) string {
		t.Helper()
		s, err := store.ParseSelector(sel)
		if err != nil {
			t.Fatal(err)
		}
		l, err := e.s.List(ctx, ns, store.ListOptions{Selector: s, Filter: filter})
		if err != nil {
			t.Fatalf("List %q %q: %v", ns, sel, err)
		}
		for _, w := range l.Items {
			if w.Kind != "Widget" || w.ResourceVersion == "" {
				t.Fatalf("listed item without TypeMeta or RV: %+v", w)
			}
		}
		return names(l.Items)
	}
	cases := []struct{ ns, sel, want string }{
		{"a", "", "a/w0 a/w1 a/w2 a/w3 a/w4 a/w5"},
		{"", "tier=front", "a/w0 a/w2 a/w4 b/w0 b/w2 b/w4"},
		{"b", "tier!=front", "b/w1 b/w3 b/w5"},
		{"a", "idx in (1,4,9)", "a/w1 a/w4"},
		{"a", "idx notin (1,4),tier=front", "a/w0 a/w2"},
		{"a", "!idx", ""},
		{"a", "idx,tier==back", "a/w1 a/w3 a/w5"},
		{"c", "", ""},
	}
	for _, c := range cases {
		if got := list(c.ns, c.sel, nil); got != c.want {
			t.Errorf("List ns=%q selector %q = %q, want %q", c.ns, c.sel, got, c.want)
		}
	}
	big := func(o store.Object) bool { return o.(*Widget).Spec.Size >= 4 }
	if got := list("", "tier=back", big); got != "a/w5 b/w5" {
		t.Errorf("List with filter = %q, want a/w5 b/w5", got)
	}
	if _, err := e.s.List(ctx, "Not_A_Namespace", store.ListOptions{}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("List bad namespace: err = %v, want ErrInvalid", err)
	}
	if _, err := store.ParseSelector("tier in (a"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("malformed selector: err = %v, want ErrInvalid", err)
	}
}

func testStoreListPaging(t *testing.T, e *storeEnv) {
	ctx := testCtx(t)
	e.seed(t)
	sel, _ := store.ParseSelector("tier=front")
	full, err := e.s.List(ctx, "", store.ListOptions{Selector: sel})
	if err != nil {
		t.Fatal(err)
	}
	var got []*Widget
	opts := store.ListOptions{Selector: sel, Limit: 2}
	var rev int64
	for page := 0; ; page++ {
		l, err := e.s.List(ctx, "", opts)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if len(l.Items) > 2 {
			t.Fatalf("page %d has %d items, limit 2", page, len(l.Items))
		}
		if page == 0 {
			rev = l.Revision
			// Writes after the first page must not show on later pages.
			e.create(t, NewWidget("b", "w9", map[string]string{"tier": "front"}))
			if _, err := e.s.Delete(ctx, "b", "w4"); err != nil {
				t.Fatal(err)
			}
		} else if l.Revision != rev {
			t.Fatalf("page %d at revision %d, want %d", page, l.Revision, rev)
		}
		got = append(got, l.Items...)
		if l.Continue == "" {
			break
		}
		if page > 10 {
			t.Fatal("paging does not end")
		}
		opts.Continue = l.Continue
	}
	if names(got) != names(full.Items) {
		t.Fatalf("paged list = %q, want %q", names(got), names(full.Items))
	}
	// A continue token whose revision has been compacted is gone.
	first, err := e.s.List(ctx, "", store.ListOptions{Limit: 1})
	if err != nil || first.Continue == "" {
		t.Fatalf("List limit 1: %v, continue %q", err, first.Continue)
	}
	w := e.create(t, NewWidget("a", "w10", nil))
	if _, err := e.s.Update(ctx, w); err != nil {
		t.Fatal(err)
	}
	now := mustRevision(t, e.b)
	if err := e.b.Compact(ctx, now); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.List(ctx, "", store.ListOptions{Limit: 1, Continue: first.Continue}); !errors.Is(err, store.ErrGone) {
		t.Fatalf("List with a compacted continue token: err = %v, want ErrGone", err)
	}
}

func testStoreListBadContinue(t *testing.T, e *storeEnv) {
	ctx := testCtx(t)
	e.seed(t)
	l, err := e.s.List(ctx, "a", store.ListOptions{Limit: 2})
	if err != nil || l.Continue == "" {
		t.Fatalf("List: %v, continue %q", err, l.Continue)
	}
	for _, tok := range []string{"!!!", "e30", "bm90IGpzb24", l.Continue + "x"} {
		if _, err := e.s.List(ctx, "a", store.ListOptions{Limit: 2, Continue: tok}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("continue %q: err = %v, want ErrInvalid", tok, err)
		}
	}
	// A token from another namespace's list does not belong to this one.
	if _, err := e.s.List(ctx, "b", store.ListOptions{Limit: 2, Continue: l.Continue}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("continue from another list: err = %v, want ErrInvalid", err)
	}
	if _, err := e.s.List(ctx, "a", store.ListOptions{Limit: -1}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("negative limit: err = %v, want ErrInvalid", err)
	}
}

func testStoreWatch(t *testing.T, e *storeEnv) {
	ctx := testCtx(t)
	e.create(t, NewWidget("a", "before", nil))
	l, err := e.s.List(ctx, "a", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := e.s.Watch(ctx, "a", store.WatchOptions{AfterRevision: l.Revision})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	type step struct {
		typ watch.EventType
		rv  string
		obj *Widget
	}
	var want []step
	x := e.create(t, NewWidget("a", "x", nil))
	want = append(want, step{watch.Added, x.ResourceVersion, store.Clone(x)})
	e.create(t, NewWidget("b", "other-ns", nil))
	x = store.Clone(x)
	x.Spec.Size = 1
	x, err = e.s.Update(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, step{watch.Modified, x.ResourceVersion, x})
	d, err := e.s.Delete(ctx, "a", "before")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, step{watch.Deleted, d.ResourceVersion, d})
	for i, st := range want {
		ev := nextChange(t, w)
		if ev.Type != st.typ || ev.Object.ResourceVersion != st.rv || store.FormatRevision(ev.Revision) != st.rv || ev.Object.Name != st.obj.Name {
			t.Fatalf("event %d = %v %s rv %s (rev %d), want %v %s rv %s", i, ev.Type, ev.Object.Name, ev.Object.ResourceVersion, ev.Revision, st.typ, st.obj.Name, st.rv)
		}
		if ev.Object.Kind != "Widget" || ev.Object.UID != st.obj.UID || ev.Object.Spec.Size != st.obj.Spec.Size {
			t.Fatalf("event %d object = %+v, want %+v", i, ev.Object, st.obj)
		}
	}
	if _, err := e.s.Watch(ctx, "BAD", store.WatchOptions{}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("Watch bad namespace: err = %v, want ErrInvalid", err)
	}
	w.Stop()
	for {
		if _, ok := nextEvent(t, w); !ok {
			break
		}
	}
	if !errors.Is(w.Err(), watch.ErrStopped) {
		t.Fatalf("after Stop: Err = %v", w.Err())
	}
}

func testStoreWatchSelector(t *testing.T, e *storeEnv) {
	ctx := testCtx(t)
	start := mustRevision(t, e.b)
	sel, err := store.ParseSelector("tier=front")
	if err != nil {
		t.Fatal(err)
	}
	w, err := e.s.Watch(ctx, "", store.WatchOptions{AfterRevision: start, Selector: sel})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	a := e.create(t, NewWidget("a", "m", map[string]string{"tier": "back"})) // not seen
	relabel := func(tier string) *Widget {
		t.Helper()
		out, err := e.s.GuaranteedUpdate(ctx, "a", "m", func(w *Widget) (*Widget, error) {
			w.Labels["tier"] = tier
			return w, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	front := relabel("front") // starts matching: Added
	front2, err := e.s.GuaranteedUpdate(ctx, "a", "m", func(w *Widget) (*Widget, error) {
		w.Spec.Size = 2
		return w, nil
	}) // Modified
	if err != nil {
		t.Fatal(err)
	}
	back := relabel("back") // stops matching: Deleted with the previous state
	if _, err := e.s.Delete(ctx, "a", "m"); err != nil {
		t.Fatal(err)
	} // not seen
	f := e.create(t, NewWidget("a", "n", map[string]string{"tier": "front"}))
	fd, err := e.s.Delete(ctx, "a", "n") // Deleted
	if err != nil {
		t.Fatal(err)
	}
	_ = a
	want := []struct {
		typ  watch.EventType
		rv   string
		name string
		tier string
	}{
		{watch.Added, front.ResourceVersion, "m", "front"},
		{watch.Modified, front2.ResourceVersion, "m", "front"},
		{watch.Deleted, back.ResourceVersion, "m", "front"},
		{watch.Added, f.ResourceVersion, "n", "front"},
		{watch.Deleted, fd.ResourceVersion, "n", "front"},
	}
	for i, wt := range want {
		ev := nextChange(t, w)
		if ev.Type != wt.typ || store.FormatRevision(ev.Revision) != wt.rv || ev.Object.Name != wt.name || ev.Object.Labels["tier"] != wt.tier {
			t.Fatalf("event %d = %v %s tier=%s at %d, want %v %s tier=%s at %s", i, ev.Type, ev.Object.Name, ev.Object.Labels["tier"], ev.Revision, wt.typ, wt.name, wt.tier, wt.rv)
		}
	}
	// A filter works the same way.
	fw, err := e.s.Watch(ctx, "a", store.WatchOptions{AfterRevision: start, Filter: func(o store.Object) bool { return o.(*Widget).Spec.Size == 2 }})
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Stop()
	if ev := nextChange(t, fw); ev.Type != watch.Added || ev.Object.Spec.Size != 2 || store.FormatRevision(ev.Revision) != front2.ResourceVersion {
		t.Fatalf("filtered watch: first event %v size %d at %d, want ADDED size 2 at %s", ev.Type, ev.Object.Spec.Size, ev.Revision, front2.ResourceVersion)
	}
}

func testStoreFences(t *testing.T, e *storeEnv) {
	ctx := testCtx(t)
	lock := e.prefix + "/locks/leader"
	rev, err := e.b.Create(ctx, lock, []byte("me"))
	if err != nil {
		t.Fatal(err)
	}
	term := store.Fence{Key: lock, CreateRevision: rev}
	fctx := store.WithFence(ctx, term)
	if got := store.FencesFrom(fctx); len(got) != 1 || got[0] != term {
		t.Fatalf("FencesFrom = %v", got)
	}
	w, err := e.s.Create(fctx, NewWidget("ns", "fenced", nil))
	if err != nil {
		t.Fatalf("Create under a valid fence: %v", err)
	}
	w.Spec.Size = 1
	if w, err = e.s.Update(fctx, w); err != nil {
		t.Fatalf("Update under a valid fence: %v", err)
	}
	// The term ends: another leader re-creates the lock.
	if _, _, err := e.b.Delete(ctx, lock, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Create(ctx, lock, []byte("other")); err != nil {
		t.Fatal(err)
	}
	w.Spec.Size = 2
	e.expectNoWrite(t, "Update under a stale fence", store.ErrFenced, "", func() error {
		_, err := e.s.Update(fctx, w)
		return err
	})
	e.expectNoWrite(t, "Create under a stale fence", store.ErrFenced, "", func() error {
		_, err := e.s.Create(fctx, NewWidget("ns", "fenced2", nil))
		return err
	})
	e.expectNoWrite(t, "GuaranteedUpdate under a stale fence", store.ErrFenced, "", func() error {
		_, err := e.s.GuaranteedUpdate(fctx, "ns", "fenced", func(w *Widget) (*Widget, error) {
			w.Spec.Size = 3
			return w, nil
		})
		return err
	})
	e.expectNoWrite(t, "Delete under a stale fence", store.ErrFenced, "", func() error {
		_, err := e.s.Delete(fctx, "ns", "fenced")
		return err
	})
	if got := e.get(t, "ns", "fenced"); got.Spec.Size != 1 {
		t.Fatalf("fenced writes changed the object: size %d", got.Spec.Size)
	}
}
