package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/store/rest/table"
	"github.com/setpoint-dev/setpoint/watch"
)

// widget is a kind of a library user's own, in a group of its own.
type widget struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             widgetSpec   `json:"spec,omitempty"`
	Status           widgetStatus `json:"status,omitempty"`
}

type widgetSpec struct {
	Size  int32    `json:"size,omitempty"`
	Color string   `json:"color,omitempty"`
	Tags  []string `json:"tags,omitempty"`
}

type widgetStatus struct {
	Ready bool `json:"ready,omitempty"`
}

var widgetResource = store.Resource{Name: "widgets", APIVersion: "widgets.example.com/v1", Kind: "Widget", Namespaced: true}

const widgetSchemas = `{
 "com.example.widgets.v1.Widget": {
  "type": "object", "description": "A widget.",
  "properties": {
   "apiVersion": {"type": "string"}, "kind": {"type": "string"},
   "metadata": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}], "default": {}},
   "spec": {"allOf": [{"$ref": "#/components/schemas/com.example.widgets.v1.WidgetSpec"}], "default": {}},
   "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}
  }
 },
 "com.example.widgets.v1.WidgetSpec": {
  "type": "object", "description": "What the widget should be.",
  "properties": {
   "size": {"type": "integer", "format": "int32", "description": "How big the widget is, 1 to 10."},
   "color": {"type": "string", "description": "The widget's colour; default grey."},
   "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set", "description": "Labels of the widget."}
  }
 }
}`

func widgetSpecOf(t *testing.T) registry.KindSpec[*widget] {
	t.Helper()
	return registry.KindSpec[*widget]{
		Resource: widgetResource, ShortNames: []string{"wd"},
		New: func() *widget { return &widget{} },
		Default: func(w *widget) {
			if w.Spec.Color == "" {
				w.Spec.Color = "grey"
			}
		},
		Validate: func(w *widget) store.FieldErrors {
			if w.Spec.Size < 1 || w.Spec.Size > 10 {
				return store.FieldErrors{{Field: "spec.size", Value: fmt.Sprint(w.Spec.Size), Reason: "must be between 1 and 10"}}
			}
			return nil
		},
		ValidateUpdate: func(w, old *widget) store.FieldErrors {
			if w.Spec.Color != old.Spec.Color {
				return store.FieldErrors{{Field: "spec.color", Reason: "field is immutable"}}
			}
			return nil
		},
		Status: true,
		Columns: []table.Column[*widget]{
			registry.StringColumn("Size", "The widget's size.", func(w *widget) string { return fmt.Sprint(w.Spec.Size) }),
			registry.StringColumn("Color", "The widget's colour.", func(w *widget) string { return w.Spec.Color }),
		},
		Fields:  store.Fields[*widget]{"spec.color": func(w *widget) string { return w.Spec.Color }},
		Schemas: []byte(widgetSchemas),
	}
}

