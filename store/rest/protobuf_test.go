package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/internal/pbwire"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/watch"
)

const (
	pbType   = watch.MediaTypeProtobuf
	jsonType = watch.MediaTypeJSON
	tableAcc = "application/json;as=Table;v=v1;g=meta.k8s.io"
)

// gearStrategy: spec.size must not be negative.
type gearStrategy struct{ NoRules[*gear] }

func (gearStrategy) Validate(g *gear) error {
	if g.Spec.Size < 0 {
		return store.FieldErrors{{Field: "spec.size", Value: "-1", Reason: "must not be negative"}}
	}
	return nil
}

func (s gearStrategy) ValidateUpdate(g, _ *gear) error { return s.Validate(g) }

type gearServer struct {
	b   store.Backend
	st  *store.Store[*gear]
	srv *httptest.Server
}

// newGearServer serves gears from a new memory backend; before, each of
// setup runs on the store (the handler's watch cache starts after them).
func newGearServer(t testing.TB, setup ...func(*store.Store[*gear], store.Backend)) *gearServer {
	t.Helper()
	b := memory.New()
	t.Cleanup(func() { b.Close() })
	st, err := store.New[*gear](b, gearResource)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range setup {
		f(st, b)
	}
	h, err := NewHandler(Config[*gear]{Store: st, Strategy: gearStrategy{}, MaxBodyBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if h.proto == nil {
		t.Fatal("the handler did not find gear's protobuf methods")
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
	return &gearServer{b: b, st: st, srv: srv}
}

type pbResponse struct {
	code        int
	contentType string
	body        []byte
	header      http.Header
}

func (gs *gearServer) do(t testing.TB, method, path, contentType, accept string, body []byte) pbResponse {
	t.Helper()
	req, err := http.NewRequest(method, gs.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := gs.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return pbResponse{resp.StatusCode, resp.Header.Get("Content-Type"), data, resp.Header}
}

func gearEnvelope(t testing.TB, g *gear) []byte {
	t.Helper()
	b, err := watch.MarshalEnvelope(gearResource.APIVersion, gearResource.Kind, g)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeGear(t testing.TB, b []byte) *gear {
	t.Helper()
	env, err := watch.ParseEnvelope(b)
	if err != nil {
		t.Fatalf("response is not a protobuf object: %v (%q)", err, b)
	}
	if env.Kind != "Gear" || env.APIVersion != gearResource.APIVersion {
		t.Fatalf("envelope type %s %s, want %s Gear", env.APIVersion, env.Kind, gearResource.APIVersion)
	}
	g := &gear{}
	if err := g.Unmarshal(env.Raw); err != nil {
		t.Fatal(err)
	}
	return g
}

func decodeStatus(t testing.TB, r pbResponse) *watch.Status {
	t.Helper()
	if r.contentType != pbType {
		t.Fatalf("status Content-Type %q, want protobuf (body %q)", r.contentType, r.body)
	}
	st, err := watch.UnmarshalStatusProtobuf(r.body)
	if err != nil {
		t.Fatal(err)
	}
	if int(st.Code) != r.code {
		t.Fatalf("status code %d in a %d response", st.Code, r.code)
	}
	return st
}

// decodeGearList parses a GearList: its ListMeta and its items.
func decodeGearList(t testing.TB, b []byte) (pbwire.ListMeta, []*gear) {
	t.Helper()
	env, err := watch.ParseEnvelope(b)
	if err != nil {
		t.Fatal(err)
	}
	if env.Kind != "GearList" {
		t.Fatalf("list kind %q", env.Kind)
	}
	var lm pbwire.ListMeta
	var items []*gear
	err = pbwire.Range(env.Raw, func(f pbwire.Field) error {
		switch f.Num {
		case 1:
			var err error
			lm, err = pbwire.ParseListMeta(f.Bytes)
			return err
		case 2:
			g := &gear{}
			items = append(items, g)
			return g.Unmarshal(f.Bytes)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return lm, items
}

func TestProtobufCRUD(t *testing.T) {
	gs := newGearServer(t)
	const base = "/apis/test.setpoint.dev/v1/namespaces/ns/gears"
	in := &gear{ObjectMeta: store.ObjectMeta{Name: "a", Labels: map[string]string{"app": "x"}}}
	in.Spec.Size, in.Spec.Color = 3, "red"
	r := gs.do(t, "POST", base, pbType, pbType, gearEnvelope(t, in))
	if r.code != http.StatusCreated || r.contentType != pbType {
		t.Fatalf("create: %d %q %q", r.code, r.contentType, r.body)
	}
	created := decodeGear(t, r.body)
	if created.Name != "a" || created.Namespace != "ns" || created.UID == "" || created.ResourceVersion == "" ||
		created.Spec.Color != "red" || created.Labels["app"] != "x" || created.CreationTimestamp.IsZero() {
		t.Fatalf("created: %+v", created)
	}
	// The stored object is the one sent, whatever encoding reads it.
	stored, err := gs.st.Get(context.Background(), "ns", "a")
	if err != nil || stored.Spec.Size != 3 || stored.Spec.Color != "red" {
		t.Fatalf("stored: %+v %v", stored, err)
	}
	r = gs.do(t, "GET", base+"/a", "", jsonType, nil)
	var asJSON gear
	if r.code != 200 || r.contentType != jsonType || json.Unmarshal(r.body, &asJSON) != nil || asJSON.Kind != "Gear" || asJSON.Spec.Size != 3 {
		t.Fatalf("get as JSON: %d %q %s", r.code, r.contentType, r.body)
	}
	r = gs.do(t, "GET", base+"/a", "", pbType+", "+jsonType, nil)
	if got := decodeGear(t, r.body); got.ResourceVersion != created.ResourceVersion || got.Spec.Size != 3 {
		t.Fatalf("get: %+v", got)
	}

	// Update in protobuf, with a stale resourceVersion first: 409, as a
	// protobuf Status.
	upd := decodeGear(t, r.body)
	upd.Spec.Size = 4
	upd.ResourceVersion = "1"
	r = gs.do(t, "PUT", base+"/a", pbType, pbType, gearEnvelope(t, upd))
	if st := decodeStatus(t, r); r.code != http.StatusConflict || st.Reason != watch.StatusReasonConflict {
		t.Fatalf("stale update: %d %+v", r.code, st)
	}
	upd.ResourceVersion = created.ResourceVersion
	r = gs.do(t, "PUT", base+"/a", pbType, pbType, gearEnvelope(t, upd))
	if r.code != 200 || decodeGear(t, r.body).Spec.Size != 4 {
		t.Fatalf("update: %d %q", r.code, r.body)
	}
	// Invalid: 422 with the field as a cause, in protobuf.
	upd.ResourceVersion, upd.Spec.Size = "", -1
	r = gs.do(t, "PUT", base+"/a", pbType, pbType, gearEnvelope(t, upd))
	if st := decodeStatus(t, r); r.code != 422 || st.Details == nil || len(st.Details.Causes) != 1 || st.Details.Causes[0].Field != "spec.size" {
		t.Fatalf("invalid update: %d %+v", r.code, st)
	}
	// A JSON patch answered in protobuf.
	r = gs.do(t, "PATCH", base+"/a", "application/merge-patch+json", pbType, []byte(`{"spec":{"color":"blue"}}`))
	if r.code != 200 || decodeGear(t, r.body).Spec.Color != "blue" {
		t.Fatalf("patch: %d %q", r.code, r.body)
	}

	for _, name := range []string{"b", "c"} {
		g := &gear{ObjectMeta: store.ObjectMeta{Name: name}}
		if r := gs.do(t, "POST", base, pbType, pbType, gearEnvelope(t, g)); r.code != 201 {
			t.Fatalf("create %s: %d", name, r.code)
		}
	}
	r = gs.do(t, "GET", base+"?limit=2", "", pbType, nil)
	lm, items := decodeGearList(t, r.body)
	if r.code != 200 || len(items) != 2 || items[0].Name != "a" || items[1].Name != "b" || lm.Continue == "" || lm.ResourceVersion == "" {
		t.Fatalf("list page: %d %+v %d items", r.code, lm, len(items))
	}
	r = gs.do(t, "GET", base+"?continue="+lm.Continue, "", pbType, nil)
	if _, items := decodeGearList(t, r.body); len(items) != 1 || items[0].Name != "c" {
		t.Fatalf("second page: %d items", len(items))
	}
	r = gs.do(t, "GET", base+"?labelSelector=app%3Dnone", "", pbType, nil)
	if lm, items := decodeGearList(t, r.body); len(items) != 0 || lm.ResourceVersion == "" {
		t.Fatalf("empty list: %+v %d", lm, len(items))
	}

	// Delete with protobuf DeleteOptions: a wrong UID precondition is a
	// 409 and deletes nothing; the right one deletes.
	r = gs.do(t, "DELETE", base+"/a", pbType, pbType, deleteOptionsProtobuf("wrong-uid"))
	if st := decodeStatus(t, r); r.code != http.StatusConflict {
		t.Fatalf("delete with wrong uid: %d %+v", r.code, st)
	}
	if _, err := gs.st.Get(context.Background(), "ns", "a"); err != nil {
		t.Fatalf("a rejected delete deleted: %v", err)
	}
	r = gs.do(t, "DELETE", base+"/a", pbType, pbType, deleteOptionsProtobuf(created.UID))
	if r.code != 200 || decodeGear(t, r.body).Name != "a" {
		t.Fatalf("delete: %d %q", r.code, r.body)
	}
	r = gs.do(t, "GET", base+"/a", "", pbType, nil)
	if st := decodeStatus(t, r); r.code != 404 || st.Reason != watch.StatusReasonNotFound || st.Details == nil || st.Details.Name != "a" {
		t.Fatalf("get deleted: %d %+v", r.code, st)
	}
	r = gs.do(t, "DELETE", base, "", pbType, nil)
	if _, items := decodeGearList(t, r.body); r.code != 200 || len(items) != 2 {
		t.Fatalf("deletecollection: %d %d items", r.code, len(items))
	}
}

// deleteOptionsProtobuf encodes DeleteOptions{preconditions: {uid}} with
// an unknown field (99) that must be skipped.
func deleteOptionsProtobuf(uid string) []byte {
	var pre []byte
	pre = pbwire.AppendString(pre, 1, uid)
	var raw []byte
	raw = pbwire.AppendVarint(raw, 1, 0)
	raw = pbwire.AppendBytes(raw, 2, pre)
	raw = pbwire.AppendString(raw, 99, "from the future")
	return watch.AppendRawEnvelope(nil, "v1", "DeleteOptions", raw)
}

func TestNegotiation(t *testing.T) {
	gs := newGearServer(t)
	jsonOnly := newTestServer(t) // widgets without a codec: JSON only
	const gears = "/apis/test.setpoint.dev/v1/namespaces/ns/gears"
	const widgets = "/apis/test.setpoint.dev/v1/namespaces/ns/widgets"
	if r := gs.do(t, "POST", gears, "", "", []byte(`{"metadata":{"name":"a"}}`)); r.code != 201 || r.contentType != jsonType {
		t.Fatalf("JSON create: %d %q", r.code, r.body)
	}
	if code, _, _ := jsonOnly.do(t, "POST", widgets, "", `{"metadata":{"name":"a"}}`); code != 201 {
		t.Fatalf("widget create: %d", code)
	}
	for _, c := range []struct {
		path, accept string
		code         int
		want         string // Content-Type, or the 406 message
	}{
		{gears, "", 200, jsonType},
		{gears, "*/*", 200, jsonType},
		{gears, "application/*", 200, jsonType},
		{gears, pbType, 200, pbType},
		{gears, pbType + ", " + jsonType, 200, pbType},
		{gears, jsonType + ", " + pbType, 200, jsonType},
		{gears, pbType + ";q=0.5, " + jsonType, 200, jsonType},
		{gears, jsonType + ";q=0.2, " + pbType + ";q=0.9", 200, pbType},
		{gears, "*/*;q=0.1, " + pbType, 200, pbType},
		{gears, "text/html, " + pbType + ";q=0.3", 200, pbType},
		{gears, pbType + ";q=0, " + jsonType + ";q=0.1", 200, jsonType},
		{gears, tableAcc + "," + jsonType, 200, jsonType}, // a Table: still JSON
		{gears, "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, " + jsonType, 200, jsonType},
		{gears, "application/json;as=Table;v=v2;g=meta.k8s.io, " + pbType, 200, pbType},
		{gears, "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io, " + pbType, 200, pbType},
		{gears, jsonType + ";sv=v1, " + pbType, 200, pbType},
		{gears, "text/html", 406, "only the following media types are accepted: application/json, application/vnd.kubernetes.protobuf"},
		{gears, "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io", 406, "only the following media types"},
		{gears, jsonType + ";q=0", 406, "only the following media types"},
		{gears + "?watch=true", "text/plain", 406, "application/json;stream=watch, application/vnd.kubernetes.protobuf;stream=watch"},
		{widgets, pbType + ", " + jsonType, 200, jsonType},
		{widgets, pbType, 406, "only the following media types are accepted: application/json"},
		{widgets, "*/*", 200, jsonType},
	} {
		r := gs.do(t, "GET", c.path, "", c.accept, nil)
		if c.path == widgets {
			r = (&gearServer{srv: jsonOnly.srv}).do(t, "GET", c.path, "", c.accept, nil)
		}
		if r.code != c.code {
			t.Errorf("GET %s Accept %q: %d, want %d (%q)", c.path, c.accept, r.code, c.code, r.body)
			continue
		}
		if c.code == 406 {
			var st watch.Status
			if r.contentType != jsonType || json.Unmarshal(r.body, &st) != nil || st.Reason != watch.StatusReasonNotAcceptable || !strings.Contains(st.Message, c.want) {
				t.Errorf("GET %s Accept %q: 406 body %q", c.path, c.accept, r.body)
			}
			continue
		}
		if r.contentType != c.want {
			t.Errorf("GET %s Accept %q: Content-Type %q, want %q", c.path, c.accept, r.contentType, c.want)
		}
	}
	// Tables: JSON, of the version asked for.
	for _, v := range []string{"v1", "v1beta1"} {
		r := gs.do(t, "GET", gears, "", "application/json;as=Table;v="+v+";g=meta.k8s.io", nil)
		var tbl struct{ APIVersion, Kind string }
		if r.code != 200 || json.Unmarshal(r.body, &tbl) != nil || tbl.Kind != "Table" || tbl.APIVersion != "meta.k8s.io/"+v {
			t.Errorf("table %s: %d %s", v, r.code, r.body)
		}
	}
	// Request bodies: JSON or protobuf by Content-Type, 415 otherwise;
	// protobuf only where the type has a codec.
	body := gearEnvelope(t, &gear{ObjectMeta: store.ObjectMeta{Name: "b"}})
	for _, c := range []struct {
		path, contentType string
		body              []byte
		code              int
	}{
		{gears, pbType, body, 201},
		{gears, "application/vnd.kubernetes.protobuf; charset=binary", gearEnvelope(t, &gear{ObjectMeta: store.ObjectMeta{Name: "c"}}), 201},
		{gears, "application/yaml", []byte("metadata: {name: d}"), 415},
		{gears, "*/*", []byte(`{"metadata":{"name":"d"}}`), 415},
		{gears, "text/plain", []byte(`{"metadata":{"name":"d"}}`), 415},
		{gears, "application/x-www-form-urlencoded", []byte(`a=b`), 415},
		{widgets, pbType, body, 415},
	} {
		srv := gs
		if c.path == widgets {
			srv = &gearServer{srv: jsonOnly.srv}
		}
		r := srv.do(t, "POST", c.path, c.contentType, pbType+","+jsonType, c.body)
		if r.code != c.code {
			t.Errorf("POST %s Content-Type %q: %d, want %d (%q)", c.path, c.contentType, r.code, c.code, r.body)
		}
		if c.code == 415 && c.path == gears && decodeStatus(t, r).Reason != watch.StatusReasonUnsupportedMediaType {
			t.Errorf("415 reason")
		}
	}
	if l, err := gs.st.List(context.Background(), "ns", store.ListOptions{}); err != nil || len(l.Items) != 3 {
		t.Fatalf("after the rejected creates: %d gears, %v", len(l.Items), err)
	}
}

// TestProtobufBadInput: malformed protobuf bodies are 400s that say what
// is wrong, and write nothing; unknown fields are skipped as protobuf
// does.
func TestProtobufBadInput(t *testing.T) {
	gs := newGearServer(t)
	const base = "/apis/test.setpoint.dev/v1/namespaces/ns/gears"
	good := gearEnvelope(t, &gear{ObjectMeta: store.ObjectMeta{Name: "a"}})
	raw := (&gear{ObjectMeta: store.ObjectMeta{Name: "a"}}).encode()
	hugeLen := append([]byte(watch.ProtobufPrefix), 0x12, 0xff, 0xff, 0xff, 0xff, 0x0f) // raw of 4 GiB
	for _, c := range []struct {
		name string
		body []byte
		want string
	}{
		{"truncated envelope", good[:len(good)/2], "malformed"},
		{"only the prefix", []byte(watch.ProtobufPrefix), "not"},
		{"no prefix", good[4:], "must start with"},
		{"JSON sent as protobuf", []byte(`{"metadata":{"name":"a"}}`), "must start with"},
		{"wrong kind", watch.AppendRawEnvelope(nil, gearResource.APIVersion, "Widget", raw), `kind "Widget" does not match`},
		{"wrong apiVersion", watch.AppendRawEnvelope(nil, "v1", "Gear", raw), `apiVersion "v1" does not match`},
		{"huge length", hugeLen, "malformed"},
		{"truncated object", watch.AppendRawEnvelope(nil, gearResource.APIVersion, "Gear", raw[:len(raw)-3]), "decoding Gear"},
		{"wrong wire type", watch.AppendRawEnvelope(nil, gearResource.APIVersion, "Gear", []byte{0x08, 0x01}), "wire type"},
		{"gzip", gzipEnvelope(raw), "contentEncoding"},
	} {
		r := gs.do(t, "POST", base, pbType, pbType, c.body)
		if r.code != http.StatusBadRequest {
			t.Errorf("%s: %d %q", c.name, r.code, r.body)
			continue
		}
		if st := decodeStatus(t, r); st.Reason != watch.StatusReasonBadRequest || !strings.Contains(st.Message, c.want) {
			t.Errorf("%s: status %+v, want a message containing %q", c.name, st, c.want)
		}
	}
	if l, err := gs.st.List(context.Background(), "", store.ListOptions{}); err != nil || len(l.Items) != 0 {
		t.Fatalf("bad input wrote %d objects (%v)", len(l.Items), err)
	}
	// Unknown fields, in the envelope and in the object, are skipped.
	withUnknown := append(pbwire.AppendString(nil, 15, "future"), raw...)
	env := watch.AppendRawEnvelope(nil, gearResource.APIVersion, "Gear", withUnknown)
	env = pbwire.AppendVarint(env, 9, 7)
	if r := gs.do(t, "POST", base, pbType, pbType, env); r.code != 201 || decodeGear(t, r.body).Name != "a" {
		t.Fatalf("unknown fields: %d %q", r.code, r.body)
	}
}

func gzipEnvelope(raw []byte) []byte {
	b := []byte(watch.ProtobufPrefix)
	var tm []byte
	tm = pbwire.AppendString(tm, 1, gearResource.APIVersion)
	tm = pbwire.AppendString(tm, 2, "Gear")
	b = pbwire.AppendBytes(b, 1, tm)
	b = pbwire.AppendBytes(b, 2, raw)
	return pbwire.AppendString(b, 3, "gzip")
}

// TestProtobufWatch: a protobuf watch stream is length-prefixed
// WatchEvent frames; every watcher gets the same events, each encoded
// once for all of them.
func TestProtobufWatch(t *testing.T) {
	gs := newGearServer(t)
	ctx := context.Background()
	const base = "/apis/test.setpoint.dev/v1/namespaces/ns/gears"
	if r := gs.do(t, "POST", base, pbType, pbType, gearEnvelope(t, &gear{ObjectMeta: store.ObjectMeta{Name: "pre"}})); r.code != 201 {
		t.Fatal(r.code)
	}
	rev := decodeGear(t, gs.do(t, "GET", base+"/pre", "", pbType, nil).body).ResourceVersion
	const watchers = 4
	var decs []*watch.ProtobufDecoder
	for i := 0; i < watchers; i++ {
		req, _ := http.NewRequestWithContext(ctx, "GET", gs.srv.URL+base+"?watch=true&allowWatchBookmarks=true&resourceVersion="+rev, nil)
		req.Header.Set("Accept", "application/vnd.kubernetes.protobuf;stream=watch, application/json;stream=watch")
		resp, err := gs.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != watch.MediaTypeProtobufWatch {
			t.Fatalf("watch: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		decs = append(decs, watch.NewProtobufDecoder(resp.Body, 0))
	}
	before := gearMarshals.Load()
	const n = 5
	for i := 0; i < n; i++ {
		g := &gear{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "g" + string(rune('a'+i))}}
		if _, err := gs.st.Create(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := gs.st.Delete(ctx, "ns", "pre"); err != nil {
		t.Fatal(err)
	}
	decode := func(env watch.Envelope) (*gear, error) {
		g := &gear{}
		return g, g.Unmarshal(env.Raw)
	}
	for i, dec := range decs {
		var got []string
		for len(got) < n+1 {
			pe, err := dec.Next()
			if err != nil {
				t.Fatalf("watcher %d: %v", i, err)
			}
			ev, err := watch.DecodeProtobufEvent(pe, decode)
			if err != nil {
				t.Fatalf("watcher %d: %v", i, err)
			}
			if ev.Type == watch.Bookmark {
				continue
			}
			if pe.Object.Kind != "Gear" || ev.Revision == 0 || ev.Object.ResourceVersion == "" {
				t.Fatalf("event %+v in envelope %s %s", ev, pe.Object.APIVersion, pe.Object.Kind)
			}
			got = append(got, string(ev.Type)+" "+ev.Object.Name)
		}
		want := "ADDED ga,ADDED gb,ADDED gc,ADDED gd,ADDED ge,DELETED pre"
		if strings.Join(got, ",") != want {
			t.Fatalf("watcher %d got %v, want %s", i, got, want)
		}
	}
	// Each of the n+1 events was encoded once for the four watchers.
	if d := gearMarshals.Load() - before; d != n+1 {
		t.Fatalf("%d protobuf encodings for %d events and %d watchers, want one per event", d, n+1, watchers)
	}
}

// TestProtobufWatchGone: a watch from a compacted revision is a 410
// Status in protobuf.
func TestProtobufWatchGone(t *testing.T) {
	// The writes and the compaction come before the handler's watch cache
	// starts, so revision 1 is older than its window too (a cache that
	// started earlier would still serve it from its window, as
	// Kubernetes' does).
	gs := newGearServer(t, func(st *store.Store[*gear], b store.Backend) {
		ctx := context.Background()
		for _, name := range []string{"a", "b", "c"} {
			if _, err := st.Create(ctx, &gear{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: name}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Compact(ctx, storeRevisionOf(t, st)); err != nil {
			t.Fatal(err)
		}
	})
	r := gs.do(t, "GET", "/apis/test.setpoint.dev/v1/namespaces/ns/gears?watch=true&resourceVersion=1", "", pbType, nil)
	if st := decodeStatus(t, r); r.code != http.StatusGone || st.Reason != watch.StatusReasonExpired {
		t.Fatalf("watch from a compacted revision: %d %+v", r.code, st)
	}
}

func storeRevisionOf[T store.Object](t *testing.T, st *store.Store[T]) int64 {
	t.Helper()
	l, err := st.List(context.Background(), "", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l.Revision
}

// TestProtobufCodecConfig: a type without methods speaks protobuf through
// Config.Protobuf.
func TestProtobufCodecConfig(t *testing.T) {
	ts := newTestServer(t, func(c *Config[*widget]) { c.Protobuf = widgetProtobuf })
	b := watch.AppendRawEnvelope(nil, "test.setpoint.dev/v1", "Widget", (&gear{ObjectMeta: store.ObjectMeta{Name: "w"}}).encode())
	r := (&gearServer{srv: ts.srv}).do(t, "POST", "/apis/test.setpoint.dev/v1/namespaces/ns/widgets", pbType, pbType, b)
	env, err := watch.ParseEnvelope(r.body)
	if r.code != 201 || err != nil || env.Kind != "Widget" {
		t.Fatalf("create: %d %v %q", r.code, err, r.body)
	}
	if _, err := NewHandler(Config[*widget]{Store: ts.st, Protobuf: &ProtobufCodec[*widget]{Size: widgetProtobuf.Size}}); err == nil || !strings.Contains(err.Error(), "Config.Protobuf") {
		t.Fatalf("incomplete codec accepted: %v", err)
	}
}
