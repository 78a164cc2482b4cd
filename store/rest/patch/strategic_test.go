package patch

import (
	"errors"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
)

type tPod struct {
	store.TypeMeta `json:",inline"`
	Meta           store.ObjectMeta `json:"metadata"`
	Spec           tSpec            `json:"spec"`
}

type tSpec struct {
	Replicas    *int32            `json:"replicas,omitempty"`
	Containers  []tContainer      `json:"containers" patchStrategy:"merge" patchMergeKey:"name"`
	Volumes     []tVolume         `json:"volumes,omitempty" patchStrategy:"merge,retainKeys" patchMergeKey:"name"`
	Tolerations []tToleration     `json:"tolerations,omitempty"`
	Strategy    tStrategy         `json:"strategy" patchStrategy:"retainKeys"`
	CIDRs       []string          `json:"cidrs,omitempty" patchStrategy:"merge"`
	Selector    map[string]string `json:"selector,omitempty"`
}

type tContainer struct {
	Name  string   `json:"name"`
	Image string   `json:"image"`
	Args  []string `json:"args,omitempty"`
	Ports []struct {
		ContainerPort int32  `json:"containerPort"`
		Protocol      string `json:"protocol,omitempty"`
	} `json:"ports,omitempty" patchStrategy:"merge" patchMergeKey:"containerPort"`
}

type tVolume struct {
	Name     string `json:"name"`
	HostPath *struct {
		Path string `json:"path"`
	} `json:"hostPath,omitempty"`
	EmptyDir *struct{} `json:"emptyDir,omitempty"`
}

type tToleration struct {
	Key    string `json:"key"`
	Effect string `json:"effect"`
}

type tStrategy struct {
	Type          string `json:"type"`
	RollingUpdate *struct {
		MaxSurge string `json:"maxSurge"`
	} `json:"rollingUpdate,omitempty"`
}

var tSchema = SchemaFor[tPod]()

const basePod = `{
 "apiVersion":"v1","kind":"Pod",
 "metadata":{"name":"p","labels":{"app":"web","tier":"front"},"finalizers":["a","b"],
   "ownerReferences":[{"apiVersion":"v1","kind":"X","name":"o1","uid":"u1"}]},
 "spec":{
   "replicas":1,
   "containers":[
     {"name":"web","image":"nginx:1","args":["-a"],"ports":[{"containerPort":80},{"containerPort":443}]},
     {"name":"side","image":"busybox:1"}],
   "volumes":[{"name":"data","hostPath":{"path":"/d"}}],
   "tolerations":[{"key":"k1","effect":"NoSchedule"}],
   "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%"}},
   "cidrs":["10.0.0.0/24"],
   "selector":{"app":"web"}
 }}`

func smp(t *testing.T, doc, patch string) []byte {
	t.Helper()
	out, err := StrategicMergePatch([]byte(doc), []byte(patch), tSchema)
	if err != nil {
		t.Fatalf("patch %s: %v", patch, err)
	}
	return out
}

// sub decodes out and returns the value at a pointer.
func sub(t *testing.T, out []byte, ptr string) any {
	t.Helper()
	d, err := decode("out", out)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := parsePointer(ptr)
	v, err := getAt(d, p)
	if err != nil {
		t.Fatalf("%s: %v in %s", ptr, err, out)
	}
	return v
}

func eqJSON(t *testing.T, got any, want string) {
	t.Helper()
	w, err := decode("want", []byte(want))
	if err != nil {
		t.Fatal(err)
	}
	if !Equal(got, w) {
		g, _ := encode(got)
		t.Fatalf("got  %s\nwant %s", g, want)
	}
}

func TestStrategicChangeOneContainerImage(t *testing.T) {
	// what kubectl apply sends to change one image in a list of two
	out := smp(t, basePod, `{"spec":{"$setElementOrder/containers":[{"name":"web"},{"name":"side"}],
		"containers":[{"name":"side","image":"busybox:2"}]}}`)
	eqJSON(t, sub(t, out, "/spec/containers"), `[
		{"name":"web","image":"nginx:1","args":["-a"],"ports":[{"containerPort":80},{"containerPort":443}]},
		{"name":"side","image":"busybox:2"}]`)
}

func TestStrategicAddContainerAndPort(t *testing.T) {
	out := smp(t, basePod, `{"spec":{"containers":[
		{"name":"web","ports":[{"containerPort":8080}]},
		{"name":"new","image":"x"}]}}`)
	// Without $setElementOrder, Kubernetes puts the patch's items in patch
	// order and interleaves the others by their old positions: new items
	// go before later old ones (bench/apitypes_test.go checks this
	// ordering against apimachinery).
	eqJSON(t, sub(t, out, "/spec/containers"), `[
		{"name":"web","image":"nginx:1","args":["-a"],"ports":[{"containerPort":8080},{"containerPort":80},{"containerPort":443}]},
		{"name":"new","image":"x"},
		{"name":"side","image":"busybox:1"}]`)
}

