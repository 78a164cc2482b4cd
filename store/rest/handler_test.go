package rest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/store/storetest"
	"github.com/setpoint-dev/setpoint/watch"
)

type widget = storetest.Widget

// widgetStrategy: a status subresource, a validation rule (spec.size >=
// 0) and a field selector on spec.color; no scale subresource.
type widgetStrategy struct{ NoRules[*widget] }

func (widgetStrategy) Validate(w *widget) error {
	if w.Spec.Size < 0 {
		return store.FieldErrors{{Field: "spec.size", Value: "-1", Reason: "must not be negative"}}
	}
	return nil
}

func (s widgetStrategy) ValidateUpdate(w, _ *widget) error { return s.Validate(w) }

func (widgetStrategy) PrepareForCreate(w *widget) { w.Status = storetest.WidgetStatus{} }

func (widgetStrategy) PrepareForUpdate(n, o *widget) { n.Status = o.Status }

func (widgetStrategy) PrepareForStatusUpdate(n, o *widget) *widget {
	out := store.Clone(o)
	out.Status = n.Status
	out.ResourceVersion = n.ResourceVersion
	return out
}

func (widgetStrategy) FieldFilter(s string) (func(store.Object) bool, error) {
	if s == "" {
		return nil, nil
	}
	v, ok := strings.CutPrefix(s, "spec.color=")
	if !ok {
		return nil, errors.New("only spec.color=<value> is supported")
	}
	return func(o store.Object) bool { return o.(*widget).Spec.Color == v }, nil
}

// testServer serves widgets from a memory store with widgetStrategy.
type testServer struct {
	st  *store.Store[*widget]
	h   *Handler[*widget]
	srv *httptest.Server
	c   *Client[*widget]
}

func newTestServer(t testing.TB, mutate ...func(*Config[*widget])) *testServer {
	t.Helper()
	b := memory.New()
	t.Cleanup(func() { b.Close() })
	st, err := store.New[*widget](b, storetest.WidgetResource)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config[*widget]{
		Store:        st,
		Strategy:     widgetStrategy{},
		MaxBodyBytes: 64 << 10,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	h, err := NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := startHandler(t, h)
	c, err := NewClient[*widget](srv.Client(), srv.URL, storetest.WidgetResource)
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{st: st, h: h, srv: srv, c: c}
}

// startHandler runs h (its watch cache) and an HTTP server for it until the test
// ends.
func startHandler[T store.Object](t testing.TB, h *Handler[T]) *httptest.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		cancel()
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return srv
}

func (ts *testServer) do(t testing.TB, method, path, contentType, body string) (int, *watch.Status, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := ts.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var st *watch.Status
	if resp.StatusCode >= 300 {
		st = &watch.Status{}
		if err := json.Unmarshal(data, st); err != nil || st.Kind != "Status" || int(st.Code) != resp.StatusCode {
			t.Fatalf("%s %s: %d response is not a matching Status: %s", method, path, resp.StatusCode, data)
		}
	}
	return resp.StatusCode, st, data
}

const widgets = "/apis/test.setpoint.dev/v1/namespaces/ns/widgets"

