package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
)

// TestStrategicMergePatchMatchesApimachinery applies kubectl-style patches
// with both implementations and compares the results.
func TestStrategicMergePatchMatchesApimachinery(t *testing.T) {
	doc := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default","labels":{"app":"web","tier":"front"},"finalizers":["a","b"],
"ownerReferences":[{"apiVersion":"v1","kind":"X","name":"o","uid":"u1"}]},
"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{
"volumes":[{"name":"data","hostPath":{"path":"/d"}},{"name":"tmp","emptyDir":{}}],
"containers":[{"name":"web","image":"nginx:1","ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":443,"protocol":"TCP"}],"env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],"volumeMounts":[{"name":"data","mountPath":"/d"}]},
{"name":"log","image":"busybox:1","args":["-x"]}],
"tolerations":[{"key":"k","operator":"Exists","effect":"NoSchedule"}],"nodeSelector":{"os":"linux"}}},
"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}}},"status":{"replicas":3}}`
	patches := []string{
		`{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"},{"name":"log"}],"containers":[{"image":"busybox:2","name":"log"}]}}}}`,
		`{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"log"},{"name":"web"}]}}}}`,
		`{"spec":{"template":{"spec":{"containers":[{"$patch":"delete","name":"web"}]}}}}`,
		`{"spec":{"template":{"spec":{"containers":[{"$patch":"replace"},{"name":"only","image":"x"}]}}}}`,
		`{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":null}}}`,
		`{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"],"finalizers":["c"]}}`,
		`{"metadata":{"labels":{"tier":null,"env":"prod"}}}`,
		`{"metadata":{"labels":{"$patch":"replace","only":"x"}}}`,
		`{"metadata":{"ownerReferences":[{"apiVersion":"v1","kind":"Y","name":"p","uid":"u2"}]}}`,
		`{"spec":{"template":{"spec":{"containers":[{"$setElementOrder/env":[{"name":"C"},{"name":"A"},{"name":"B"}],"env":[{"name":"C","value":"3"}],"name":"web"}]}}}}`,
		`{"spec":{"template":{"spec":{"containers":[{"name":"web","ports":[{"containerPort":8080}]}]}}}}`,
		`{"spec":{"template":{"spec":{"containers":[{"name":"web","ports":[{"$patch":"delete","containerPort":443}]}]}}}}`,
		`{"spec":{"template":{"spec":{"tolerations":[{"key":"z","operator":"Exists"}]}}}}`,
		`{"spec":{"template":{"spec":{"$setElementOrder/volumes":[{"name":"data"},{"name":"tmp"}],"volumes":[{"$retainKeys":["emptyDir","name"],"emptyDir":{},"name":"data"}]}}}}`,
		`{"spec":{"template":{"spec":{"containers":[{"name":"new","image":"n"}]}}}}`,
		`{"spec":{"template":{"spec":{"containers":[{"name":"log","args":null}]}}}}`,
		`{"spec":{"replicas":5},"status":null}`,
		`{"spec":{"template":{"spec":{"containers":[{"name":"log","image":"busybox:2"}]}}}}`,
		`{"spec":{"template":{"spec":{"containers":[{"name":"log","image":"busybox:2"},{"name":"new","image":"n"}]}}}}`,
		`{"spec":{"template":{"spec":{"containers":[{"name":"n1","image":"n"},{"name":"web","image":"w2"},{"name":"n2","image":"n"}]}}}}`,
		`{"metadata":{"finalizers":["b","c"]}}`,
		`{"metadata":{"finalizers":["z","a"]}}`,
		`{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"$patch":"replace"},{"name":"Z","value":"z"}]}]}}}}`,
		`{"spec":{"strategy":{"$patch":"delete"}}}`,
		`{"spec":{"template":{"spec":{"volumes":[{"name":"data","$patch":"replace","emptyDir":{}}]}}}}`,
		`{"spec":{"template":{"spec":{"containers":[{"name":"web","ports":[{"containerPort":80,"$patch":"delete"},{"containerPort":81}]}]}}}}`,
		`{"metadata":{"finalizers":[]}}`,
		`{"spec":{"template":{"spec":{"containers":[]}}}}`,
		`{"metadata":{"ownerReferences":[{"uid":"u1","$patch":"delete"}]}}`,
		`{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"log"},{"name":"new"},{"name":"web"}],"containers":[{"name":"new","image":"n"}]}}}}`,
		`{"metadata":{"$setElementOrder/finalizers":["b","a"]}}`,
		`{"metadata":{"labels":{"app":"x"},"annotations":{"a":"b"}},"spec":{"template":{"metadata":{"labels":{"v":"2"}}}}}`,
		`{"spec":{"template":{"spec":{"containers":[{"name":"web","resources":{"limits":{"cpu":"1"}},"env":[{"name":"A","$patch":"delete"}]}]}}}}`,
		`{"spec":{"template":{"spec":{"nodeSelector":null}}}}`,
	}
	schema := registry.DeploymentKind.PatchSchema()
	for i, p := range patches {
		ours, err := patch.StrategicMergePatch([]byte(doc), []byte(p), schema)
		if err != nil {
			t.Errorf("patch %d: ours: %v", i, err)
			continue
		}
		theirs, err := strategicpatch.StrategicMergePatch([]byte(doc), []byte(p), appsv1.Deployment{})
		if err != nil {
			t.Errorf("patch %d: apimachinery: %v", i, err)
			continue
		}
		if err := sameJSON(ours, theirs); err != nil {
			t.Errorf("patch %d %s: %v", i, p, err)
		}
	}
}

