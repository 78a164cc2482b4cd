package registry_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
)

type gadget struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             struct {
		Size int32 `json:"size,omitempty"`
	} `json:"spec,omitempty"`
}

const gadgetSchemas = `{"io.example.gadgets.v1.Gadget": {"type": "object", "properties": {
  "metadata": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
  "spec": {"type": "object", "description": "What the gadget should be.", "properties": {"size": {"type": "integer"}}}}}}`

func gadgetSpec() registry.KindSpec[*gadget] {
	return registry.KindSpec[*gadget]{
		Resource: store.Resource{Name: "gadgets", APIVersion: "gadgets.example.io/v1", Kind: "Gadget"},
		New:      func() *gadget { return &gadget{} },
		Validate: func(g *gadget) store.FieldErrors {
			if g.Spec.Size < 0 {
				return store.FieldErrors{{Field: "spec.size", Value: fmt.Sprint(g.Spec.Size), Reason: "must not be negative"}}
			}
			return nil
		},
		Schemas: []byte(gadgetSchemas),
	}
}

// ExampleNewKind describes a kind of one's own and builds a registry that
// serves it beside the built-in kinds (apiserver.Config.ExtraKinds takes
// apiserver.Serve(kind)).
func ExampleNewKind() {
	kind, err := registry.NewKind(gadgetSpec())
	if err != nil {
		fmt.Println(err)
		return
	}
	reg, err := registry.New(kind)
	if err != nil {
		fmt.Println(err)
		return
	}
	d, _ := reg.Lookup("gadgets.gadgets.example.io")
	fmt.Println(d.OpenAPIName(), d.ListKind())
	var cols []string
	for _, c := range d.TableColumns() {
		cols = append(cols, c.Name)
	}
	fmt.Println(strings.Join(cols, " "))
	g := kind.New()
	g.Name, g.Spec.Size = "g1", -1
	fmt.Println(kind.Validate(g))
	// Output:
	// io.example.gadgets.v1.Gadget GadgetList
	// Name Age
	// invalid: spec.size "-1": must not be negative
}

func TestNewKindInvalid(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*registry.KindSpec[*gadget])
		want   string
	}{
		"core group": {func(s *registry.KindSpec[*gadget]) { s.Resource.APIVersion = "v1" }, "named group"},
		"no kind":    {func(s *registry.KindSpec[*gadget]) { s.Resource.Kind = "" }, "needs a name, an apiVersion and a kind"},
		"plural":     {func(s *registry.KindSpec[*gadget]) { s.Resource.Name = "Gadgets" }, "lowercase plural"},
		"no New":     {func(s *registry.KindSpec[*gadget]) { s.New = nil }, "KindSpec.New is required"},
		"status":     {func(s *registry.KindSpec[*gadget]) { s.Status = true }, "has no Status field"},
		"no schemas": {func(s *registry.KindSpec[*gadget]) { s.Schemas = nil }, "Schemas of gadgets is required"},
		"bad JSON":   {func(s *registry.KindSpec[*gadget]) { s.Schemas = []byte("{") }, "Schemas of gadgets"},
		"other name": {func(s *registry.KindSpec[*gadget]) { s.SchemaName = "x.v1.Gadget" }, "has no schema x.v1.Gadget"},
		"dangling ref": {func(s *registry.KindSpec[*gadget]) {
			s.Schemas = []byte(strings.ReplaceAll(gadgetSchemas, "meta.v1.ObjectMeta", "meta.v1.Nothing"))
		}, "no schema io.k8s.apimachinery.pkg.apis.meta.v1.Nothing"},
		"built-in schema": {func(s *registry.KindSpec[*gadget]) { s.Schemas = []byte(`{"io.k8s.api.core.v1.Pod": {}}`) }, "is a built-in schema"},
	} {
		spec := gadgetSpec()
		tc.mutate(&spec)
		if _, err := registry.NewKind(spec); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: NewKind = %v, want an error with %q", name, err, tc.want)
		}
	}
}

// TestRegistryExtraDocuments: an extra kind is in discovery and in both
// OpenAPI documents, tagged with its group, version and kind, and the
// built-in registry is unchanged.
func TestRegistryExtraDocuments(t *testing.T) {
	kind, err := registry.NewKind(gadgetSpec())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.New(kind)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registry.New(kind, kind); err == nil {
		t.Error("a kind served twice was accepted")
	}
	if len(reg.Kinds()) != len(registry.Kinds())+1 || len(registry.Default().Kinds()) != len(registry.Kinds()) {
		t.Fatalf("kinds: %d extra registry, %d default, %d built in", len(reg.Kinds()), len(registry.Default().Kinds()), len(registry.Kinds()))
	}
	found := false
	for _, g := range reg.Groups().Groups {
		found = found || g.Name == "gadgets.example.io" && g.PreferredVersion.Version == "v1"
	}
	if !found {
		t.Errorf("Groups has no gadgets.example.io: %+v", reg.Groups())
	}
	for _, g := range registry.Groups().Groups {
		if g.Name == "gadgets.example.io" {
			t.Error("the default registry lists the extra group")
		}
	}
	l, ok := reg.Resources("gadgets.example.io/v1")
	if !ok || len(l.Resources) != 1 || l.Resources[0].Name != "gadgets" || l.Resources[0].Namespaced {
		t.Errorf("Resources: %+v", l)
	}
	v3, ok, err := reg.OpenAPIV3("apis/gadgets.example.io/v1")
	if err != nil || !ok {
		t.Fatalf("OpenAPIV3: %v %v", ok, err)
	}
	var doc struct {
		Paths      map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(v3, &doc); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"io.example.gadgets.v1.Gadget", "io.example.gadgets.v1.GadgetList", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"} {
		if doc.Components.Schemas[n] == nil {
			t.Errorf("OpenAPI v3 has no %s", n)
		}
	}
	if gvk := fmt.Sprint(doc.Components.Schemas["io.example.gadgets.v1.Gadget"]["x-kubernetes-group-version-kind"]); !strings.Contains(gvk, "gadgets.example.io") {
		t.Errorf("the kind's schema is tagged %s", gvk)
	}
	if doc.Paths["/apis/gadgets.example.io/v1/gadgets/{name}"] == nil {
		t.Errorf("OpenAPI v3 paths: %v", doc.Paths)
	}
	v2, err := reg.OpenAPIV2()
	if err != nil || !strings.Contains(string(v2), `"io.example.gadgets.v1.Gadget"`) {
		t.Errorf("OpenAPI v2 lacks the kind: %v", err)
	}
	if def, _ := registry.OpenAPIV2(); strings.Contains(string(def), "gadgets") {
		t.Error("the default registry's OpenAPI has the extra kind")
	}
}
