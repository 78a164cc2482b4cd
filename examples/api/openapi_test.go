package api

import (
	"encoding/json"
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
