package apiserver

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// TestSubresourceErrorsNameTheObject: the subresources served outside the
// generic handler (pods/binding, pods/eviction, namespaces/finalize) word
// their errors as Kubernetes does, naming the resource and the object and
// never a storage key; a delete precondition that fails says which, in
// Kubernetes' words.
func TestSubresourceErrorsNameTheObject(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	admin := s.httpClient(t, true)
	p, err := podClient(t, s).Create(ctx, newPod("default", "p", nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path, body string
		code               int
		msg                string
	}{
		{"POST", "/api/v1/namespaces/default/pods/nope/binding", `{"target":{"name":"n1"}}`, 404, `pods "nope" not found`},
		{"POST", "/api/v1/namespaces/default/pods/nope/eviction", `{"metadata":{"name":"nope"}}`, 404, `pods "nope" not found`},
		{"PUT", "/api/v1/namespaces/nope/finalize", `{"metadata":{"name":"nope"},"spec":{"finalizers":[]}}`, 404, `namespaces "nope" not found`},
		{"DELETE", "/api/v1/namespaces/default/pods/p", `{"preconditions":{"uid":"not-it"}}`, 409,
			`Operation cannot be fulfilled on pods "p": Precondition failed: UID in precondition: not-it, UID in object meta: ` + p.UID},
		{"DELETE", "/api/v1/namespaces/default/pods/p", `{"preconditions":{"resourceVersion":"1"}}`, 409,
			`Operation cannot be fulfilled on pods "p": Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: ` + p.ResourceVersion},
		{"POST", "/api/v1/namespaces/default/pods/p/binding", `{"kind":"Pod","target":{"name":"n1"}}`, 400, `the object's kind "Pod" does not match the expected kind "Binding"`},
		{"POST", "/api/v1/namespaces/default/pods/p/eviction", `{"apiVersion":"apps/v1","metadata":{"name":"p"}}`, 400, `the object's apiVersion "apps/v1" does not match the expected "policy/v1" or "policy/v1beta1"`},
	} {
		code, body := s.rawType(t, admin, tc.method, tc.path, "application/json", tc.body)
		var st watch.Status
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatalf("%s %s: %d %s: not a Status: %v", tc.method, tc.path, code, body, err)
		}
		if code != tc.code || st.Message != tc.msg || strings.Contains(body, "/setpoint/") {
			t.Errorf("%s %s %s: %d %q, want %d %q", tc.method, tc.path, tc.body, code, st.Message, tc.code, tc.msg)
		}
	}
	// an unknown media type is 415, and a protobuf Binding (what
	// client-go's default client sends) binds
	path := "/api/v1/namespaces/default/pods/p/binding"
	if code, body := s.rawType(t, admin, "POST", path, "text/plain", `{"target":{"name":"n1"}}`); code != 415 {
		t.Fatalf("binding as text/plain: %d %s, want 415", code, body)
	}
	pb, err := watch.MarshalEnvelope("v1", "Binding", &api.Binding{ObjectMeta: store.ObjectMeta{Name: "p"}, Target: api.ObjectReference{Kind: "Node", Name: "n1"}})
	if err != nil {
		t.Fatal(err)
	}
	if code, body := s.rawType(t, admin, "POST", path, watch.MediaTypeProtobuf, string(pb)); code != 201 {
		t.Fatalf("binding in protobuf: %d %s", code, body)
	}
	if got, err := podClient(t, s).Get(ctx, "default", "p"); err != nil || got.Spec.NodeName != "n1" {
		t.Fatalf("after the protobuf binding: %v %v", got.Spec.NodeName, err)
	}
	if code, body := s.rawType(t, admin, "POST", path, watch.MediaTypeProtobuf, string(pb[:len(pb)-3])); code != 400 {
		t.Fatalf("truncated protobuf binding: %d %s, want 400", code, body)
	}
}
