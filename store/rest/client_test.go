package rest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/storetest"
)

func TestClientMapsErrorsAndFences(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	w := storetest.NewWidget("ns", "a", nil)
	if _, err := ts.c.Create(ctx, w); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.c.Create(ctx, w); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("second create: %v, want ErrAlreadyExists", err)
	}
	if _, err := ts.c.Get(ctx, "ns", "b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get missing: %v, want ErrNotFound", err)
	}
	stale := storetest.NewWidget("ns", "a", nil)
	stale.ResourceVersion = "1"
	if _, err := ts.c.Update(ctx, stale); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale update: %v, want ErrConflict", err)
	}
	bad := storetest.NewWidget("ns", "c", nil)
	bad.Spec.Size = -1
	if _, err := ts.c.Create(ctx, bad); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("invalid create: %v, want ErrInvalid", err)
	}
	if got, want := ts.c.Key("ns", "lock"), ts.st.Key("ns", "lock"); got != want {
		t.Fatalf("client Key %q, store Key %q", got, want)
	}
	// a fence on a lock object that no longer has that create revision
	lock, err := ts.st.Create(ctx, storetest.NewWidget("ns", "lock", nil))
	if err != nil {
		t.Fatal(err)
	}
	rev, _ := store.ParseRevision(lock.ResourceVersion)
	fence := store.Fence{Key: ts.st.Key("ns", "lock"), CreateRevision: rev}
	fctx := store.WithFence(ctx, fence)
	if _, err := ts.c.Create(fctx, storetest.NewWidget("ns", "f1", nil)); err != nil {
		t.Fatalf("create under a valid fence: %v", err)
	}
	if _, err := ts.st.Delete(ctx, "ns", "lock"); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.c.Create(fctx, storetest.NewWidget("ns", "f2", nil)); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("create under a stale fence: %v, want ErrFenced", err)
	}
	if _, err := ts.st.Get(ctx, "ns", "f2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("fenced create wrote f2: %v", err)
	}
	out, err := ts.c.GuaranteedUpdate(ctx, "ns", "a", func(w *widget) (*widget, error) { w.Spec.Size = 3; return w, nil })
	if err != nil || out.Spec.Size != 3 {
		t.Fatalf("GuaranteedUpdate: %+v %v", out, err)
	}
	if _, err := ts.c.Delete(ctx, "ns", "a", store.WithPreconditionResourceVersion("1")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("delete with stale precondition: %v, want ErrConflict", err)
	}
	if _, err := ts.c.Delete(ctx, "ns", "a", store.WithPreconditionUID(out.UID)); err != nil {
		t.Fatalf("delete: %v", err)
	}
}

func TestClientWatchFollowsStore(t *testing.T) {
	ts := newTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sel := mustSel(t, "app=x")
	w, err := ts.c.Watch(ctx, "ns", store.WatchOptions{Selector: sel})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	mk := func(name, app string) {
		if _, err := ts.st.Create(ctx, storetest.NewWidget("ns", name, map[string]string{"app": app})); err != nil {
			t.Fatal(err)
		}
	}
	mk("a", "x")
	mk("b", "y") // filtered out
	if _, err := ts.st.GuaranteedUpdate(ctx, "ns", "b", func(o *widget) (*widget, error) { o.Labels["app"] = "x"; return o, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.st.GuaranteedUpdate(ctx, "ns", "a", func(o *widget) (*widget, error) { o.Labels["app"] = "z"; return o, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.st.Delete(ctx, "ns", "b"); err != nil {
		t.Fatal(err)
	}
	want := []string{"ADDED a", "ADDED b", "DELETED a", "DELETED b"}
	var last int64
	for i, wnt := range want {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				t.Fatalf("stream ended: %v", w.Err())
			}
			if got := string(ev.Type) + " " + ev.Object.Name; got != wnt {
				t.Fatalf("event %d = %s, want %s", i, got, wnt)
			}
			if ev.Revision <= last {
				t.Fatalf("event %d revision %d not after %d", i, ev.Revision, last)
			}
			last = ev.Revision
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", wnt)
		}
	}
}

// TestClientUpdateStatus: UpdateStatus writes only the status, through the
// status subresource, and honours the resourceVersion precondition and
// fences.
func TestClientUpdateStatus(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	w, err := ts.c.Create(ctx, storetest.NewWidget("ns", "s", nil))
	if err != nil {
		t.Fatal(err)
	}
	w.Status.Phase = "Running"
	w.Spec.Size = 7 // ignored by a status write
	out, err := ts.c.UpdateStatus(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status.Phase != "Running" || out.Spec.Size == 7 {
		t.Fatalf("UpdateStatus returned phase %q size %d, want Running and the stored size", out.Status.Phase, out.Spec.Size)
	}
	got, _ := ts.st.Get(ctx, "ns", "s")
	if got.Status.Phase != "Running" || got.Spec.Size == 7 {
		t.Fatalf("stored phase %q size %d", got.Status.Phase, got.Spec.Size)
	}
	w.Status.Phase = "Stale" // w still has the first resourceVersion
	if _, err := ts.c.UpdateStatus(ctx, w); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale status update: %v, want ErrConflict", err)
	}
	if got, _ := ts.st.Get(ctx, "ns", "s"); got.Status.Phase != "Running" {
		t.Fatalf("a rejected status update changed the phase to %q", got.Status.Phase)
	}
	if _, err := ts.c.UpdateStatus(ctx, &widget{}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("status update without a name: %v, want ErrInvalid", err)
	}
}
