package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/watch"
)

const applyHead = "apiVersion: test.setpoint.dev/v1\nkind: Appliance\nmetadata:\n  name: a\n"

func TestApplyCreatesReappliesConflictsAndForces(t *testing.T) {
	as := newApplianceServer(t)
	cfg := applyHead + "spec:\n  replicas: 3\n  image: web:1\n  parts:\n  - name: p1\n    count: 1\n"
	code, a, st := as.apply(t, "a", "alice", "", cfg)
	if code != 201 {
		t.Fatalf("first apply: %d %v", code, st)
	}
	if *a.Spec.Replicas != 3 || a.Spec.Image != "web:1" || len(a.Spec.Parts) != 1 || a.Namespace != "ns" {
		t.Fatalf("created %+v", a.Spec)
	}
	e := entryOf(t, a, "alice", "Apply")
	if e.APIVersion != "test.setpoint.dev/v1" || e.FieldsType != "FieldsV1" || e.Time == nil || !e.Time.Equal(testEpoch) {
		t.Fatalf("alice's entry %+v", e)
	}
	want := `{"f:spec":{"f:image":{},"f:parts":{"k:{\"name\":\"p1\"}":{".":{},"f:count":{},"f:name":{}}},"f:replicas":{}}}`
	if got := string(e.FieldsV1.Raw); got != want {
		t.Fatalf("alice owns %s, want %s", got, want)
	}

	// The same configuration again writes nothing.
	as.clock.Advance(time.Minute)
	rev := as.revision(t)
	code, again, st := as.apply(t, "a", "alice", "", cfg)
	if code != 200 || again.ResourceVersion != a.ResourceVersion || as.revision(t) != rev {
		t.Fatalf("re-apply: %d %v, rv %s -> %s", code, st, a.ResourceVersion, again.ResourceVersion)
	}

	// Another manager changing alice's field conflicts, naming both.
	code, _, st = as.apply(t, "a", "bob", "", applyHead+"spec:\n  replicas: 5\n")
	if code != 409 || st.Reason != watch.StatusReasonConflict {
		t.Fatalf("conflicting apply: %d %v", code, st)
	}
	if want := `Apply failed with 1 conflict: conflict with "alice": .spec.replicas`; st.Message != want {
		t.Fatalf("message %q, want %q", st.Message, want)
	}
	if st.Details == nil || len(st.Details.Causes) != 1 || st.Details.Causes[0] != (watch.StatusCause{Type: "FieldManagerConflict", Message: `conflict with "alice"`, Field: ".spec.replicas"}) {
		t.Fatalf("causes %+v", st.Details)
	}
	if as.revision(t) != rev {
		t.Fatal("a conflicting apply wrote")
	}

	// force=true takes the field over.
	code, b, st := as.apply(t, "a", "bob", "force=true", applyHead+"spec:\n  replicas: 5\n")
	if code != 200 || *b.Spec.Replicas != 5 {
		t.Fatalf("forced apply: %d %v", code, st)
	}
	if got := string(entryOf(t, b, "bob", "Apply").FieldsV1.Raw); got != `{"f:spec":{"f:replicas":{}}}` {
		t.Fatalf("bob owns %s", got)
	}
	if strings.Contains(string(entryOf(t, b, "alice", "Apply").FieldsV1.Raw), "replicas") {
		t.Fatalf("alice still owns replicas: %s", entryOf(t, b, "alice", "Apply").FieldsV1.Raw)
	}
	// alice re-applying her old value now conflicts with bob.
	if code, _, st := as.apply(t, "a", "alice", "", cfg); code != 409 || !strings.Contains(st.Message, `conflict with "bob": .spec.replicas`) {
		t.Fatalf("alice after the takeover: %d %v", code, st)
	}
}

