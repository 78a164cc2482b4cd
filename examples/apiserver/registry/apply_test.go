package registry

import (
	"encoding/json"
	"strings"
	"testing"

	stagingapi "github.com/setpoint-dev/setpoint/examples/api"
	stagingapps "github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/store/rest/fieldmanager"
)

// TestApplyTypeOfEveryKind: every served kind has an apply type that
// accepts its empty and its defaulted sample objects, and whose lists
// merge as Kubernetes' do (containers by name).
func TestApplyTypeOfEveryKind(t *testing.T) {
	for _, d := range Kinds() {
		r := d.Resource()
		typ, err := ApplyType(r)
		if err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		obj := d.NewObject()
		if err := d.DefaultObject(obj); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(obj)
		v, err := fieldmanager.DecodeJSON(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := typ.FromUnstructured(v); err != nil {
			t.Errorf("%s: a defaulted empty object does not fit its apply type: %v", r.Name, err)
		}
	}
	typ, err := ApplyType(PodKind.Resource())
	if err != nil {
		t.Fatal(err)
	}
	pod, _ := fieldmanager.DecodeJSON([]byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"b"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}`))
	tv, err := typ.FromUnstructured(pod)
	if err != nil {
		t.Fatal(err)
	}
	set, err := tv.ToFieldSet()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := set.ToJSON()
	if want := `"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}`; !json.Valid(b) || !strings.Contains(string(b), want) {
		t.Fatalf("pod field set %s lacks %s", b, want)
	}
}

// TestApplyTypesFromGeneratedSchema: the generator's OpenAPI v3 document
// (the complete Kubernetes types) converts; every kind in it accepts a
// minimal object, the zero Deployment of the generated Go type fits its
// type, and the documentation's nginx Deployment applies with ports keyed
// by containerPort and the defaulted protocol, as in Kubernetes.
func TestApplyTypesFromGeneratedSchema(t *testing.T) {
	types, err := fieldmanager.NewTypes(stagingapi.OpenAPISchemas())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				GVK []struct{ Group, Version, Kind string } `json:"x-kubernetes-group-version-kind"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(stagingapi.OpenAPISchemas(), &doc); err != nil {
		t.Fatal(err)
	}
	kinds := 0
	for name, s := range doc.Components.Schemas {
		for _, g := range s.GVK {
			av := g.Version
			if g.Group != "" {
				av = g.Group + "/" + g.Version
			}
			typ, ok := types.Kind(av, g.Kind)
			if !ok {
				t.Fatalf("%s (%s %s) not found by kind", name, av, g.Kind)
			}
			obj := map[string]any{"apiVersion": av, "kind": g.Kind}
			if !strings.HasSuffix(g.Kind, "List") && g.Kind != "DeleteOptions" { // those have no ObjectMeta
				obj["metadata"] = map[string]any{"name": "x", "labels": map[string]any{"a": "b"}}
			}
			if _, err := typ.FromUnstructured(obj); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			kinds++
		}
	}
	if kinds < 50 {
		t.Fatalf("only %d kinds in the generated schema", kinds)
	}
	typ, _ := types.Kind("apps/v1", "Deployment")
	zero, _ := json.Marshal(&stagingapps.Deployment{})
	empty, err := fieldmanager.DecodeJSON(zero)
	if err != nil {
		t.Fatal(err)
	}
	em := empty.(map[string]any)
	em["apiVersion"], em["kind"] = "apps/v1", "Deployment"
	m, err := fieldmanager.New(fieldmanager.Config{APIVersion: "apps/v1", Kind: "Deployment", Type: typ, Empty: em, StatusSubresource: true})
	if err != nil {
		t.Fatalf("the zero generated Deployment does not fit its type: %v", err)
	}
	cfg, _ := fieldmanager.DecodeJSON([]byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"nginx-deployment","labels":{"app":"nginx"}},
		"spec":{"replicas":3,"selector":{"matchLabels":{"app":"nginx"}},"template":{"metadata":{"labels":{"app":"nginx"}},
		"spec":{"containers":[{"name":"nginx","image":"nginx:1.14.2","ports":[{"containerPort":80}]}]}}}}`))
	_, entries, err := m.Apply(nil, cfg.(map[string]any), nil, fieldmanager.Operation{Manager: "kubectl"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || !strings.Contains(string(entries[0].FieldsV1.Raw), `"k:{\"containerPort\":80,\"protocol\":\"TCP\"}"`) {
		t.Fatalf("nginx entry: %+v", entries)
	}
}
