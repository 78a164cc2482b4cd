package rest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
	"github.com/setpoint-dev/setpoint/store/rest/table"
)

// TestNoStrategyDefaults: without a Strategy the handler serves no
// subresources, filters on metadata.name and metadata.namespace only, and
// renders NAME and AGE tables.
func TestNoStrategyDefaults(t *testing.T) {
	ts := newTestServer(t, func(c *Config[*widget]) { c.Strategy = nil })
	if code, _, body := ts.do(t, "POST", widgets, "application/json", `{"metadata":{"name":"a"},"spec":{"size":-1},"status":{"phase":"kept"}}`); code != 201 {
		t.Fatalf("create without rules: %d %s", code, body)
	}
	if a, err := ts.st.Get(t.Context(), "ns", "a"); err != nil || a.Status.Phase != "kept" || a.Spec.Size != -1 {
		t.Fatalf("stored %+v, %v: without rules nothing is reset or validated", a, err)
	}
	for _, sub := range []string{"status", "scale"} {
		if code, st, _ := ts.do(t, "GET", widgets+"/a/"+sub, "", ""); code != 404 || !strings.Contains(st.Message, sub) {
			t.Errorf("GET %s without the strategy piece: %d %v, want 404", sub, code, st)
		}
	}
	if code, _, body := ts.do(t, "GET", widgets+"?fieldSelector=metadata.name%3Da,metadata.namespace%3Dns", "", ""); code != 200 || !strings.Contains(string(body), `"name":"a"`) {
		t.Fatalf("default field selector: %d %s", code, body)
	}
	if code, st, _ := ts.do(t, "GET", widgets+"?fieldSelector=spec.color%3Dred", "", ""); code != 400 || !strings.Contains(st.Message, `"spec.color" is not a known field selector`) {
		t.Fatalf("unknown field label: %d %v, want 400 naming it", code, st)
	}
	var tbl table.Table
	if code, body := getTable(t, ts, widgets); code != 200 || json.Unmarshal(body, &tbl) != nil {
		t.Fatalf("table: %d %s", code, body)
	}
	var cols []string
	for _, c := range tbl.ColumnDefinitions {
		cols = append(cols, c.Name)
	}
	if strings.Join(cols, ",") != "Name,Age" {
		t.Fatalf("default table columns %v, want Name,Age", cols)
	}
}

func getTable(t *testing.T, ts *testServer, path string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", ts.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := ts.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// serve runs one request through h without a listener.
func serve(h http.Handler, method, path, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func memoryBackend(t *testing.T) store.Backend {
	b := memory.New()
	t.Cleanup(func() { b.Close() })
	return b
}

// scaledStrategy adds the optional pieces widgetStrategy lacks: a scale
// subresource on spec.size and a table with a COLOR column.
type scaledStrategy struct{ widgetStrategy }

type widgetScale struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	Spec       struct {
		Replicas int32 `json:"replicas"`
	} `json:"spec"`
}

func (scaledStrategy) Scale(w *widget) any {
	s := widgetScale{APIVersion: "autoscaling/v1", Kind: "Scale",
		Metadata: map[string]any{"name": w.Name, "namespace": w.Namespace, "resourceVersion": w.ResourceVersion}}
	s.Spec.Replicas = int32(w.Spec.Size)
	return s
}

func (scaledStrategy) SetReplicas(w *widget, n int32) { w.Spec.Size = int(n) }

var colorTable = table.MustBuilder(table.NameColumn[*widget](), table.Column[*widget]{
	Definition: table.ColumnDefinition{Name: "Color", Type: "string"},
	Cell:       func(w *widget, _ time.Time) any { return w.Spec.Color },
})

func (scaledStrategy) Table(objs []*widget, opts table.Options) (*table.Table, error) {
	return colorTable.Build(objs, opts)
}

// TestStrategyOptionalPieces: the handler finds Scaler and TableConvertor
// on the strategy by assertion and serves them; the strategy's validation
// guards the scale subresource's writes too.
func TestStrategyOptionalPieces(t *testing.T) {
	ts := newTestServer(t, func(c *Config[*widget]) { c.Strategy = scaledStrategy{} })
	if code, _, body := ts.do(t, "POST", widgets, "application/json", `{"metadata":{"name":"a"},"spec":{"size":2,"color":"red"}}`); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	code, _, body := ts.do(t, "GET", widgets+"/a/scale", "", "")
	if code != 200 || !strings.Contains(string(body), `"replicas":2`) {
		t.Fatalf("get scale: %d %s", code, body)
	}
	if code, _, body := ts.do(t, "PATCH", widgets+"/a/scale", "application/merge-patch+json", `{"spec":{"replicas":5}}`); code != 200 || !strings.Contains(string(body), `"replicas":5`) {
		t.Fatalf("patch scale: %d %s", code, body)
	}
	if a, _ := ts.st.Get(t.Context(), "ns", "a"); a.Spec.Size != 5 {
		t.Fatalf("scale did not set spec.size: %+v", a.Spec)
	}
	code, body = getTable(t, ts, widgets)
	if code != 200 || !strings.Contains(string(body), `"name":"Color"`) || !strings.Contains(string(body), `"red"`) {
		t.Fatalf("strategy table: %d %s", code, body)
	}
}

// gadget has a list that a strategic merge patch replaces unless a schema
// says to merge it by name.
type gadget struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             struct {
		Ports []gadgetPort `json:"ports,omitempty"`
	} `json:"spec"`
}