func TestApplyRemovesFieldsNoLongerApplied(t *testing.T) {
	as := newApplianceServer(t)
	if code, _, st := as.apply(t, "a", "alice", "", applyHead+"  labels:\n    team: x\n    tier: web\nspec:\n  image: web:1\n  tags: [a, b]\n  parts:\n  - name: p1\n  - name: p2\n"); code != 201 {
		t.Fatalf("apply: %d %v", code, st)
	}
	code, a, st := as.apply(t, "a", "alice", "", applyHead+"  labels:\n    team: x\nspec:\n  tags: [a]\n  parts:\n  - name: p2\n")
	if code != 200 {
		t.Fatalf("second apply: %d %v", code, st)
	}
	if a.Spec.Image != "" || len(a.Spec.Tags) != 1 || len(a.Spec.Parts) != 1 || a.Spec.Parts[0].Name != "p2" || a.Labels["tier"] != "" || a.Labels["team"] != "x" {
		t.Fatalf("fields dropped from the configuration were kept: labels %v spec %+v", a.Labels, a.Spec)
	}
	// Defaulted replicas belongs to nobody and stays.
	if a.Spec.Replicas == nil || *a.Spec.Replicas != 1 {
		t.Fatalf("defaulted replicas %v", a.Spec.Replicas)
	}
}