func TestStrategicNullDeletesLabel(t *testing.T) {
	out := smp(t, basePod, `{"metadata":{"labels":{"tier":null,"env":"prod"}}}`)
	eqJSON(t, sub(t, out, "/metadata/labels"), `{"app":"web","env":"prod"}`)
}

func TestStrategicSetElementOrder(t *testing.T) {
	out := smp(t, basePod, `{"spec":{"$setElementOrder/containers":[{"name":"side"},{"name":"web"}],
		"containers":[{"name":"web","image":"nginx:2"}]}}`)
	eqJSON(t, sub(t, out, "/spec/containers/0/name"), `"side"`)
	eqJSON(t, sub(t, out, "/spec/containers/1/image"), `"nginx:2"`)
}

func TestStrategicDeleteElement(t *testing.T) {
	out := smp(t, basePod, `{"spec":{"containers":[{"name":"web","$patch":"delete"}]}}`)
	eqJSON(t, sub(t, out, "/spec/containers"), `[{"name":"side","image":"busybox:1"}]`)
	// deleting a port inside a kept container
	out = smp(t, basePod, `{"spec":{"containers":[{"name":"web","ports":[{"containerPort":443,"$patch":"delete"}]}]}}`)
	eqJSON(t, sub(t, out, "/spec/containers/0/ports"), `[{"containerPort":80}]`)
}

func TestStrategicReplaceList(t *testing.T) {
	out := smp(t, basePod, `{"spec":{"containers":[{"$patch":"replace"},{"name":"only","image":"o"}]}}`)
	eqJSON(t, sub(t, out, "/spec/containers"), `[{"name":"only","image":"o"}]`)
}

func TestStrategicReplaceMap(t *testing.T) {
	out := smp(t, basePod, `{"metadata":{"labels":{"$patch":"replace","only":"x"}}}`)
	eqJSON(t, sub(t, out, "/metadata/labels"), `{"only":"x"}`)
}

func TestStrategicUntaggedListsReplace(t *testing.T) {
	out := smp(t, basePod, `{"spec":{"tolerations":[{"key":"k2","effect":"NoExecute"}],"containers":[{"name":"web","args":["-b"]}]}}`)
	eqJSON(t, sub(t, out, "/spec/tolerations"), `[{"key":"k2","effect":"NoExecute"}]`)
	eqJSON(t, sub(t, out, "/spec/containers/0/args"), `["-b"]`)
}

func TestStrategicPrimitiveSetAndDeleteFromPrimitiveList(t *testing.T) {
	out := smp(t, basePod, `{"metadata":{"finalizers":["b","c"],"$deleteFromPrimitiveList/finalizers":["a"]},
		"spec":{"cidrs":["10.0.1.0/24"]}}`)
	eqJSON(t, sub(t, out, "/metadata/finalizers"), `["b","c"]`)
	eqJSON(t, sub(t, out, "/spec/cidrs"), `["10.0.1.0/24","10.0.0.0/24"]`)
	// items the patch repeats keep their old relative position
	out = smp(t, basePod, `{"metadata":{"finalizers":["b","c"]}}`)
	eqJSON(t, sub(t, out, "/metadata/finalizers"), `["a","b","c"]`)
	out = smp(t, basePod, `{"metadata":{"finalizers":["z","a"]}}`)
	eqJSON(t, sub(t, out, "/metadata/finalizers"), `["z","a","b"]`)
}

func TestStrategicOwnerReferencesMergeByUID(t *testing.T) {
	out := smp(t, basePod, `{"metadata":{"ownerReferences":[{"apiVersion":"v1","kind":"X","name":"o2","uid":"u2"}]}}`)
	refs := sub(t, out, "/metadata/ownerReferences").([]any)
	if len(refs) != 2 {
		t.Fatalf("ownerReferences not merged by uid: %v", refs)
	}
}

func TestStrategicRetainKeys(t *testing.T) {
	out := smp(t, basePod, `{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}`)
	eqJSON(t, sub(t, out, "/spec/strategy"), `{"type":"Recreate"}`)
	// volumes: switching a volume's source with retainKeys drops the old source
	out = smp(t, basePod, `{"spec":{"volumes":[{"name":"data","$retainKeys":["name","emptyDir"],"emptyDir":{}}]}}`)
	eqJSON(t, sub(t, out, "/spec/volumes"), `[{"name":"data","emptyDir":{}}]`)
}

