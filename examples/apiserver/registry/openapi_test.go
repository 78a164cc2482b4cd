package registry

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestOpenAPIV2(t *testing.T) {
	b, err := OpenAPIV2()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["swagger"] != "2.0" {
		t.Fatal("not a swagger 2.0 document")
	}
	defs := doc["definitions"].(map[string]any)
	gvks := map[string]bool{}
	for _, d := range defs {
		if ext, ok := d.(map[string]any)["x-kubernetes-group-version-kind"].([]any); ok {
			g := ext[0].(map[string]any)
			gvks[g["group"].(string)+"/"+g["version"].(string)+"/"+g["kind"].(string)] = true
		}
	}
	for _, d := range Kinds() {
		r := d.Resource()
		group, version := GroupVersion(r)
		for _, kind := range []string{r.Kind, d.ListKind()} {
			if !gvks[group+"/"+version+"/"+kind] {
				t.Errorf("no definition with group-version-kind %s/%s/%s", group, version, kind)
			}
		}
		if defs[d.OpenAPIName()] == nil {
			t.Errorf("%s: no definition %s", r.Name, d.OpenAPIName())
		}
	}
	if !gvks["autoscaling/v1/Scale"] || !gvks["/v1/Status"] || !gvks["policy/v1/Eviction"] {
		t.Error("Scale, Status or Eviction missing")
	}
	// no OpenAPI 3 constructs remain, and every reference resolves
	if s := string(b); strings.Contains(s, "#/components/") || strings.Contains(s, `"oneOf"`) || strings.Contains(s, `"allOf"`) {
		t.Error("the v2 document holds OpenAPI 3 constructs")
	}
	for _, ref := range strings.Split(string(b), `"$ref":"#/definitions/`)[1:] {
		name := ref[:strings.IndexByte(ref, '"')]
		if defs[name] == nil {
			t.Errorf("reference to %s, which is not defined", name)
		}
	}
	spec := defs["io.k8s.api.core.v1.PodSpec"].(map[string]any)["properties"].(map[string]any)
	c := spec["containers"].(map[string]any)
	if c["type"] != "array" || c["x-kubernetes-patch-strategy"] != "merge" || c["x-kubernetes-patch-merge-key"] != "name" ||
		c["items"].(map[string]any)["$ref"] != "#/definitions/io.k8s.api.core.v1.Container" || c["description"] == "" {
		t.Errorf("containers: %v", c)
	}
	if v := spec["volumes"].(map[string]any); v["x-kubernetes-patch-strategy"] != "merge,retainKeys" {
		t.Errorf("volumes: %v", v)
	}
	if sc := spec["securityContext"].(map[string]any); sc["$ref"] != "#/definitions/io.k8s.api.core.v1.PodSecurityContext" || len(sc) != 2 {
		t.Errorf("securityContext (an allOf in v3) is %v; want a bare $ref with its description", sc)
	}
	meta := defs["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"].(map[string]any)["properties"].(map[string]any)
	if meta["ownerReferences"].(map[string]any)["x-kubernetes-patch-merge-key"] != "uid" ||
		meta["labels"].(map[string]any)["additionalProperties"].(map[string]any)["type"] != "string" {
		t.Errorf("metadata: %v", meta)
	}
	port := defs["io.k8s.api.core.v1.ContainerPort"].(map[string]any)["properties"].(map[string]any)
	if p := port["containerPort"].(map[string]any); p["type"] != "integer" || p["format"] != "int32" {
		t.Errorf("containerPort: %v", p)
	}
	if ios := defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"].(map[string]any); ios["type"] != "string" || ios["format"] != "int-or-string" {
		t.Errorf("int-or-string: %v", ios)
	}
}

func TestOpenAPIV3(t *testing.T) {
	paths := OpenAPIV3Paths()
	if paths[0] != "api/v1" || !strings.Contains(strings.Join(paths, " "), "apis/batch/v1") || strings.Contains(strings.Join(paths, " "), "autoscaling") {
		t.Fatalf("paths %v", paths)
	}
	if _, ok, _ := OpenAPIV3("apis/nothing/v1"); ok {
		t.Fatal("unknown group-version served")
	}
	b, ok, err := OpenAPIV3("apis/apps/v1")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	var doc struct {
		OpenAPI    string
		Paths      map[string]map[string]map[string]any
		Components struct{ Schemas map[string]map[string]any }
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	op := doc.Paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
	gvk, _ := op["x-kubernetes-group-version-kind"].(map[string]any)
	if doc.OpenAPI != "3.0.0" || gvk["kind"] != "Deployment" || gvk["group"] != "apps" || len(doc.Paths) != 5 {
		t.Fatalf("apps/v1 document paths: %v", doc.Paths)
	}
	params, _ := op["parameters"].([]any)
	if len(params) == 0 || params[0].(map[string]any)["name"] != "fieldValidation" {
		t.Fatalf("no fieldValidation parameter: %v", op)
	}
	spec := doc.Components.Schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"].(map[string]any)
	tmpl := spec["template"].(map[string]any)["allOf"].([]any)[0].(map[string]any)
	if tmpl["$ref"] != "#/components/schemas/io.k8s.api.core.v1.PodTemplateSpec" {
		t.Fatalf("v3 refs: %v", spec["template"])
	}
	// the document holds what it refers to, and not the whole API
	for _, name := range []string{"io.k8s.api.core.v1.Container", "io.k8s.api.autoscaling.v1.Scale", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"} {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("apps/v1 lacks %s", name)
		}
	}
	if doc.Components.Schemas["io.k8s.api.batch.v1.Job"] != nil {
		t.Error("apps/v1 holds batch's Job")
	}
	core, _, _ := OpenAPIV3("api/v1")
	if !json.Valid(core) || !strings.Contains(string(core), `"/api/v1/nodes/{name}"`) || !strings.Contains(string(core), `"/api/v1/namespaces/{namespace}/pods/{name}"`) {
		t.Fatal("core paths")
	}
	idx, err := OpenAPIV3Discovery()
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Paths map[string]struct{ ServerRelativeURL string }
	}
	if err := json.Unmarshal(idx, &d); err != nil {
		t.Fatal(err)
	}
	if u := d.Paths["apis/apps/v1"].ServerRelativeURL; !strings.HasPrefix(u, "/openapi/v3/apis/apps/v1?hash=") || len(u) < 60 {
		t.Fatalf("discovery: %s", idx)
	}
	if len(d.Paths) != len(paths) {
		t.Fatalf("index has %d paths, want %d", len(d.Paths), len(paths))
	}
}
