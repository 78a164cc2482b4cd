package dynamic_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/multicluster/internal/dynamic"
	"github.com/setpoint-dev/setpoint/store"
)

// TestApplyGetDelete: Apply creates and then updates an object found by
// apiVersion and kind through discovery; Get reads it back; Delete removes
// it and is quiet when it is gone; an unknown kind, a namespaced kind
// without a namespace and an object the server refuses each give an error
// saying so.
func TestApplyGetDelete(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	c := dynamic.New(cs.HTTPClient(), cs.Server())
	ctx := context.Background()
	cm := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"default"},"data":{"a":"1"}}`
	if _, err := c.Apply(ctx, []byte(cm), "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx, []byte(strings.Replace(cm, `"1"`, `"2"`, 1)), "test"); err != nil {
		t.Fatal(err)
	}
	got, err := cs.ConfigMaps().Get(ctx, "default", "x")
	if err != nil || got.Data["a"] != "2" {
		t.Fatalf("after two applies: %v, %v; want a=2", got, err)
	}
	ref := dynamic.Ref{APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "x"}
	data, err := c.Get(ctx, ref)
	if err != nil || !strings.Contains(string(data), `"a":"2"`) {
		t.Fatalf("Get: %s, %v", data, err)
	}
	dep := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"default"},"spec":{"selector":{"matchLabels":{"a":"b"}},
		"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}`
	if _, err := c.Apply(ctx, []byte(dep), "test"); err != nil {
		t.Fatalf("apply in a named group: %v", err)
	}
	if err := c.Delete(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, ref); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if _, err := c.Get(ctx, ref); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after delete: %v, want not found", err)
	}
	for _, bad := range []struct{ obj, want string }{
		{`{"apiVersion":"v1","kind":"Gadget","metadata":{"name":"g"}}`, "no kind Gadget in v1"},
		{`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"g"}}`, "is namespaced"},
		{`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default"},"spec":{"containers":[]}}`, "containers"},
		{`[1]`, "not a JSON object"},
	} {
		_, err := c.Apply(ctx, []byte(bad.obj), "test")
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("apply %s: %v, want an error with %q", bad.obj, err, bad.want)
		}
	}
}

// TestWatch: a watch of one object first reports its current state as
// ADDED, then each change of it and none of another object's; it returns
// nil when its context ends, and an error for an unknown kind.
func TestWatch(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	c := dynamic.New(cs.HTTPClient(), cs.Server())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cm := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s","namespace":"default"},"data":{"a":"%s"}}`
	for _, name := range []string{"x", "other"} {
		if _, err := c.Apply(ctx, []byte(fmt.Sprintf(cm, name, "1")), "test"); err != nil {
			t.Fatal(err)
		}
	}
	events := make(chan dynamic.Event, 10)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- c.Watch(wctx, dynamic.Ref{APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "x"}, func(e dynamic.Event) { events <- e })
	}()
	next := func() dynamic.Event {
		select {
		case e := <-events:
			return e
		case <-ctx.Done():
			t.Fatal("no watch event within a minute")
			return dynamic.Event{}
		}
	}
	if e := next(); e.Type != "ADDED" || !strings.Contains(string(e.Object), `"a":"1"`) || !strings.Contains(string(e.Object), `"name":"x"`) {
		t.Fatalf("first event: %s %s", e.Type, e.Object)
	}
	if _, err := c.Apply(ctx, []byte(fmt.Sprintf(cm, "other", "2")), "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx, []byte(fmt.Sprintf(cm, "x", "3")), "test"); err != nil {
		t.Fatal(err)
	}
	if e := next(); e.Type != "MODIFIED" || !strings.Contains(string(e.Object), `"a":"3"`) || !strings.Contains(string(e.Object), `"name":"x"`) {
		t.Fatalf("after the change: %s %s (another object's change must not show)", e.Type, e.Object)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("Watch after its context ended: %v", err)
	}
	err := c.Watch(ctx, dynamic.Ref{APIVersion: "v1", Kind: "Gadget", Namespace: "default", Name: "x"}, func(dynamic.Event) {})
	if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "no kind Gadget") {
		t.Errorf("watching an unknown kind: %v", err)
	}
}