func TestStrategicScale(t *testing.T) {
	out := smp(t, basePod, `{"spec":{"replicas":5}}`)
	eqJSON(t, sub(t, out, "/spec/replicas"), `5`)
	eqJSON(t, sub(t, out, "/spec/containers/1/name"), `"side"`)
}

func TestStrategicUnknownFieldsMergeLikeJSONMergePatch(t *testing.T) {
	out := smp(t, basePod, `{"extra":{"a":[1]},"spec":{"unknownList":[1,2]}}`)
	eqJSON(t, sub(t, out, "/extra"), `{"a":[1]}`)
	eqJSON(t, sub(t, out, "/spec/unknownList"), `[1,2]`)
}

func TestStrategicDeleteWholeField(t *testing.T) {
	// Kubernetes leaves an empty object behind
	out := smp(t, basePod, `{"spec":{"strategy":{"$patch":"delete"}}}`)
	eqJSON(t, sub(t, out, "/spec/strategy"), `{}`)
	// an element saying replace in a merged list replaces the whole list
	// with the other elements
	out = smp(t, basePod, `{"spec":{"volumes":[{"name":"data","$patch":"replace","emptyDir":{}},{"name":"x","emptyDir":{}}]}}`)
	eqJSON(t, sub(t, out, "/spec/volumes"), `[{"name":"x","emptyDir":{}}]`)
}

func TestStrategicErrors(t *testing.T) {
	cases := []struct{ patch, wantInMsg string }{
		{`{"spec":{"containers":[{"image":"x"}]}}`, `spec.containers[0]: element has no merge key "name"`},
		{`{"spec":{"containers":["x"]}}`, `spec.containers[0]: element must be an object`},
		{`{"spec":{"$frob":1}}`, `spec.$frob: unknown directive`},
		{`{"metadata":{"labels":{"$patch":"explode"}}}`, `metadata.labels: unknown $patch directive`},
		{`{"spec":{"$setElementOrder/containers":"web"}}`, `spec.containers: $setElementOrder/containers value must be a list`},
		{`{"spec":{"$setElementOrder/containers":[{"image":"x"}]}}`, `has no merge key "name"`},
		{`{"spec":{"$retainKeys":"type"}}`, `spec: $retainKeys must be a list`},
		{`{"metadata":{"$deleteFromPrimitiveList/finalizers":"a"}}`, `metadata.finalizers: $deleteFromPrimitiveList/finalizers value must be a list`},
		{`{"spec":{"cidrs":[{"a":1}]}}`, `spec.cidrs[0]: an object in a list merged as a set`},
		{`{"spec":{"containers":[{"name":"web","$patch":"merge"}]}}`, `spec.containers[0]: $patch: merge is not supported`},
		{`{"spec":{"tolerations":[{"$patch":"explode"}]}}`, `spec.tolerations: a list element with only $patch must say replace or delete`},
		{`[1]`, `must be a JSON object`},
		{`{"a":`, `not valid JSON`},
	}
	for _, c := range cases {
		out, err := StrategicMergePatch([]byte(basePod), []byte(c.patch), tSchema)
		if !errors.Is(err, ErrInvalidPatch) || !strings.Contains(err.Error(), c.wantInMsg) {
			t.Errorf("patch %s: err = %v, want ErrInvalidPatch mentioning %q", c.patch, err, c.wantInMsg)
		}
		if out != nil {
			t.Errorf("patch %s: result returned with error", c.patch)
		}
	}
	if _, err := StrategicMergePatch([]byte(`[1]`), []byte(`{}`), tSchema); !errors.Is(err, ErrInvalidPatch) {
		t.Errorf("non-object document: err = %v", err)
	}
}

func TestApplyStrategicMergePatchDoesNotModifyDoc(t *testing.T) {
	d, _ := decode("doc", []byte(basePod))
	before := DeepCopyJSON(d)
	p, _ := decode("patch", []byte(`{"metadata":{"labels":null},"spec":{"containers":[{"name":"web","image":"x"}]}}`))
	if _, err := ApplyStrategicMergePatch(d.(map[string]any), p.(map[string]any), tSchema); err != nil {
		t.Fatal(err)
	}
	if !Equal(d, before) {
		t.Fatal("ApplyStrategicMergePatch modified its input")
	}
}

