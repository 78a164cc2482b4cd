package rest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/store/storetest"
	"github.com/setpoint-dev/setpoint/watch"
)

type widget = storetest.Widget

// testServer serves widgets from a memory store with a status subresource,
// a validation rule (spec.size >= 0) and a field selector on spec.color.
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
		Store: st,
		ValidateCreate: func(w *widget) error {
			if w.Spec.Size < 0 {
				return store.FieldErrors{{Field: "spec.size", Value: "-1", Reason: "must not be negative"}}
			}
			return nil
		},
		PrepareForCreate: func(w *widget) { w.Status = storetest.WidgetStatus{} },
		PrepareForUpdate: func(n, o *widget) { n.Status = o.Status },
		PrepareForStatusUpdate: func(n, o *widget) *widget {
			out := store.Clone(o)
			out.Status = n.Status
			out.ResourceVersion = n.ResourceVersion
			return out
		},
		FieldFilter: func(s string) (func(store.Object) bool, error) {
			if s == "" {
				return nil, nil
			}
			v, ok := strings.CutPrefix(s, "spec.color=")
			if !ok {
				return nil, errors.New("only spec.color=<value> is supported")
			}
			return func(o store.Object) bool { return o.(*widget).Spec.Color == v }, nil
		},
		MaxBodyBytes: 64 << 10,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	h, err := NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
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
	c, err := NewClient[*widget](srv.Client(), srv.URL, storetest.WidgetResource)
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{st: st, h: h, srv: srv, c: c}
}

