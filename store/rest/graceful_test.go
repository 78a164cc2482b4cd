package rest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/store/storetest"
)

// gracefulWidgets deletes widgets of color "bound" gracefully (30 s unless
// the client asks otherwise), as pods bound to a node are.
type gracefulWidgets struct{ widgetStrategy }

func (gracefulWidgets) GracePeriod(w *widget, requested *int64) int64 {
	if w.Spec.Color != "bound" {
		return 0
	}
	if requested != nil {
		return *requested
	}
	return 30
}

func TestGracefulDelete(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	ts := newTestServer(t, func(c *Config[*widget]) {
		st, err := store.New[*widget](memory.New(), storetest.WidgetResource, store.WithClock(clock))
		if err != nil {
			t.Fatal(err)
		}
		c.Store, c.Strategy = st, gracefulWidgets{}
	})
	ts.st = ts.h.cfg.Store
	ctx := context.Background()
	bound := storetest.NewWidget("ns", "b", nil)
	bound.Spec.Color = "bound"
	if _, err := ts.c.Create(ctx, bound); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.c.Create(ctx, storetest.NewWidget("ns", "free", nil)); err != nil {
		t.Fatal(err)
	}
	// Not bound: deleted at once.
	if _, err := ts.c.Delete(ctx, "ns", "free"); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.st.Get(ctx, "ns", "free"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unbound widget after delete: %v", err)
	}
	// Bound: marked, with the default grace period.
	out, err := ts.c.Delete(ctx, "ns", "b")
	if err != nil {
		t.Fatal(err)
	}
	want := clock.Now().Add(30 * time.Second)
	if out.DeletionTimestamp == nil || !out.DeletionTimestamp.Equal(want) || out.DeletionGracePeriodSeconds == nil || *out.DeletionGracePeriodSeconds != 30 {
		t.Fatalf("graceful delete answered deletionTimestamp %v grace %v, want %v and 30", out.DeletionTimestamp, out.DeletionGracePeriodSeconds, want)
	}
	stored, err := ts.st.Get(ctx, "ns", "b")
	if err != nil || stored.DeletionTimestamp == nil {
		t.Fatalf("stored after graceful delete: %+v %v", stored, err)
	}
	// Updates during the grace period keep the object and its marks.
	stored.Status.Phase = "Stopping"
	if stored, err = ts.c.Update(ctx, stored); err != nil || stored.DeletionTimestamp == nil {
		t.Fatalf("update while the grace period runs: %+v %v", stored, err)
	}
	// A longer grace period changes nothing; a shorter one shortens it.
	del := func(q url.Values, body any) (*widget, error) {
		var w widget
		err := ts.c.Call(ctx, http.MethodDelete, "ns", "b", "", q, body, &w)
		return &w, err
	}
	if w, err := del(url.Values{"gracePeriodSeconds": {"60"}}, nil); err != nil || *w.DeletionGracePeriodSeconds != 30 || w.ResourceVersion != stored.ResourceVersion {
		t.Fatalf("longer grace: %+v %v", w, err)
	}
	if w, err := del(nil, map[string]any{"gracePeriodSeconds": 10}); err != nil || *w.DeletionGracePeriodSeconds != 10 || !w.DeletionTimestamp.Equal(clock.Now().Add(10*time.Second)) {
		t.Fatalf("shorter grace: %+v %v", w, err)
	}
	// A wrong UID precondition writes nothing.
	before, _ := ts.st.Get(ctx, "ns", "b")
	if _, err := ts.c.Delete(ctx, "ns", "b", store.WithPreconditionUID("other")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("delete with a wrong uid: %v, want ErrConflict", err)
	}
	if _, err := del(url.Values{"gracePeriodSeconds": {"x"}}, nil); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad gracePeriodSeconds: %v, want 400", err)
	}
	if after, _ := ts.st.Get(ctx, "ns", "b"); after.ResourceVersion != before.ResourceVersion {
		t.Fatal("a refused delete wrote the object")
	}
	// A dry run of the final delete reports it and keeps the object.
	if _, err := del(url.Values{"gracePeriodSeconds": {"0"}, "dryRun": {"All"}}, nil); err != nil {
		t.Fatal(err)
	}
	if after, err := ts.st.Get(ctx, "ns", "b"); err != nil || after.ResourceVersion != before.ResourceVersion {
		t.Fatalf("a dry-run delete changed the object: %v", err)
	}
	// Grace 0 (what the kubelet sends once everything stopped) deletes.
	if _, err := del(nil, map[string]any{"gracePeriodSeconds": 0, "preconditions": map[string]string{"uid": before.UID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.st.Get(ctx, "ns", "b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after the final delete: %v", err)
	}
}

// TestGracefulDeleteDryRunAndFinalizers: a dry-run graceful delete marks
// nothing; a finalizer keeps the object after the final delete, and its
// removal deletes it.
func TestGracefulDeleteDryRunAndFinalizers(t *testing.T) {
	ts := newTestServer(t, func(c *Config[*widget]) { c.Strategy = gracefulWidgets{} })
	ts.st = ts.h.cfg.Store
	ctx := context.Background()
	w := storetest.NewWidget("ns", "b", nil)
	w.Spec.Color = "bound"
	w.Finalizers = []string{"example.com/hold"}
	if _, err := ts.c.Create(ctx, w); err != nil {
		t.Fatal(err)
	}
	out, err := ts.c.Delete(store.WithDryRun(ctx), "ns", "b")
	if err != nil || out.DeletionTimestamp == nil || out.DeletionGracePeriodSeconds == nil || *out.DeletionGracePeriodSeconds != 30 {
		t.Fatalf("dry-run graceful delete answered %+v %v, want the marks", out, err)
	}
	if cur, _ := ts.st.Get(ctx, "ns", "b"); cur.DeletionTimestamp != nil {
		t.Fatal("a dry-run graceful delete marked the stored object")
	}
	if _, err := ts.c.Delete(ctx, "ns", "b"); err != nil {
		t.Fatal(err)
	}
	zero := int64(0)
	var held widget
	if err := ts.c.Call(ctx, http.MethodDelete, "ns", "b", "", nil, map[string]any{"gracePeriodSeconds": zero}, &held); err != nil {
		t.Fatal(err)
	}
	cur, err := ts.st.Get(ctx, "ns", "b")
	if err != nil || *cur.DeletionGracePeriodSeconds != 0 {
		t.Fatalf("final delete with a finalizer: %+v %v, want the object kept with grace 0", cur, err)
	}
	cur.Finalizers = nil
	if _, err := ts.c.Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.st.Get(ctx, "ns", "b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after the last finalizer went: %v", err)
	}
}

