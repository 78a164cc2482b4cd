package apiserver

import (
	"context"
	"testing"
)

func TestBinding(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	admin := s.httpClient(t, true)
	pods := podClient(t, s)
	p, err := pods.Create(ctx, newPod("default", "p", nil))
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/namespaces/default/pods/p/binding"
	rev := s.revision(t)
	for _, tc := range []struct {
		body string
		code int
	}{
		{`{"target":{}}`, 422},
		{`{"target":{"kind":"Pod","name":"n1"}}`, 422},
		{`{"metadata":{"name":"other"},"target":{"name":"n1"}}`, 400},
		{`{"metadata":{"uid":"wrong"},"target":{"name":"n1"}}`, 409},
		{`{`, 400},
	} {
		if code, body := s.raw(t, admin, "POST", path, "", tc.body); code != tc.code {
			t.Fatalf("binding %s: %d %s, want %d", tc.body, code, body, tc.code)
		}
	}
	if got := s.revision(t); got != rev {
		t.Fatalf("rejected bindings wrote: %d -> %d", rev, got)
	}
	if code, body := s.raw(t, admin, "POST", path, "", `{"metadata":{"name":"p","uid":"`+p.UID+`"},"target":{"kind":"Node","name":"n1"}}`); code != 201 {
		t.Fatalf("binding: %d %s", code, body)
	}
	got, err := pods.Get(ctx, "default", "p")
	if err != nil || got.Spec.NodeName != "n1" {
		t.Fatalf("bound pod: %+v %v", got, err)
	}
	if code, body := s.raw(t, admin, "POST", path, "", `{"target":{"name":"n2"}}`); code != 409 {
		t.Fatalf("second binding: %d %s, want 409", code, body)
	}
}