func widgetKind(t *testing.T) *registry.Kind[*widget] {
	t.Helper()
	k, err := registry.NewKind(widgetSpecOf(t))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const widgetYAML = `apiVersion: widgets.example.com/v1
kind: Widget
metadata:
  name: w1
  namespace: default
spec:
  size: SIZE
  tags: [a, b]
`

// TestExtraKindKubectl serves a kind of the user's own beside the
// built-in ones and drives it with kubectl 1.32 as a user would: discovery
// (api-resources), apply (client- and server-side), get with the kind's
// columns, explain from the served OpenAPI, a bad object refused with 422
// naming the field and nothing stored, watch, JSON only, delete.
func TestExtraKindKubectl(t *testing.T) {
	requireKubectl(t)
	s := startServer(t, func(c *Config) { c.ExtraKinds = []ExtraKind{Serve(widgetKind(t))} })

	out := s.kubectl(t, false, "api-resources", "--api-group=widgets.example.com")
	if !strings.Contains(out, "widgets") || !strings.Contains(out, "wd") || !strings.Contains(out, "widgets.example.com/v1") {
		t.Fatalf("api-resources does not list widgets:\n%s", out)
	}
	// The built-in kinds are still served.
	if out := s.kubectl(t, false, "api-resources", "--api-group=apps"); !strings.Contains(out, "deployments") {
		t.Fatalf("api-resources lost the built-in groups:\n%s", out)
	}

	hc := s.httpClient(t, true)
	next := s.openWatch(t, hc, "/apis/widgets.example.com/v1/namespaces/default/widgets?watch=1")

	f := s.writeFile(t, "w.yaml", strings.ReplaceAll(widgetYAML, "SIZE", "3"))
	s.kubectl(t, false, "apply", "-f", f)
	if ev := next(); ev.Type != "ADDED" || ev.Object.Metadata.Name != "w1" {
		t.Fatalf("watch: got %+v, want ADDED w1", ev)
	}
	out = s.kubectl(t, false, "get", "widgets")
	for _, want := range []string{"NAME", "SIZE", "COLOR", "AGE", "w1", "3", "grey"} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl get widgets: no %q in\n%s", want, out)
		}
	}
	out = s.kubectl(t, false, "explain", "widgets.spec")
	if !strings.Contains(out, "How big the widget is") || !strings.Contains(out, "tags") {
		t.Errorf("kubectl explain widgets.spec:\n%s", out)
	}

	// A second client-side apply changes the size; a server-side apply
	// by another manager the tags.
	s.kubectl(t, false, "apply", "-f", s.writeFile(t, "w.yaml", strings.ReplaceAll(widgetYAML, "SIZE", "5")))
	if ev := next(); ev.Type != "MODIFIED" {
		t.Fatalf("watch: got %+v, want MODIFIED", ev)
	}
	ssa := "apiVersion: widgets.example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: default}\nspec: {tags: [c]}\n"
	s.kubectl(t, false, "apply", "--server-side", "--field-manager=tagger", "-f", s.writeFile(t, "ssa.yaml", ssa))
	out = s.kubectl(t, false, "get", "widget", "w1", "-o", "jsonpath={.spec.size} {.spec.tags}")
	if out != `5 ["a","b","c"]` {
		t.Errorf("after both applies: %q, want size 5 and tags a, b, c (a set)", out)
	}

	// A bad object: 422 naming the field; nothing stored.
	bad := s.writeFile(t, "bad.yaml", strings.ReplaceAll(strings.ReplaceAll(widgetYAML, "SIZE", "11"), "w1", "w2"))
	out = s.kubectl(t, true, "create", "-f", bad)
	if !strings.Contains(out, "spec.size") || !strings.Contains(out, "Invalid") {
		t.Errorf("bad widget: %s", out)
	}
	code, body := s.rawType(t, hc, "POST", "/apis/widgets.example.com/v1/namespaces/default/widgets", "application/json",
		`{"apiVersion":"widgets.example.com/v1","kind":"Widget","metadata":{"name":"w3"},"spec":{"size":0}}`)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "spec.size") {
		t.Errorf("bad widget over REST: %d %s", code, body)
	}
	// An immutable field.
	s.kubectl(t, true, "patch", "widget", "w1", "--type=merge", "-p", `{"spec":{"color":"red"}}`)
	out = s.kubectl(t, false, "get", "widgets", "-o", "name")
	if strings.TrimSpace(out) != "widget.widgets.example.com/w1" {
		t.Errorf("after the bad writes the widgets are %q, want w1 only", out)
	}

	// Status only through the subresource; field selectors.
	c, err := rest.NewClient[*widget](hc, s.URL(), widgetResource)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, err := c.Get(ctx, "default", "w1")
	if err != nil {
		t.Fatal(err)
	}
	w.Status.Ready = true
	if w, err = c.UpdateStatus(ctx, w); err != nil || !w.Status.Ready {
		t.Fatalf("status update: %v %+v", err, w)
	}
	for sel, want := range map[string]bool{"spec.color=grey": true, "spec.color=red": false} {
		code, body := s.rawType(t, hc, "GET", "/apis/widgets.example.com/v1/namespaces/default/widgets?fieldSelector="+sel, "", "")
		if code != 200 || strings.Contains(body, `"name":"w1"`) != want {
			t.Errorf("field selector %s: %d %s", sel, code, body)
		}
	}

	// JSON only, as Kubernetes serves custom resources.
	code, _ = s.rawType(t, hc, "GET", "/apis/widgets.example.com/v1/namespaces/default/widgets/w1", "", "", "Accept", watch.MediaTypeProtobuf)
	if code != http.StatusNotAcceptable {
		t.Errorf("protobuf GET: %d, want 406", code)
	}
	code, _ = s.rawType(t, hc, "POST", "/apis/widgets.example.com/v1/namespaces/default/widgets", watch.MediaTypeProtobuf, "k8s\x00")
	if code != http.StatusUnsupportedMediaType {
		t.Errorf("protobuf POST: %d, want 415", code)
	}

	s.kubectl(t, false, "delete", "widget", "w1")
	for ev := next(); ev.Type != "DELETED"; ev = next() {
		if ev.Type != "MODIFIED" {
			t.Fatalf("watch: got %+v before DELETED", ev)
		}
	}
	if out := s.kubectl(t, false, "get", "widgets", "-o", "name"); strings.TrimSpace(out) != "" {
		t.Errorf("after delete: %q", out)
	}
}

// TestExtraKindsInvalid: configurations that cannot be served are
// refused by Validate (and New), naming the problem.
func TestExtraKindsInvalid(t *testing.T) {
	clash := widgetSpecOf(t)
	clash.Resource.Name = "pods"
	clashKind, err := registry.NewKind(clash)
	if err != nil {
		t.Fatal(err)
	}
	w := widgetKind(t)
	for name, tc := range map[string]struct {
		kinds []ExtraKind
		want  string
	}{
		"zero":  {[]ExtraKind{{}}, "not made with Serve"},
		"clash": {[]ExtraKind{Serve(clashKind)}, `plural "pods" is already served`},
		"twice": {[]ExtraKind{Serve(w), Serve(w)}, `plural "widgets" is already served`},
	} {
		cfg := Config{DataDir: t.TempDir(), ExtraKinds: tc.kinds}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate = %v, want %q", name, err, tc.want)
		}
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}
