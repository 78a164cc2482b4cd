package rest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/store/rest/fieldmanager"
	"github.com/setpoint-dev/setpoint/watch"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// appliance is the server-side apply test type: a list map (parts), a set
// (tags), a defaulted field (replicas) and a status subresource, with the
// OpenAPI schema in testdata/appliance.openapi.json.
type appliance struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             applianceSpec   `json:"spec,omitempty"`
	Status           applianceStatus `json:"status,omitempty"`
}

type applianceSpec struct {
	Replicas *int32          `json:"replicas,omitempty"`
	Image    string          `json:"image,omitempty"`
	Tags     []string        `json:"tags,omitempty"`
	Parts    []appliancePart `json:"parts,omitempty"`
}

type appliancePart struct {
	Name  string `json:"name"`
	Count int    `json:"count,omitempty"`
}

type applianceStatus struct {
	Ready int    `json:"ready,omitempty"`
	Phase string `json:"phase,omitempty"`
}

var applianceResource = store.Resource{Name: "appliances", APIVersion: "test.setpoint.dev/v1", Kind: "Appliance", Namespaced: true}

const appliances = "/apis/test.setpoint.dev/v1/namespaces/ns/appliances"

// applianceStrategy defaults replicas to 1, rejects negative replicas, and
// has a status subresource; its apply type comes from the test schema.
type applianceStrategy struct {
	NoRules[*appliance]
	typ typed.ParseableType
}

func (applianceStrategy) Default(g *appliance) {
	if g.Spec.Replicas == nil {
		one := int32(1)
		g.Spec.Replicas = &one
	}
}

func (applianceStrategy) Validate(g *appliance) error {
	if g.Spec.Replicas != nil && *g.Spec.Replicas < 0 {
		return store.FieldErrors{{Field: "spec.replicas", Reason: "must not be negative"}}
	}
	return nil
}

func (s applianceStrategy) ValidateUpdate(g, _ *appliance) error { return s.Validate(g) }
func (applianceStrategy) PrepareForCreate(g *appliance)          { g.Status = applianceStatus{} }
func (applianceStrategy) PrepareForUpdate(n, o *appliance)       { n.Status = o.Status }
func (applianceStrategy) PrepareForStatusUpdate(n, o *appliance) *appliance {
	out := store.Clone(o)
	out.Status = n.Status
	out.ResourceVersion = n.ResourceVersion
	return out
}
func (s applianceStrategy) ApplyType() typed.ParseableType { return s.typ }

var (
	_ ApplyTypeProvider          = applianceStrategy{}
	_ StatusPreparer[*appliance] = applianceStrategy{}
)

func applianceType(t testing.TB) typed.ParseableType {
	t.Helper()
	doc, err := os.ReadFile("testdata/appliance.openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	types, err := fieldmanager.NewTypes(doc)
	if err != nil {
		t.Fatal(err)
	}
	typ, ok := types.Kind(applianceResource.APIVersion, applianceResource.Kind)
	if !ok {
		t.Fatal("no Appliance in the test schema")
	}
	return typ
}

type applianceServer struct {
	st    *store.Store[*appliance]
	h     *Handler[*appliance]
	srv   *httptest.Server
	clock *clockwork.FakeClock
}

var testEpoch = time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)

func newApplianceServer(t testing.TB) *applianceServer {
	t.Helper()
	b := memory.New()
	t.Cleanup(func() { b.Close() })
	st, err := store.New[*appliance](b, applianceResource)
	if err != nil {
		t.Fatal(err)
	}
	clk := clockwork.NewFakeClockAt(testEpoch)
	h, err := NewHandler(Config[*appliance]{Store: st, Strategy: applianceStrategy{typ: applianceType(t)}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	srv := startHandler(t, h)
	return &applianceServer{st: st, h: h, srv: srv, clock: clk}
}

// request sends one request with an optional User-Agent and decodes the
// answer: the object, or the Status of an error.
func (gs *applianceServer) request(t testing.TB, method, path, ct, ua, body string) (int, *appliance, *watch.Status) {
	t.Helper()
	req, err := http.NewRequest(method, gs.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	resp, err := gs.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		st := &watch.Status{}
		if err := json.Unmarshal(data, st); err != nil || st.Kind != "Status" || int(st.Code) != resp.StatusCode {
			t.Fatalf("%s %s: %d is not a matching Status: %s", method, path, resp.StatusCode, data)
		}
		return resp.StatusCode, nil, st
	}
	g := &appliance{}
	if err := json.Unmarshal(data, g); err != nil {
		t.Fatalf("%s %s: decoding %s: %v", method, path, data, err)
	}
	return resp.StatusCode, g, nil
}

// apply sends a server-side apply of body as manager (query may add
// force=true and the like).
func (gs *applianceServer) apply(t testing.TB, name, manager, query, body string) (int, *appliance, *watch.Status) {
	t.Helper()
	q := "?fieldManager=" + manager
	if query != "" {
		q += "&" + query
	}
	return gs.request(t, "PATCH", appliances+"/"+name+q, "application/apply-patch+yaml", "", body)
}

func (gs *applianceServer) revision(t testing.TB) int64 {
	t.Helper()
	rev, err := gs.st.Backend().Revision(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// entryOf returns manager's managedFields entry with operation op.
func entryOf(t testing.TB, g *appliance, manager, op string) store.ManagedFieldsEntry {
	t.Helper()
	for _, e := range g.ManagedFields {
		if e.Manager == manager && e.Operation == op {
			return e
		}
	}
	b, _ := json.Marshal(g.ManagedFields)
	t.Fatalf("no %s entry of %q in %s", op, manager, b)
	return store.ManagedFieldsEntry{}
}

func hasEntry(g *appliance, manager string) bool {
	for _, e := range g.ManagedFields {
		if e.Manager == manager {
			return true
		}
	}
	return false
}