func TestManagedFieldsOnEveryWritePath(t *testing.T) {
	as := newApplianceServer(t)
	code, a, st := as.request(t, "POST", appliances, "application/json", "kubectl/v1.32.0 (linux/amd64) kubernetes/abc",
		`{"metadata":{"name":"a"},"spec":{"image":"web:1"}}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, st)
	}
	// The creator (from the User-Agent) owns what it set and the defaults.
	if got := string(entryOf(t, a, "kubectl", "Update").FieldsV1.Raw); got != `{"f:spec":{"f:image":{},"f:replicas":{}}}` {
		t.Fatalf("creator owns %s", got)
	}
	as.clock.Advance(time.Hour)
	code, a, st = as.request(t, "PATCH", appliances+"/a?fieldManager=patcher", "application/merge-patch+json", "", `{"spec":{"image":"web:2"}}`)
	if code != 200 {
		t.Fatalf("patch: %d %v", code, st)
	}
	p := entryOf(t, a, "patcher", "Update")
	if string(p.FieldsV1.Raw) != `{"f:spec":{"f:image":{}}}` || !p.Time.Equal(testEpoch.Add(time.Hour)) {
		t.Fatalf("patcher entry %+v %s", p, p.FieldsV1.Raw)
	}
	if strings.Contains(string(entryOf(t, a, "kubectl", "Update").FieldsV1.Raw), "image") {
		t.Fatal("the creator still owns the image the patcher changed")
	}
	// An update through the status subresource records the subresource.
	a.Status.Ready = 2
	body, _ := json.Marshal(a)
	code, a, st = as.request(t, "PUT", appliances+"/a/status?fieldManager=kubelet", "application/json", "", string(body))
	if code != 200 || a.Status.Ready != 2 {
		t.Fatalf("status update: %d %v", code, st)
	}
	s := entryOf(t, a, "kubelet", "Update")
	if s.Subresource != "status" || string(s.FieldsV1.Raw) != `{"f:status":{"f:ready":{}}}` {
		t.Fatalf("status entry %+v %s", s, s.FieldsV1.Raw)
	}
	// A PUT without a fieldManager takes the User-Agent's product.
	a.Spec.Tags = []string{"x"}
	body, _ = json.Marshal(a)
	code, a, st = as.request(t, "PUT", appliances+"/a", "application/json", "setpoint-editor/0.1", string(body))
	if code != 200 || string(entryOf(t, a, "setpoint-editor", "Update").FieldsV1.Raw) != `{"f:spec":{"f:tags":{".":{},"v:\"x\"":{}}}}` {
		t.Fatalf("update: %d %v %+v", code, st, a.ManagedFields)
	}
	// Entries stay bounded: at most 10 Update managers, the oldest folded
	// into ancient-changes.
	for i := 0; i < 14; i++ {
		as.clock.Advance(time.Minute)
		code, a, st = as.request(t, "PATCH", appliances+fmt.Sprintf("/a?fieldManager=m%02d", i), "application/merge-patch+json", "",
			fmt.Sprintf(`{"metadata":{"labels":{"k%02d":"v"}}}`, i))
		if code != 200 {
			t.Fatalf("patch %d: %d %v", i, code, st)
		}
	}
	if len(a.ManagedFields) != 10 || !hasEntry(a, "ancient-changes") || !hasEntry(a, "m13") || hasEntry(a, "kubectl") {
		b, _ := json.Marshal(a.ManagedFields)
		t.Fatalf("want 10 Update entries with ancient-changes, got %s", b)
	}
	// A request may rewrite managedFields (kubectl's migration does); an
	// empty list clears them and the object is no longer tracked.
	code, a, st = as.request(t, "PATCH", appliances+"/a", "application/json-patch+json", "", `[{"op":"replace","path":"/metadata/managedFields","value":[]}]`)
	if code != 200 || len(a.ManagedFields) != 0 {
		t.Fatalf("reset: %d %v %+v", code, st, a.ManagedFields)
	}
	code, a, _ = as.request(t, "PATCH", appliances+"/a?fieldManager=late", "application/merge-patch+json", "", `{"spec":{"image":"web:3"}}`)
	if code != 200 || len(a.ManagedFields) != 0 {
		t.Fatalf("an untracked object gained entries: %+v", a.ManagedFields)
	}
	// The first apply gives what was there an owner first.
	if code, a, st = as.apply(t, "a", "applier", "", applyHead+"spec:\n  image: web:3\n"); code != 200 {
		t.Fatalf("apply: %d %v", code, st)
	}
	if got := string(entryOf(t, a, "before-first-apply", "Update").FieldsV1.Raw); !strings.Contains(got, "f:k13") || !strings.Contains(got, "f:image") {
		t.Fatalf("before-first-apply owns %s", got)
	}
	if got := string(entryOf(t, a, "applier", "Apply").FieldsV1.Raw); got != `{"f:spec":{"f:image":{}}}` {
		t.Fatalf("applier owns %s", got)
	}
}

func TestApplyStatusSubresource(t *testing.T) {
	as := newApplianceServer(t)
	if code, _, st := as.apply(t, "a", "kubelet", "", applyHead+"status:\n  ready: 1\n"); code != 201 {
		t.Fatalf("create by apply: %d %v", code, st)
	}
	code, a, st := as.request(t, "PATCH", appliances+"/a/status?fieldManager=kubelet", "application/apply-patch+yaml", "",
		applyHead+"spec:\n  image: ignored\nstatus:\n  ready: 4\n  phase: Up\n")
	if code != 200 || a.Status.Ready != 4 || a.Status.Phase != "Up" || a.Spec.Image != "" {
		t.Fatalf("status apply: %d %v %+v", code, st, a)
	}
	e := entryOf(t, a, "kubelet", "Apply")
	// the main-resource apply owned no status; this entry is the status one
	found := false
	for _, e := range a.ManagedFields {
		if e.Manager == "kubelet" && e.Subresource == "status" {
			found = string(e.FieldsV1.Raw) == `{"f:status":{"f:phase":{},"f:ready":{}}}`
		}
	}
	if !found {
		b, _ := json.Marshal(a.ManagedFields)
		t.Fatalf("no status entry owning exactly status: %s (%+v)", b, e)
	}
	if code, _, st := as.request(t, "PATCH", appliances+"/missing/status?fieldManager=k", "application/apply-patch+yaml", "",
		strings.Replace(applyHead, "name: a", "name: missing", 1)+"status:\n  ready: 1\n"); code != 404 {
		t.Fatalf("status apply of a missing object: %d %v", code, st)
	}
}

func TestApplyBadInputWritesNothing(t *testing.T) {
	as := newApplianceServer(t)
	if code, _, st := as.apply(t, "a", "alice", "", applyHead+"spec:\n  image: web:1\n"); code != 201 {
		t.Fatalf("seed: %d %v", code, st)
	}
	for _, c := range []struct {
		name, path, query, ct, body string
		code                        int
		msg                         string
	}{
		{"list body", "/a", "fieldManager=m", "", "- a\n- b\n", 400, "must be an object"},
		{"scalar body", "/a", "fieldManager=m", "", "42", 400, "must be an object"},
		{"bad yaml", "/a", "fieldManager=m", "", "apiVersion: [\n", 400, "error decoding YAML"},
		{"wrong kind", "/a", "fieldManager=m", "", "apiVersion: test.setpoint.dev/v1\nkind: Gizmo\nmetadata: {name: a}\n", 400, "invalid object type"},
		{"wrong apiVersion", "/a", "fieldManager=m", "", "apiVersion: v1\nkind: Appliance\nmetadata: {name: a}\n", 400, "invalid object type"},
		{"no kind", "/a", "fieldManager=m", "", "metadata: {name: a}\n", 400, "invalid object type"},
		{"name mismatch", "/a", "fieldManager=m", "", strings.Replace(applyHead, "name: a", "name: b", 1), 400, "does not match the name"},
		{"namespace mismatch", "/a", "fieldManager=m", "", applyHead + "  namespace: other\n", 400, "does not match the namespace"},
		{"managedFields", "/a", "fieldManager=m", "", applyHead + "  managedFields: []\n", 400, "managedFields must be nil"},
		{"unknown field strict", "/a", "fieldManager=m&fieldValidation=Strict", "", applyHead + "spec:\n  colour: red\n", 400, ".spec.colour: field not declared in schema"},
		{"unknown field", "/a", "fieldManager=m", "", applyHead + "spec:\n  colour: red\n", 400, "field not declared in schema"},
		{"wrong type", "/a", "fieldManager=m", "", applyHead + "spec:\n  replicas: three\n", 400, ".spec.replicas"},
		{"duplicate key strict", "/a", "fieldManager=m&fieldValidation=Strict", "", applyHead + "spec:\n  image: a\n  image: b\n", 400, "error decoding YAML"},
		{"invalid object", "/a", "fieldManager=m", "", applyHead + "spec:\n  replicas: -1\n", 422, "spec.replicas"},
		{"no fieldManager", "/a", "", "", applyHead, 422, "fieldManager: Required value"},
		{"long fieldManager", "/a", "fieldManager=" + strings.Repeat("m", 129), "", applyHead, 422, "Too long"},
		{"bad force", "/a", "fieldManager=m&force=yes", "", applyHead, 400, "invalid force"},
		{"force on merge patch", "/a", "force=true", "application/merge-patch+json", `{"spec":{}}`, 422, "force: Forbidden"},
		{"no name in path", "", "fieldManager=m", "", applyHead, 405, "not supported"},
		{"create with uid", "/b", "fieldManager=m", "", strings.Replace(applyHead, "name: a", "name: b\n  uid: x", 1), 409, "no such object"},
		{"scale", "/a/scale", "fieldManager=m", "", applyHead, 404, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			rev := as.revision(t)
			ct := c.ct
			if ct == "" {
				ct = "application/apply-patch+yaml"
			}
			path := appliances + c.path
			if c.query != "" {
				path += "?" + c.query
			}
			code, _, st := as.request(t, "PATCH", path, ct, "", c.body)
			if code != c.code || !strings.Contains(st.Message, c.msg) {
				t.Fatalf("got %d %q, want %d containing %q", code, st.Message, c.code, c.msg)
			}
			if as.revision(t) != rev {
				t.Fatal("a rejected request wrote")
			}
		})
	}
}

// TestApplyDeducedType: a resource without an apply schema (widget) is
// applied with deduced types: maps merge key by key, lists are atomic.
func TestApplyDeducedType(t *testing.T) {
	ts := newTestServer(t)
	head := "apiVersion: test.setpoint.dev/v1\nkind: Widget\nmetadata:\n  name: w\n"
	code, _, body := ts.do(t, "PATCH", widgets+"/w?fieldManager=a", "application/apply-patch+yaml", head+"spec:\n  size: 2\n  color: red\n")
	if code != 201 {
		t.Fatalf("apply: %d %s", code, body)
	}
	code, st, _ := ts.do(t, "PATCH", widgets+"/w?fieldManager=b", "application/apply-patch+yaml", head+"spec:\n  size: 3\n")
	if code != 409 || !strings.Contains(st.Message, `conflict with "a": .spec.size`) {
		t.Fatalf("deduced conflict: %d %v", code, st)
	}
	if code, st, _ := ts.do(t, "PATCH", widgets+"/w?fieldManager=b&fieldValidation=Strict", "application/apply-patch+yaml", head+"spec:\n  shade: dark\n"); code != 400 || !strings.Contains(st.Message, "shade") {
		t.Fatalf("unknown field with Strict: %d %v", code, st)
	}
	code, _, body = ts.do(t, "PATCH", widgets+"/w?fieldManager=b", "application/apply-patch+yaml", head+"spec:\n  data: x\n  shade: dark\n")
	if code != 200 {
		t.Fatalf("unknown field without Strict: %d %s", code, body)
	}
	w, err := ts.st.Get(context.Background(), "ns", "w")
	if err != nil {
		t.Fatal(err)
	}
	if w.Spec.Size != 2 || w.Spec.Color != "red" || w.Spec.Data != "x" {
		t.Fatalf("merged %+v", w.Spec)
	}
}

// TestApplyTakesOverClientSideApply: an object written by client-side
// apply (manager kubectl-client-side-apply, last-applied annotation) is
// applied server-side by kubectl with a changed value: the fields whose
// live value still matches the annotation move to kubectl without force,
// and the annotation follows.
func TestApplyTakesOverClientSideApply(t *testing.T) {
	as := newApplianceServer(t)
	last := `{"apiVersion":"test.setpoint.dev/v1","kind":"Appliance","metadata":{"name":"a","namespace":"ns"},"spec":{"replicas":2,"image":"web:1"}}`
	obj, _ := json.Marshal(map[string]any{
		"metadata": map[string]any{"name": "a", "annotations": map[string]string{"kubectl.kubernetes.io/last-applied-configuration": last}},
		"spec":     map[string]any{"replicas": 2, "image": "web:1"},
	})
	if code, _, st := as.request(t, "POST", appliances+"?fieldManager=kubectl-client-side-apply", "application/json", "", string(obj)); code != 201 {
		t.Fatalf("client-side create: %d %v", code, st)
	}
	code, a, st := as.apply(t, "a", "kubectl", "", applyHead+"spec:\n  replicas: 4\n  image: web:1\n")
	if code != 200 || *a.Spec.Replicas != 4 {
		t.Fatalf("server-side apply after client-side apply: %d %v", code, st)
	}
	if !strings.Contains(string(entryOf(t, a, "kubectl", "Apply").FieldsV1.Raw), "f:replicas") {
		t.Fatalf("kubectl does not own replicas: %+v", a.ManagedFields)
	}
	if ann := a.Annotations["kubectl.kubernetes.io/last-applied-configuration"]; !strings.Contains(ann, `"replicas":4`) {
		t.Fatalf("last-applied annotation %s", ann)
	}
	// Another applier gets no such pass.
	if code, _, _ := as.apply(t, "a", "other", "", applyHead+"spec:\n  image: web:2\n"); code != 409 {
		t.Fatalf("other applier: %d", code)
	}
}

// TestPatchResourceVersionPrecondition: a JSON patch that replaces
// metadata.resourceVersion (as kubectl's managedFields migration does)
// makes it a precondition; one that leaves it alone does not.
func TestPatchResourceVersionPrecondition(t *testing.T) {
	as := newApplianceServer(t)
	code, a, st := as.apply(t, "a", "alice", "", applyHead+"spec:\n  image: web:1\n")
	if code != 201 {
		t.Fatalf("seed: %d %v", code, st)
	}
	stale := a.ResourceVersion
	if code, _, st := as.request(t, "PATCH", appliances+"/a", "application/merge-patch+json", "", `{"spec":{"image":"web:2"}}`); code != 200 {
		t.Fatalf("patch: %d %v", code, st)
	}
	rev := as.revision(t)
	code, _, st = as.request(t, "PATCH", appliances+"/a", "application/json-patch+json", "",
		fmt.Sprintf(`[{"op":"replace","path":"/metadata/resourceVersion","value":%q},{"op":"replace","path":"/spec/image","value":"web:3"}]`, stale))
	if code != 409 || as.revision(t) != rev {
		t.Fatalf("stale resourceVersion: %d %v", code, st)
	}
	cur, err := as.st.Get(context.Background(), "ns", "a")
	if err != nil {
		t.Fatal(err)
	}
	code, a, st = as.request(t, "PATCH", appliances+"/a", "application/json-patch+json", "",
		fmt.Sprintf(`[{"op":"replace","path":"/metadata/resourceVersion","value":%q},{"op":"replace","path":"/spec/image","value":"web:3"}]`, cur.ResourceVersion))
	if code != 200 || a.Spec.Image != "web:3" {
		t.Fatalf("current resourceVersion: %d %v", code, st)
	}
}