func (ts *testServer) do(t testing.TB, method, path, contentType, body string) (int, *Status, []byte) {
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
	var st *Status
	if resp.StatusCode >= 300 {
		st = &Status{}
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
		{"exists", "POST", widgets, "", `{"metadata":{"name":"a"}}`, 409, ReasonAlreadyExists, "already exists"},
		{"invalid", "POST", widgets, "", `{"metadata":{"name":"b"},"spec":{"size":-1}}`, 422, ReasonInvalid, "spec.size"},
		{"bad json", "POST", widgets, "", `{"metadata":`, 400, ReasonBadRequest, "decoding Widget"},
		{"wrong kind", "POST", widgets, "", `{"kind":"Pod","metadata":{"name":"b"}}`, 400, ReasonBadRequest, `kind "Pod"`},
		{"namespace mismatch", "POST", widgets, "", `{"metadata":{"name":"b","namespace":"other"}}`, 400, ReasonBadRequest, "does not match"},
		{"yaml body", "POST", widgets, "application/yaml", `metadata: {name: b}`, 415, ReasonUnsupportedMediaType, "application/json"},
		{"too large", "POST", widgets, "", `{"metadata":{"name":"b"},"spec":{"data":"` + strings.Repeat("x", 70<<10) + `"}}`, 413, ReasonRequestEntityTooLarge, "limit"},
		{"stale update", "PUT", widgets + "/a", "", `{"metadata":{"name":"a","resourceVersion":"1"},"spec":{"size":5}}`, 409, ReasonConflict, "modified"},
		{"name mismatch", "PUT", widgets + "/a", "", `{"metadata":{"name":"z"},"spec":{"size":5}}`, 400, ReasonBadRequest, "does not match"},
		{"missing", "GET", widgets + "/nope", "", "", 404, ReasonNotFound, "not found"},
		{"bad label selector", "GET", widgets + "?labelSelector=a%20in%20(", "", "", 400, ReasonBadRequest, "labelSelector"},
		{"bad field selector", "GET", widgets + "?fieldSelector=spec.size=1", "", "", 400, ReasonBadRequest, "only spec.color"},
		{"bad limit", "GET", widgets + "?limit=-3", "", "", 400, ReasonBadRequest, "limit"},
		{"bad continue", "GET", widgets + "?continue=zzz", "", "", 400, ReasonBadRequest, "continue"},
		{"bad patch", "PATCH", widgets + "/a", "application/merge-patch+json", `[`, 400, ReasonBadRequest, "patch"},
		{"patch type", "PATCH", widgets + "/a", "text/plain", `{}`, 415, ReasonUnsupportedMediaType, "patch"},
		{"failed json patch test", "PATCH", widgets + "/a", "application/json-patch+json", `[{"op":"test","path":"/spec/size","value":9}]`, 422, ReasonInvalid, "test"},
		{"bad fence", "POST", widgets, "", `{"metadata":{"name":"b"}}`, 0, "", ""},
		{"unknown subresource", "GET", widgets + "/a/foo", "", "", 404, ReasonNotFound, "foo"},
		{"bad name", "GET", widgets + "/A_B", "", "", 400, ReasonBadRequest, "name"},
		{"delete precondition", "DELETE", widgets + "/a", "", `{"preconditions":{"uid":"other"}}`, 409, ReasonConflict, ""},
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

func TestWatchSendInitialEventsAndTable(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	for _, n := range []string{"a", "b"} {
		if _, err := ts.st.Create(ctx, storetest.NewWidget("ns", n, nil)); err != nil {
			t.Fatal(err)
		}
	}
	rev := storeRevision(t, ts.st)
	req, _ := http.NewRequest("GET", ts.srv.URL+widgets+"?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan", nil)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := ts.srv.Client().Do(req.WithContext(rctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var lines []string
	for len(lines) < 3 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 3 || !strings.Contains(lines[0], `"ADDED"`) || !strings.Contains(lines[1], `"ADDED"`) ||
		!strings.Contains(lines[2], `"BOOKMARK"`) || !strings.Contains(lines[2], `"k8s.io/initial-events-end":"true"`) ||
		!strings.Contains(lines[2], `"resourceVersion":"`+store.FormatRevision(rev)+`"`) {
		t.Fatalf("initial events: %q", lines)
	}
	// a change after the bookmark arrives next
	if _, err := ts.st.Create(ctx, storetest.NewWidget("ns", "c", nil)); err != nil {
		t.Fatal(err)
	}
	if !sc.Scan() || !strings.Contains(sc.Text(), `"ADDED"`) || !strings.Contains(sc.Text(), `"name":"c"`) {
		t.Fatalf("event after initial events: %q %v", sc.Text(), sc.Err())
	}
	// Table output
	req, _ = http.NewRequest("GET", ts.srv.URL+widgets, nil)
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
	tr, err := ts.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(tr.Body)
	tr.Body.Close()
	var tbl struct {
		Kind    string `json:"kind"`
		Columns []struct {
			Name string `json:"name"`
		} `json:"columnDefinitions"`
		Rows []struct {
			Cells []any `json:"cells"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(data, &tbl); err != nil || tbl.Kind != "Table" || len(tbl.Rows) != 3 || tbl.Rows[0].Cells[0] != "a" {
		t.Fatalf("table: %s (%v)", data, err)
	}
}

func TestWatchGoneAndOldRevision(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var revA, revC int64
	// History before the watch cache starts: a and b, compacted, then c.
	ts := newTestServer(t, func(cfg *Config[*widget]) {
		a, err := cfg.Store.Create(ctx, storetest.NewWidget("ns", "a", nil))
		if err != nil {
			t.Fatal(err)
		}
		revA, _ = store.ParseRevision(a.ResourceVersion)
		if _, err := cfg.Store.Create(ctx, storetest.NewWidget("ns", "b", nil)); err != nil {
			t.Fatal(err)
		}
		rev, _ := cfg.Store.Backend().Revision(ctx)
		if err := cfg.Store.Backend().Compact(ctx, rev); err != nil {
			t.Fatal(err)
		}
		c, err := cfg.Store.Create(ctx, storetest.NewWidget("ns", "c", nil))
		if err != nil {
			t.Fatal(err)
		}
		revC, _ = store.ParseRevision(c.ResourceVersion)
	})
	// A revision older than the cache but still in the store's history is
	// replayed from the store.
	w, err := ts.c.Watch(ctx, "ns", store.WatchOptions{AfterRevision: revC - 1})
	if err != nil {
		t.Fatal(err)
	}
	ev := <-w.Events()
	w.Stop()
	if ev.Type != watch.Added || ev.Object.Name != "c" {
		t.Fatalf("replayed event: %+v (%v)", ev, w.Err())
	}
	// A compacted revision gives 410 -> ErrGone, at the call or as the
	// stream's end.
	w, err = ts.c.Watch(ctx, "ns", store.WatchOptions{AfterRevision: revA - 1})
	if err == nil {
		for range w.Events() {
			t.Fatalf("an event from a compacted revision")
		}
		err = w.Err()
	}
	if !errors.Is(err, store.ErrGone) {
		t.Fatalf("watch from a compacted revision: %v, want ErrGone", err)
	}
}
