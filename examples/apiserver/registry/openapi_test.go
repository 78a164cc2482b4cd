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
	for _, name := range sortedDefinitionNames(doc) {
		d := defs[name].(map[string]any)
		if ext, ok := d["x-kubernetes-group-version-kind"].([]any); ok {
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
	}
	if !gvks["autoscaling/v1/Scale"] || !gvks["/v1/Status"] {
		t.Error("Scale or Status missing")
	}
	spec := defs["io.setpoint.api.PodSpec"].(map[string]any)["properties"].(map[string]any)
	c := spec["containers"].(map[string]any)
	if c["type"] != "array" || c["x-kubernetes-patch-strategy"] != "merge" || c["x-kubernetes-patch-merge-key"] != "name" ||
		c["items"].(map[string]any)["$ref"] != "#/definitions/io.setpoint.api.Container" {
		t.Errorf("containers: %v", c)
	}
	if v := spec["volumes"].(map[string]any); v["x-kubernetes-patch-strategy"] != "merge,retainKeys" {
		t.Errorf("volumes: %v", v)
	}
	meta := defs["io.setpoint.store.ObjectMeta"].(map[string]any)["properties"].(map[string]any)
	if meta["ownerReferences"].(map[string]any)["x-kubernetes-patch-merge-key"] != "uid" ||
		meta["creationTimestamp"].(map[string]any)["format"] != "date-time" ||
		meta["labels"].(map[string]any)["additionalProperties"].(map[string]any)["type"] != "string" {
		t.Errorf("metadata: %v", meta)
	}
	pod := defs["io.setpoint.api.Pod"].(map[string]any)["properties"].(map[string]any)
	if pod["apiVersion"] == nil || pod["metadata"] == nil || pod["TypeMeta"] != nil {
		t.Errorf("pod properties: %v", pod)
	}
	port := defs["io.setpoint.api.ContainerPort"].(map[string]any)["properties"].(map[string]any)
	if p := port["containerPort"].(map[string]any); p["type"] != "integer" || p["format"] != "int32" {
		t.Errorf("containerPort: %v", p)
	}
}

func TestOpenAPIV3(t *testing.T) {
	if got := OpenAPIV3Paths(); len(got) != 4 || got[0] != "api/v1" || got[1] != "apis/apps/v1" {
		t.Fatalf("paths %v", got)
	}
	if _, ok, _ := OpenAPIV3("apis/batch/v1"); ok {
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
	if doc.OpenAPI != "3.0.0" || gvk["kind"] != "Deployment" || gvk["group"] != "apps" || len(doc.Paths) != 4 {
		t.Fatalf("apps/v1 document: %s", b)
	}
	params, _ := op["parameters"].([]any)
	if len(params) == 0 || params[0].(map[string]any)["name"] != "fieldValidation" {
		t.Fatalf("no fieldValidation parameter: %v", op)
	}
	spec := doc.Components.Schemas["io.setpoint.apps.DeploymentSpec"]["properties"].(map[string]any)
	if spec["template"].(map[string]any)["$ref"] != "#/components/schemas/io.setpoint.api.PodTemplateSpec" {
		t.Fatalf("v3 refs: %v", spec["template"])
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
}