// FuzzStrategicMergePatchDifferential: when both implementations accept a
// patch, they produce the same document.
func FuzzStrategicMergePatchDifferential(f *testing.F) {
	doc := []byte(`{"metadata":{"name":"web","labels":{"a":"1","b":"2"},"finalizers":["x","y"]},"spec":{"replicas":1,"selector":{"matchLabels":{"a":"1"}},"template":{"spec":{"containers":[{"name":"a","image":"i","ports":[{"containerPort":1},{"containerPort":2}],"env":[{"name":"E","value":"1"}]},{"name":"b","image":"j"}],"volumes":[{"name":"v","emptyDir":{}}]}},"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}}`)
	for _, p := range []string{
		`{"spec":{"template":{"spec":{"containers":[{"name":"c"},{"name":"a","image":"k"}]}}}}`,
		`{"metadata":{"finalizers":["z","x"],"labels":{"a":null}}}`,
		`{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}],"containers":[{"name":"a","ports":[{"containerPort":3},{"containerPort":1,"$patch":"delete"}]}]}}}}`,
		`{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}`,
	} {
		f.Add(p)
	}
	schema := registry.DeploymentKind.PatchSchema()
	f.Fuzz(func(t *testing.T, p string) {
		ours, err := patch.StrategicMergePatch(doc, []byte(p), schema)
		if err != nil {
			return
		}
		theirs, err := k8sPatch(doc, []byte(p))
		if err != nil {
			return
		}
		// Compare as typed objects: Kubernetes copies a patch value for a
		// field the document lacks verbatim, directives and all, and relies
		// on decoding to drop them; we process the directives. Decoding
		// both results into the Kubernetes type compares what is stored.
		var a, b appsv1.Deployment
		if json.Unmarshal(ours, &a) != nil || json.Unmarshal(theirs, &b) != nil {
			return
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("patch %s:\nours %s\nk8s  %s", p, ours, theirs)
		}
	})
}

// k8sPatch calls apimachinery, turning its panics (it panics, for one, on a
// merge key whose value is a list) into errors.
func k8sPatch(doc, p []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("apimachinery panicked: %v", r)
		}
	}()
	return strategicpatch.StrategicMergePatch(doc, p, appsv1.Deployment{})
}

// TestStrategicDirectiveErrorsMatchApimachinery: a patch that sets a field
// its $retainKeys list leaves out, or whose $setElementOrder list does not
// hold its list items in their order, is refused by both implementations
// (issue 12 case 2).
func TestStrategicDirectiveErrorsMatchApimachinery(t *testing.T) {
	doc := []byte(`{"metadata":{"name":"web","finalizers":["x","y"]},"spec":{"replicas":1,"selector":{"matchLabels":{"a":"1"}},"template":{"spec":{"containers":[{"name":"c","image":"i"},{"name":"d","image":"j"}]}},"strategy":{"type":"Recreate"}}}`)
	schema := registry.DeploymentKind.PatchSchema()
	for _, p := range []string{
		`{"spec":{"strategy":{"$retainKeys":["type"],"type":"RollingUpdate","rollingUpdate":{"maxSurge":2}}}}`,
		`{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"x"}],"containers":[{"name":"c","image":"nginx:2"}]}}}}`,
		`{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"c"},{"name":"d"}],"containers":[{"name":"d","image":"k"},{"name":"c","image":"k"}]}}}}`,
		`{"metadata":{"$setElementOrder/finalizers":["x"],"finalizers":["z"]}}`,
	} {
		if out, err := patch.StrategicMergePatch(doc, []byte(p), schema); err == nil {
			t.Errorf("ours accepted %s: %s", p, out)
		}
		if out, err := k8sPatch(doc, []byte(p)); err == nil {
			t.Errorf("apimachinery accepted %s: %s", p, out)
		}
	}
}