// TestClientDeleteNow: the client's DeleteNow is the final delete (grace
// 0) of an object the strategy would delete gracefully; its UID
// precondition refuses another object of the same name.
func TestClientDeleteNow(t *testing.T) {
	ts := newTestServer(t, func(c *Config[*widget]) {
		st, err := store.New[*widget](memory.New(), storetest.WidgetResource)
		if err != nil {
			t.Fatal(err)
		}
		c.Store, c.Strategy = st, gracefulWidgets{}
	})
	ts.st = ts.h.cfg.Store
	ctx := context.Background()
	bound := storetest.NewWidget("ns", "b", nil)
	bound.Spec.Color = "bound"
	created, err := ts.c.Create(ctx, bound)
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.c.DeleteNow(ctx, "ns", "b", store.WithPreconditionUID("not-"+string(created.UID))); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("DeleteNow with another UID: %v, want ErrConflict", err)
	}
	if _, err := ts.st.Get(ctx, "ns", "b"); err != nil {
		t.Fatalf("a refused DeleteNow changed the object: %v", err)
	}
	if err := ts.c.DeleteNow(ctx, "ns", "b", store.WithPreconditionUID(string(created.UID))); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.st.Get(ctx, "ns", "b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after DeleteNow: %v, want ErrNotFound (no grace period)", err)
	}
}
