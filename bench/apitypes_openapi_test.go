package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/util/proto"
	"k8s.io/kube-openapi/pkg/util/proto/validation"

	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
)

func ourModels(t *testing.T) proto.Models {
	t.Helper()
	b, err := registry.OpenAPIV2()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi_v2.ParseDocument(b)
	if err != nil {
		t.Fatalf("gnostic cannot parse our document: %v", err)
	}
	models, err := proto.NewOpenAPIData(doc)
	if err != nil {
		t.Fatalf("kube-openapi cannot load our document: %v", err)
	}
	return models
}

// TestOpenAPIValidatesFixtures runs kubectl's client-side validator
// (kube-openapi's proto validation) with our OpenAPI document over the
// fixtures, and checks that it catches a misspelled field.
func TestOpenAPIValidatesFixtures(t *testing.T) {
	models := ourModels(t)
	files := map[string]string{
		"pod.json": "Pod", "node.json": "Node", "namespace.json": "Namespace", "service.json": "Service",
		"endpoints.json": "Endpoints", "event.json": "Event", "lease.json": "Lease", "resourcequota.json": "ResourceQuota",
		"deployment.json": "Deployment", "replicaset.json": "ReplicaSet", "statefulset.json": "StatefulSet",
		"daemonset.json": "DaemonSet", "scale.json": "Scale", "binding.json": "Binding", "podlist.json": "PodList", "status.json": "Status",
	}
	for file, kind := range files {
		def := "io.setpoint.api." + kind
		switch kind {
		case "Lease":
			def = "io.setpoint.election.Lease" // the library's type, which examples/api reuses
		case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet":
			def = "io.setpoint.apps." + kind
		case "Scale":
			def = "io.setpoint.autoscaling.Scale"
		}
		model := models.LookupModel(def)
		if model == nil {
			t.Fatalf("no model %s", def)
		}
		data, err := os.ReadFile(filepath.Join("..", "examples", "api", "testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		if err := json.Unmarshal(data, &obj); err != nil {
			t.Fatal(err)
		}
		if errs := validation.ValidateModel(obj, model, kind); len(errs) > 0 {
			t.Errorf("%s: %v", file, errs)
		}
	}
	bad := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "x"},
		"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "imagee": "typo", "ports": []any{map[string]any{"containerPort": "eighty"}}}}}}
	errs := validation.ValidateModel(bad, models.LookupModel("io.setpoint.api.Pod"), "Pod")
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	all := strings.Join(msgs, "; ")
	if !strings.Contains(all, "imagee") || !strings.Contains(all, "containerPort") {
		t.Errorf("validator missed the typo or the bad type: %s", all)
	}
}

// TestOpenAPIPatchMetaMatchesStructs computes kubectl-style strategic merge
// patches with apimachinery driven by our OpenAPI document (what kubectl
// apply uses when the server serves /openapi/v2) and by Kubernetes' own
// structs, and expects the same results as our implementation.
func TestOpenAPIPatchMetaMatchesStructs(t *testing.T) {
	models := ourModels(t)
	meta := strategicpatch.NewPatchMetaFromOpenAPI(models.LookupModel("io.setpoint.apps.Deployment"))
	doc := []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","finalizers":["a"],"ownerReferences":[{"apiVersion":"v1","kind":"X","name":"o","uid":"u1"}]},
"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{
"volumes":[{"name":"data","hostPath":{"path":"/d"}}],
"containers":[{"name":"web","image":"nginx:1","ports":[{"containerPort":80}],"env":[{"name":"A","value":"1"}]},{"name":"log","image":"busybox:1"}]}},
"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%"}}}}`)
	patches := []string{
		`{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"},{"name":"log"}],"containers":[{"image":"busybox:2","name":"log"}]}}}}`,
		`{"spec":{"template":{"spec":{"containers":[{"name":"web","ports":[{"containerPort":8080}],"env":[{"name":"B","value":"2"}]}]}}}}`,
		`{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}`,
		`{"spec":{"template":{"spec":{"volumes":[{"$retainKeys":["emptyDir","name"],"emptyDir":{},"name":"data"}]}}}}`,
		`{"metadata":{"finalizers":["b"],"ownerReferences":[{"apiVersion":"v1","kind":"Y","name":"p","uid":"u2"}]}}`,
		`{"spec":{"template":{"spec":{"containers":[{"$patch":"delete","name":"web"}]}}}}`,
	}
	for i, p := range patches {
		viaOpenAPI, err := strategicpatch.StrategicMergePatchUsingLookupPatchMeta(doc, []byte(p), meta)
		if err != nil {
			t.Fatalf("patch %d via our OpenAPI: %v", i, err)
		}
		viaStructs, err := strategicpatch.StrategicMergePatch(doc, []byte(p), appsv1.Deployment{})
		if err != nil {
			t.Fatal(err)
		}
		ours, err := patchWithOurs(doc, []byte(p))
		if err != nil {
			t.Fatal(err)
		}
		if err := sameJSON(viaOpenAPI, viaStructs); err != nil {
			t.Errorf("patch %d: our OpenAPI vs Kubernetes structs: %v", i, err)
		}
		if err := sameJSON(ours, viaStructs); err != nil {
			t.Errorf("patch %d: ours vs Kubernetes structs: %v", i, err)
		}
	}
}

