package rest

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/storetest"
	"github.com/setpoint-dev/setpoint/watch"
)

func TestClientFieldSelectorFiltersOnServer(t *testing.T) {
	ts := newTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	red, err := NewClient[*widget](ts.srv.Client(), ts.srv.URL, storetest.WidgetResource, WithFieldSelector("spec.color=red"))
	if err != nil {
		t.Fatal(err)
	}
	for name, color := range map[string]string{"a": "red", "b": "blue", "c": "red"} {
		w := storetest.NewWidget("ns", name, nil)
		w.Spec.Color = color
		if _, err := ts.c.Create(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	l, err := red.List(ctx, "ns", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 2 || l.Items[0].Name != "a" || l.Items[1].Name != "c" {
		t.Fatalf("list with fieldSelector: %d items %v", len(l.Items), l.Items)
	}
	w, err := red.Watch(ctx, "ns", store.WatchOptions{AfterRevision: l.Revision})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	blue := storetest.NewWidget("ns", "d", nil)
	blue.Spec.Color = "blue"
	if _, err := ts.c.Create(ctx, blue); err != nil {
		t.Fatal(err)
	}
	r := storetest.NewWidget("ns", "e", nil)
	r.Spec.Color = "red"
	if _, err := ts.c.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-w.Events():
		if ev.Type != watch.Added || ev.Object.Name != "e" {
			t.Fatalf("first event %v %s, want Added e (the blue d is filtered by the server)", ev.Type, ev.Object.Name)
		}
	case <-ctx.Done():
		t.Fatal("no event")
	}
	bad, _ := NewClient[*widget](ts.srv.Client(), ts.srv.URL, storetest.WidgetResource, WithFieldSelector("spec.size=1"))
	if _, err := bad.List(ctx, "ns", store.ListOptions{}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("unsupported field selector: %v, want ErrInvalid (400)", err)
	}
}

func TestClientCallSubresource(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	w, err := ts.c.Create(ctx, storetest.NewWidget("ns", "a", nil))
	if err != nil {
		t.Fatal(err)
	}
	w.Status.Phase = "Done"
	w.Spec.Size = 7 // ignored by a status update
	var out widget
	if err := ts.c.Call(ctx, http.MethodPut, "ns", "a", "status", nil, w, &out); err != nil {
		t.Fatal(err)
	}
	if out.Status.Phase != "Done" || out.Spec.Size != 0 {
		t.Fatalf("status update answered %+v", out)
	}
	got, _ := ts.st.Get(ctx, "ns", "a")
	if got.Status.Phase != "Done" || got.Spec.Size != 0 {
		t.Fatalf("stored %+v", got)
	}
	var ce *ClientError
	if err := ts.c.Call(ctx, http.MethodPut, "ns", "a", "nope", nil, w, nil); !errors.As(err, &ce) || ce.Status.Code != http.StatusNotFound {
		t.Fatalf("unknown subresource: %v, want 404", err)
	}
	if err := ts.c.Call(ctx, http.MethodGet, "ns", "a", "", nil, nil, nil); err != nil {
		t.Fatalf("get discarding the answer: %v", err)
	}
}