func TestSchemaFromTags(t *testing.T) {
	spec := tSchema.Field("spec").Schema
	c := spec.Field("containers")
	if !c.Merge || c.MergeKey != "name" || c.Schema.Kind() != List || c.Schema.Elem().Kind() != Object {
		t.Fatalf("containers field = %+v", c)
	}
	if v := spec.Field("volumes"); !v.Merge || !v.RetainKeys {
		t.Fatalf("volumes field = %+v", v)
	}
	if tSchema.Field("apiVersion") == nil || tSchema.Field("TypeMeta") != nil {
		t.Fatal("inline TypeMeta not flattened")
	}
	if f := tSchema.Field("metadata").Schema.Field("finalizers"); !f.Merge {
		t.Fatal("metadata.finalizers should merge")
	}
	if tSchema.Field("metadata").Schema.Field("creationTimestamp").Schema.Kind() != Primitive {
		t.Fatal("store.Time should be primitive")
	}
	if spec.Field("selector").Schema.Kind() != Map {
		t.Fatal("selector should be a map")
	}
}

// TestStrategicDirectivesValidated is issue 12 case 2 (field-cases 02): a
// patch that sets a field its own $retainKeys list leaves out, or whose
// $setElementOrder list does not hold the patch list's items in their
// order, is a malformed patch (an apiserver answers 400), as in Kubernetes.
func TestStrategicDirectivesValidated(t *testing.T) {
	schema := SchemaFor[tPod]()
	doc := []byte(`{"metadata":{"name":"p","finalizers":["a","b"]},"spec":{"strategy":{"type":"Recreate"},
		"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}],"cidrs":["10.0.0.0/8","10.1.0.0/16"]}}`)
	for _, c := range []struct{ name, patch, want string }{
		{"retainKeys leaves out a patched field",
			`{"spec":{"strategy":{"$retainKeys":["type"],"type":"RollingUpdate","rollingUpdate":{"maxSurge":2}}}}`, "spec.strategy.rollingUpdate: invalid patch format of $retainKeys"},
		{"retainKeys empty",
			`{"spec":{"strategy":{"$retainKeys":[],"type":"Recreate"}}}`, "spec.strategy.type: invalid patch format of $retainKeys"},
		{"setElementOrder names items the patch does not have",
			`{"spec":{"$setElementOrder/containers":[{"name":"x"}],"containers":[{"name":"a","image":"z"}]}}`, "spec.containers[0]: invalid patch format of $setElementOrder"},
		{"setElementOrder in another order",
			`{"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"b"}],"containers":[{"name":"b","image":"z"},{"name":"a","image":"z"}]}}`, "spec.containers[1]"},
		{"setElementOrder of scalars leaves one out",
			`{"spec":{"$setElementOrder/cidrs":["10.0.0.0/8"],"cidrs":["10.2.0.0/16"]}}`, "spec.cidrs[0]"},
		{"setElementOrder not a list", `{"spec":{"$setElementOrder/containers":"x"}}`, "must be a list"},
		{"retainKeys not a list", `{"spec":{"strategy":{"$retainKeys":"type"}}}`, "must be a list"},
	} {
		out, err := StrategicMergePatch(doc, []byte(c.patch), schema)
		if !errors.Is(err, ErrInvalidPatch) || errors.Is(err, ErrNotApplicable) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %s, %v; want a malformed-patch error containing %q", c.name, out, err, c.want)
		}
	}
	// Their proper uses still apply.
	for _, c := range []struct{ name, patch, want string }{
		{"retainKeys naming every patched field",
			`{"spec":{"strategy":{"$retainKeys":["type","rollingUpdate"],"type":"RollingUpdate","rollingUpdate":{"maxSurge":2}}}}`, `"strategy":{"rollingUpdate":{"maxSurge":2},"type":"RollingUpdate"}`},
		{"retainKeys with a deleted field",
			`{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":null}}}`, `"strategy":{"type":"Recreate"}`},
		{"setElementOrder holding the patch's items and more",
			`{"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"c"},{"name":"a"}],"containers":[{"name":"c","image":"w"},{"name":"a","image":"z"}]}}`,
			`"containers":[{"image":"y","name":"b"},{"image":"w","name":"c"},{"image":"z","name":"a"}]`},
		{"setElementOrder ignores deletions",
			`{"spec":{"$setElementOrder/containers":[{"name":"b"}],"containers":[{"name":"a","$patch":"delete"}]}}`, `"containers":[{"image":"y","name":"b"}]`},
	} {
		out, err := StrategicMergePatch(doc, []byte(c.patch), schema)
		if err != nil || !strings.Contains(string(out), c.want) {
			t.Errorf("%s: %s, %v; want it to contain %s", c.name, out, err, c.want)
		}
	}
}