type gadgetPort struct {
	Name string `json:"name"`
	Port int    `json:"port"`
}

// taggedGadget is gadget's shape with the merge tags: its schema is what
// gadgetStrategy provides.
type taggedGadget struct {
	Spec struct {
		Ports []gadgetPort `json:"ports,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	} `json:"spec"`
}

type gadgetStrategy struct{ NoRules[*gadget] }

func (gadgetStrategy) PatchSchema() *patch.Schema { return patch.SchemaFor[taggedGadget]() }

// TestStrategyPatchSchema: a PatchSchemaProvider's schema, not the one
// derived from the object's own tags, drives strategic merge patches.
func TestStrategyPatchSchema(t *testing.T) {
	for _, tc := range []struct {
		strategy Strategy[*gadget]
		want     string
	}{
		{nil, `[{"name":"b","port":2}]`},
		{gadgetStrategy{}, `[{"name":"b","port":2},{"name":"a","port":1}]`},
	} {
		st, err := store.New[*gadget](memoryBackend(t), store.Resource{Name: "gadgets", APIVersion: "test.setpoint.dev/v1", Kind: "Gadget", Namespaced: true})
		if err != nil {
			t.Fatal(err)
		}
		h, err := NewHandler(Config[*gadget]{Store: st, Strategy: tc.strategy})
		if err != nil {
			t.Fatal(err)
		}
		g := &gadget{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "g"}}
		g.Spec.Ports = []gadgetPort{{"a", 1}}
		if _, err := st.Create(t.Context(), g); err != nil {
			t.Fatal(err)
		}
		rec := serve(h, "PATCH", "/apis/test.setpoint.dev/v1/namespaces/ns/gadgets/g", "application/strategic-merge-patch+json", `{"spec":{"ports":[{"name":"b","port":2}]}}`)
		if rec.Code != 200 {
			t.Fatalf("patch: %d %s", rec.Code, rec.Body)
		}
		out, _ := st.Get(t.Context(), "ns", "g")
		got, _ := json.Marshal(out.Spec.Ports)
		if string(got) != tc.want {
			t.Errorf("strategy %T: ports after the patch %s, want %s", tc.strategy, got, tc.want)
		}
	}
}

// colorStrategy adds a "color" subresource that updates only spec.color.
type colorStrategy struct{ widgetStrategy }

func (colorStrategy) UpdateSubresources() []string { return []string{"color"} }

func (colorStrategy) PrepareForSubresourceUpdate(sub string, obj, old *widget) *widget {
	out := store.Clone(old)
	out.Spec.Color = obj.Spec.Color
	out.ResourceVersion = obj.ResourceVersion
	return out
}

// TestSubresourceUpdater: a strategy's extra subresource updates only its
// part, through validation, and other verbs or names are refused.
func TestSubresourceUpdater(t *testing.T) {
	ts := newTestServer(t, func(c *Config[*widget]) { c.Strategy = colorStrategy{} })
	if code, _, body := ts.do(t, "POST", widgets, "application/json", `{"metadata":{"name":"a"},"spec":{"size":1,"color":"red"}}`); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	code, _, body := ts.do(t, "PUT", widgets+"/a/color", "application/json", `{"metadata":{"name":"a"},"spec":{"size":9,"color":"blue"}}`)
	if code != 200 {
		t.Fatalf("PUT color: %d %s", code, body)
	}
	a, err := ts.st.Get(t.Context(), "ns", "a")
	if err != nil || a.Spec.Color != "blue" || a.Spec.Size != 1 {
		t.Fatalf("after PUT color: %+v %v; want only the color changed", a.Spec, err)
	}
	code, _, body = ts.do(t, "PATCH", widgets+"/a/color", "application/merge-patch+json", `{"spec":{"color":"green","size":5}}`)
	if a, _ := ts.st.Get(t.Context(), "ns", "a"); code != 200 || a.Spec.Color != "green" || a.Spec.Size != 1 {
		t.Fatalf("PATCH color: %d %s %+v", code, body, a.Spec)
	}
	if code, _, _ := ts.do(t, "GET", widgets+"/a/color", "", ""); code != 200 {
		t.Fatalf("GET color: %d", code)
	}
	if code, _, _ := ts.do(t, "DELETE", widgets+"/a/color", "", ""); code != 405 {
		t.Fatalf("DELETE color: %d, want 405", code)
	}
	if code, _, _ := ts.do(t, "PUT", widgets+"/a/shape", "application/json", `{"metadata":{"name":"a"}}`); code != 404 {
		t.Fatalf("PUT on an unknown subresource: %d, want 404", code)
	}
}