func patchWithOurs(doc, p []byte) ([]byte, error) {
	return patch.StrategicMergePatch(doc, p, registry.DeploymentKind.PatchSchema())
}

// TestOpenAPIV3ForKubectl loads our OpenAPI v3 documents the way kubectl
// does (kube-openapi's spec3), checks the fieldValidation query parameter
// kubectl looks for on each resource's PATCH operation, and computes apply
// patches with apimachinery's OpenAPI v3 patch meta against ours.
func TestOpenAPIV3ForKubectl(t *testing.T) {
	for _, gv := range registry.OpenAPIV3Paths() {
		b, ok, err := registry.OpenAPIV3(gv)
		if err != nil || !ok {
			t.Fatal(gv, ok, err)
		}
		var doc spec3.OpenAPI
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: kube-openapi cannot parse: %v", gv, err)
		}
		for _, d := range registry.Kinds() {
			r := d.Resource()
			if !strings.HasSuffix(gv, r.APIVersion) || (r.APIVersion == "v1") != (gv == "api/v1") {
				continue
			}
			if !supportsFieldValidation(&doc, r.Kind) {
				t.Errorf("%s: no PATCH operation with fieldValidation for %s", gv, r.Kind)
			}
		}
	}
	b, _, _ := registry.OpenAPIV3("apis/apps/v1")
	var doc spec3.OpenAPI
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	meta := strategicpatch.PatchMetaFromOpenAPIV3{SchemaList: doc.Components.Schemas, Schema: doc.Components.Schemas["io.setpoint.apps.Deployment"]}
	original := []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1"},{"name":"log","image":"busybox:1"}]}}}}`)
	modified := []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:2"},{"name":"log","image":"busybox:1"}]}}}}`)
	// kubectl apply's three-way patch, computed from our schema
	p, err := strategicpatch.CreateThreeWayMergePatch(original, modified, original, meta, true)
	if err != nil {
		t.Fatalf("three-way patch from our OpenAPI v3: %v", err)
	}
	if !strings.Contains(string(p), `"$setElementOrder/containers"`) {
		t.Errorf("patch from our schema does not merge containers by name: %s", p)
	}
	out, err := patch.StrategicMergePatch(original, p, registry.DeploymentKind.PatchSchema())
	if err != nil {
		t.Fatal(err)
	}
	if err := sameJSON(out, modified); err != nil {
		t.Errorf("applying kubectl's patch %s: %v", p, err)
	}
}

// supportsFieldValidation mirrors kubectl's check: a PATCH operation tagged
// with the kind's group-version-kind that lists a fieldValidation query
// parameter.
func supportsFieldValidation(doc *spec3.OpenAPI, kind string) bool {
	for _, path := range doc.Paths.Paths {
		op := path.Patch
		if op == nil {
			continue
		}
		gvk, ok := op.Extensions["x-kubernetes-group-version-kind"].(map[string]any)
		if !ok || gvk["kind"] != kind {
			continue
		}
		for _, param := range op.Parameters {
			if param.Name == "fieldValidation" && param.In == "query" {
				return true
			}
		}
	}
	return false
}