func storeRevision(t *testing.T, st *store.Store[*widget]) int64 {
	t.Helper()
	rev, err := st.Backend().Revision(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

func TestCRUDAndErrors(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	code, _, body := ts.do(t, "POST", widgets, "application/json",
		`{"metadata":{"name":"a","labels":{"app":"x"}},"spec":{"size":1,"color":"red"},"status":{"phase":"set-by-client"}}`)
	if code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	a, err := ts.st.Get(ctx, "ns", "a")
	if err != nil || a.Spec.Color != "red" || a.Status.Phase != "" {
		t.Fatalf("stored %+v, %v; want color red and the client's status dropped", a, err)
	}
	// generateName
	code, _, body = ts.do(t, "POST", widgets, "", `{"metadata":{"generateName":"g-"},"spec":{"color":"blue"}}`)
	var g widget
	if code != 201 || json.Unmarshal(body, &g) != nil || !strings.HasPrefix(g.Name, "g-") || len(g.Name) != 7 {
		t.Fatalf("generateName create: %d %s", code, body)
	}
	rev := storeRevision(t, ts.st)
	for _, tc := range []struct {
		name, method, path, ct, body string
		code                         int
		reason, want                 string
	}{
		{"exists", "POST", widgets, "", `{"metadata":{"name":"a"}}`, 409, watch.StatusReasonAlreadyExists, "already exists"},
		{"invalid", "POST", widgets, "", `{"metadata":{"name":"b"},"spec":{"size":-1}}`, 422, watch.StatusReasonInvalid, "spec.size"},
		{"bad json", "POST", widgets, "", `{"metadata":`, 400, watch.StatusReasonBadRequest, "decoding Widget"},
		{"wrong kind", "POST", widgets, "", `{"kind":"Pod","metadata":{"name":"b"}}`, 400, watch.StatusReasonBadRequest, `kind "Pod"`},
		{"namespace mismatch", "POST", widgets, "", `{"metadata":{"name":"b","namespace":"other"}}`, 400, watch.StatusReasonBadRequest, "does not match"},
		{"yaml body", "POST", widgets, "application/yaml", `metadata: {name: b}`, 415, watch.StatusReasonUnsupportedMediaType, "application/json"},
		{"too large", "POST", widgets, "", `{"metadata":{"name":"b"},"spec":{"data":"` + strings.Repeat("x", 70<<10) + `"}}`, 413, watch.StatusReasonRequestEntityTooLarge, "limit"},
		{"stale update", "PUT", widgets + "/a", "", `{"metadata":{"name":"a","resourceVersion":"1"},"spec":{"size":5}}`, 409, watch.StatusReasonConflict, "modified"},
		{"name mismatch", "PUT", widgets + "/a", "", `{"metadata":{"name":"z"},"spec":{"size":5}}`, 400, watch.StatusReasonBadRequest, "does not match"},
		{"missing", "GET", widgets + "/nope", "", "", 404, watch.StatusReasonNotFound, "not found"},
		{"bad label selector", "GET", widgets + "?labelSelector=a%20in%20(", "", "", 400, watch.StatusReasonBadRequest, "labelSelector"},
		{"bad field selector", "GET", widgets + "?fieldSelector=spec.size=1", "", "", 400, watch.StatusReasonBadRequest, "only spec.color"},
		{"bad limit", "GET", widgets + "?limit=-3", "", "", 400, watch.StatusReasonBadRequest, "limit"},
		{"bad continue", "GET", widgets + "?continue=zzz", "", "", 400, watch.StatusReasonBadRequest, "continue"},
		{"bad patch", "PATCH", widgets + "/a", "application/merge-patch+json", `[`, 400, watch.StatusReasonBadRequest, "patch"},
		{"patch type", "PATCH", widgets + "/a", "text/plain", `{}`, 415, watch.StatusReasonUnsupportedMediaType, "patch"},
		{"failed json patch test", "PATCH", widgets + "/a", "application/json-patch+json", `[{"op":"test","path":"/spec/size","value":9}]`, 422, watch.StatusReasonInvalid, "test"},
		{"bad fence", "POST", widgets, "", `{"metadata":{"name":"b"}}`, 0, "", ""},
		{"unknown subresource", "GET", widgets + "/a/foo", "", "", 404, watch.StatusReasonNotFound, "foo"},
		{"bad name", "GET", widgets + "/A_B", "", "", 400, watch.StatusReasonBadRequest, "name"},
		{"delete precondition", "DELETE", widgets + "/a", "", `{"preconditions":{"uid":"other"}}`, 409, watch.StatusReasonConflict, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "bad fence" {
				req, _ := http.NewRequest("POST", ts.srv.URL+widgets, strings.NewReader(tc.body))
				req.Header.Set(FenceHeader, "nokey")
				resp, err := ts.srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 400 {
					t.Fatalf("malformed fence header: %d, want 400", resp.StatusCode)
				}
				return
			}
			code, st, body := ts.do(t, tc.method, tc.path, tc.ct, tc.body)
			if code != tc.code || st == nil || st.Reason != tc.reason || !strings.Contains(st.Message, tc.want) {
				t.Fatalf("%s %s: got %d %s, want %d %s mentioning %q", tc.method, tc.path, code, body, tc.code, tc.reason, tc.want)
			}
		})
	}
	if got := storeRevision(t, ts.st); got != rev {
		t.Fatalf("rejected requests changed the store: revision %d -> %d", rev, got)
	}

	// update without resourceVersion is unconditional; status is kept
	if _, err := ts.st.GuaranteedUpdate(ctx, "ns", "a", func(w *widget) (*widget, error) { w.Status.Phase = "Running"; return w, nil }); err != nil {
		t.Fatal(err)
	}
	code, _, body = ts.do(t, "PUT", widgets+"/a", "", `{"metadata":{"name":"a","labels":{"app":"x"}},"spec":{"size":5}}`)
	if code != 200 {
		t.Fatalf("update: %d %s", code, body)
	}
	a, _ = ts.st.Get(ctx, "ns", "a")
	if a.Spec.Size != 5 || a.Status.Phase != "Running" {
		t.Fatalf("after update: %+v; want size 5 and status kept", a)
	}
	// status subresource changes only the status
	code, _, body = ts.do(t, "PATCH", widgets+"/a/status", "application/merge-patch+json", `{"spec":{"size":9},"status":{"phase":"Done"}}`)
	a, _ = ts.st.Get(ctx, "ns", "a")
	if code != 200 || a.Spec.Size != 5 || a.Status.Phase != "Done" {
		t.Fatalf("status patch: %d %s; stored %+v", code, body, a)
	}
	// merge, JSON and strategic patches
	for _, p := range []struct{ ct, body string }{
		{"application/merge-patch+json", `{"spec":{"color":"green"}}`},
		{"application/json-patch+json", `[{"op":"replace","path":"/spec/size","value":7}]`},
		{"application/strategic-merge-patch+json", `{"metadata":{"labels":{"tier":"db"}}}`},
	} {
		if code, _, body := ts.do(t, "PATCH", widgets+"/a", p.ct, p.body); code != 200 {
			t.Fatalf("patch %s: %d %s", p.ct, code, body)
		}
	}
	a, _ = ts.st.Get(ctx, "ns", "a")
	if a.Spec.Color != "green" || a.Spec.Size != 7 || a.Labels["tier"] != "db" || a.Labels["app"] != "x" {
		t.Fatalf("after patches: %+v", a)
	}
	// list with selectors and paging
	l, err := ts.c.List(ctx, "ns", store.ListOptions{Selector: mustSel(t, "app=x")})
	if err != nil || len(l.Items) != 1 || l.Items[0].Name != "a" {
		t.Fatalf("label-selected list: %+v, %v", l, err)
	}
	code, _, body = ts.do(t, "GET", widgets+"?fieldSelector=spec.color%3Dblue", "", "")
	if code != 200 || !strings.Contains(string(body), g.Name) || strings.Contains(string(body), `"name":"a"`) {
		t.Fatalf("field-selected list: %d %s", code, body)
	}
	p1, err := ts.c.List(ctx, "", store.ListOptions{Limit: 1})
	if err != nil || len(p1.Items) != 1 || p1.Continue == "" {
		t.Fatalf("page 1: %+v %v", p1, err)
	}
	p2, err := ts.c.List(ctx, "", store.ListOptions{Limit: 1, Continue: p1.Continue})
	if err != nil || len(p2.Items) != 1 || p2.Continue != "" || p2.Items[0].Name == p1.Items[0].Name {
		t.Fatalf("page 2: %+v %v", p2, err)
	}
	// deletecollection with a selector deletes only what matches
	if _, err := ts.st.Create(ctx, storetest.NewWidget("ns", "dc1", map[string]string{"dc": "yes"})); err != nil {
		t.Fatal(err)
	}
	code, _, body = ts.do(t, "DELETE", widgets+"?labelSelector=dc%3Dyes", "", "")
	if _, err := ts.st.Get(ctx, "ns", "dc1"); code != 200 || !strings.Contains(string(body), "dc1") || !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deletecollection: %d %s; dc1: %v", code, body, err)
	}
	if _, err := ts.st.Get(ctx, "ns", "a"); err != nil {
		t.Fatalf("deletecollection deleted a non-matching object: %v", err)
	}
	// delete with a finalizer: 202 and the object stays until it is removed
	if _, err := ts.st.GuaranteedUpdate(ctx, "ns", "a", func(w *widget) (*widget, error) { w.Finalizers = []string{"x/y"}; return w, nil }); err != nil {
		t.Fatal(err)
	}
	code, _, body = ts.do(t, "DELETE", widgets+"/a", "", "")
	if code != 202 || !strings.Contains(string(body), "deletionTimestamp") {
		t.Fatalf("delete with finalizer: %d %s", code, body)
	}
	code, _, _ = ts.do(t, "PATCH", widgets+"/a", "application/merge-patch+json", `{"metadata":{"finalizers":null}}`)
	if _, err := ts.st.Get(ctx, "ns", "a"); code != 200 || !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("removing the last finalizer: %d, then get: %v; want the object gone", code, err)
	}
}

func mustSel(t *testing.T, s string) store.Selector {
	t.Helper()
	sel, err := store.ParseSelector(s)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}
