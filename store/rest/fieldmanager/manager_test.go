package fieldmanager

import (
	"encoding/json"
	"errors"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/setpoint-dev/setpoint/store"
)

var epoch = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func widgetTypes(t testing.TB) *Types {
	t.Helper()
	doc, err := os.ReadFile("testdata/widget.openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := NewTypes(doc)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func newWidgetManager(t testing.TB, status bool) (*Manager, *clockwork.FakeClock) {
	t.Helper()
	typ, ok := widgetTypes(t).Kind("example.com/v1", "Widget")
	if !ok {
		t.Fatal("no type for example.com/v1 Widget")
	}
	clk := clockwork.NewFakeClockAt(epoch)
	m, err := New(Config{APIVersion: "example.com/v1", Kind: "Widget", Type: typ, Clock: clk, StatusSubresource: status})
	if err != nil {
		t.Fatal(err)
	}
	return m, clk
}

func obj(t testing.TB, s string) map[string]any {
	t.Helper()
	v, err := DecodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("decoding %s: %v", s, err)
	}
	return v.(map[string]any)
}

// widget returns a Widget config with the given spec JSON.
func widget(t testing.TB, spec string) map[string]any {
	return obj(t, `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","namespace":"ns"},"spec":`+spec+`}`)
}

func entry(t testing.TB, es []store.ManagedFieldsEntry, manager, op string) store.ManagedFieldsEntry {
	t.Helper()
	for _, e := range es {
		if e.Manager == manager && e.Operation == op {
			return e
		}
	}
	t.Fatalf("no %s entry of %q in %s", op, manager, dump(es))
	return store.ManagedFieldsEntry{}
}

func dump(es []store.ManagedFieldsEntry) string {
	b, _ := json.Marshal(es)
	return string(b)
}

func fieldsJSON(e store.ManagedFieldsEntry) string { return string(e.FieldsV1.Raw) }

func TestUpdateRecordsCreator(t *testing.T) {
	m, _ := newWidgetManager(t, false)
	es, err := m.Update(nil, widget(t, `{"replicas":3,"image":"nginx"}`), nil, nil, Operation{Manager: "kubectl-create"})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 {
		t.Fatalf("want one entry, got %s", dump(es))
	}
	e := es[0]
	if e.Manager != "kubectl-create" || e.Operation != "Update" || e.APIVersion != "example.com/v1" || e.FieldsType != "FieldsV1" {
		t.Fatalf("entry %s", dump(es))
	}
	if e.Time == nil || !e.Time.Equal(epoch) {
		t.Fatalf("time %v, want %v", e.Time, epoch)
	}
	if got, want := fieldsJSON(e), `{"f:spec":{".":{},"f:image":{},"f:replicas":{}}}`; got != want {
		t.Fatalf("fields %s, want %s", got, want)
	}
}

func TestApplyCreatesThenNoop(t *testing.T) {
	m, clk := newWidgetManager(t, false)
	cfg := widget(t, `{"replicas":3,"parts":[{"name":"a","count":1}]}`)
	out, es, err := m.Apply(nil, cfg, nil, Operation{Manager: "alice"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if out == nil || out["spec"].(map[string]any)["replicas"] != int64(3) {
		t.Fatalf("merged %v", out)
	}
	e := entry(t, es, "alice", "Apply")
	if e.APIVersion != "example.com/v1" || !strings.Contains(fieldsJSON(e), `"k:{\"name\":\"a\"}"`) {
		t.Fatalf("entry %s", dump(es))
	}
	clk.Advance(time.Minute)
	again, es2, err := m.Apply(out, widget(t, `{"replicas":3,"parts":[{"name":"a","count":1}]}`), es, Operation{Manager: "alice"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if again != nil {
		t.Fatalf("re-apply of the same configuration changed the object: %v", again)
	}
	if dump(es2) != dump(es) {
		t.Fatalf("re-apply changed managedFields:\n%s\n%s", dump(es), dump(es2))
	}
}

func TestApplyConflictThenForce(t *testing.T) {
	m, _ := newWidgetManager(t, false)
	live, es, err := m.Apply(nil, widget(t, `{"replicas":3,"image":"nginx"}`), nil, Operation{Manager: "alice"}, false)
	if err != nil {
		t.Fatal(err)
	}
	// bob sets the same value: no conflict, shared ownership.
	if _, es, err = m.Apply(live, widget(t, `{"replicas":3}`), es, Operation{Manager: "bob"}, false); err != nil {
		t.Fatalf("same value must not conflict: %v", err)
	}
	// carol changes it: conflicts with both.
	_, _, err = m.Apply(live, widget(t, `{"replicas":5}`), es, Operation{Manager: "carol"}, false)
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("want a conflict, got %v", err)
	}
	want := "Apply failed with 2 conflicts: conflicts with \"alice\":\n- .spec.replicas\nconflicts with \"bob\":\n- .spec.replicas"
	if err.Error() != want {
		t.Fatalf("message\n%s\nwant\n%s", err, want)
	}
	out, es2, err := m.Apply(live, widget(t, `{"replicas":5}`), es, Operation{Manager: "carol"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if out["spec"].(map[string]any)["replicas"] != int64(5) {
		t.Fatalf("forced apply did not set replicas: %v", out)
	}
	if f := fieldsJSON(entry(t, es2, "carol", "Apply")); f != `{"f:spec":{"f:replicas":{}}}` {
		t.Fatalf("carol owns %s", f)
	}
	if f := fieldsJSON(entry(t, es2, "alice", "Apply")); strings.Contains(f, "replicas") {
		t.Fatalf("alice still owns replicas: %s", f)
	}
	for _, e := range es2 {
		if e.Manager == "bob" {
			t.Fatalf("bob owns nothing any more but kept an entry: %s", dump(es2))
		}
	}
}

func TestApplyConflictWithUpdater(t *testing.T) {
	m, _ := newWidgetManager(t, false)
	created := widget(t, `{"replicas":1}`)
	es, err := m.Update(nil, created, nil, nil, Operation{Manager: "kube-controller-manager"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = m.Apply(created, widget(t, `{"replicas":2}`), es, Operation{Manager: "kubectl"}, false)
	want := `Apply failed with 1 conflict: conflict with "kube-controller-manager" using example.com/v1: .spec.replicas`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestApplyRemovesDroppedFields(t *testing.T) {
	m, _ := newWidgetManager(t, false)
	live, es, err := m.Apply(nil, widget(t, `{"replicas":3,"image":"nginx","parts":[{"name":"a"},{"name":"b"}]}`), nil, Operation{Manager: "alice"}, false)
	if err != nil {
		t.Fatal(err)
	}
	// bob also applies part b: it must survive alice dropping it.
	live2, es, err := m.Apply(live, widget(t, `{"parts":[{"name":"b"}]}`), es, Operation{Manager: "bob"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if live2 != nil {
		live = live2
	}
	out, _, err := m.Apply(live, widget(t, `{"replicas":3}`), es, Operation{Manager: "alice"}, false)
	if err != nil {
		t.Fatal(err)
	}
	spec := out["spec"].(map[string]any)
	if _, ok := spec["image"]; ok {
		t.Fatalf("image was dropped from the configuration but kept: %v", spec)
	}
	parts, _ := spec["parts"].([]any)
	if len(parts) != 1 || parts[0].(map[string]any)["name"] != "b" {
		t.Fatalf("parts %v: want only b (bob's)", parts)
	}
}

func TestStatusSubresourceOwnership(t *testing.T) {
	m, _ := newWidgetManager(t, true)
	_, es, err := m.Apply(nil, obj(t, `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"replicas":1},"status":{"ready":1}}`), nil, Operation{Manager: "a"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if f := fieldsJSON(entry(t, es, "a", "Apply")); strings.Contains(f, "status") {
		t.Fatalf("an apply through the main resource owns status: %s", f)
	}
	live := obj(t, `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"replicas":1}}`)
	_, es, err = m.Apply(live, obj(t, `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"replicas":9},"status":{"ready":1}}`), es, Operation{Manager: "b", Subresource: "status"}, false)
	if err != nil {
		t.Fatalf("a status apply must not conflict on spec: %v", err)
	}
	e := entry(t, es, "b", "Apply")
	if e.Subresource != "status" || fieldsJSON(e) != `{"f:status":{"f:ready":{}}}` {
		t.Fatalf("status applier entry %s", dump(es))
	}
}

func TestApplyRejectsBadConfigs(t *testing.T) {
	m, _ := newWidgetManager(t, false)
	for name, cfg := range map[string]string{
		"wrong kind":        `{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"w"}}`,
		"wrong version":     `{"apiVersion":"example.com/v2","kind":"Widget","metadata":{"name":"w"}}`,
		"no apiVersion":     `{"kind":"Widget","metadata":{"name":"w"}}`,
		"managedFields":     `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","managedFields":[]}}`,
		"undeclared field":  `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"colour":"red"}}`,
		"wrong value type":  `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"replicas":"three"}}`,
		"metadata a string": `{"apiVersion":"example.com/v1","kind":"Widget","metadata":"w"}`,
		"duplicate key":     `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"parts":[{"name":"a"},{"name":"a"}]}}`,
	} {
		_, _, err := m.Apply(nil, obj(t, cfg), nil, Operation{Manager: "a"}, false)
		if !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: got %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestUpdateTracking(t *testing.T) {
	m, clk := newWidgetManager(t, false)
	live := widget(t, `{"replicas":1}`)
	// An object that has no entries is not tracked by updates.
	if es, err := m.Update(live, widget(t, `{"replicas":2}`), nil, nil, Operation{Manager: "x"}); err != nil || es != nil {
		t.Fatalf("untracked object got entries %s (%v)", dump(es), err)
	}
	es, err := m.Update(nil, live, nil, nil, Operation{Manager: "creator"})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	// A no-op update keeps the entries and their times.
	same, err := m.Update(live, widget(t, `{"replicas":1}`), es, nil, Operation{Manager: "creator"})
	if err != nil || dump(same) != dump(es) {
		t.Fatalf("no-op update changed entries: %s -> %s (%v)", dump(es), dump(same), err)
	}
	// Entries the request sends replace the stored ones.
	sent := []store.ManagedFieldsEntry{{Manager: "mover", Operation: "Apply", APIVersion: "example.com/v1", FieldsType: "FieldsV1",
		FieldsV1: &store.FieldsV1{Raw: []byte(`{"f:spec":{"f:replicas":{}}}`)}}}
	got, err := m.Update(live, widget(t, `{"replicas":1}`), es, sent, Operation{Manager: "kubectl"})
	if err != nil || len(got) != 1 || got[0].Manager != "mover" {
		t.Fatalf("request entries not honoured: %s (%v)", dump(got), err)
	}
	// An empty list clears them.
	if got, err := m.Update(live, widget(t, `{"replicas":1}`), es, []store.ManagedFieldsEntry{}, Operation{Manager: "kubectl"}); err != nil || got != nil {
		t.Fatalf("reset kept entries %s (%v)", dump(got), err)
	}
	// Undecodable request entries fall back to the stored ones.
	bad := []store.ManagedFieldsEntry{{Manager: "m", Operation: "Mangle", FieldsType: "FieldsV1"}}
	got, err = m.Update(live, widget(t, `{"replicas":1}`), es, bad, Operation{Manager: "kubectl"})
	if err != nil || dump(got) != dump(es) {
		t.Fatalf("bad request entries: got %s want %s (%v)", dump(got), dump(es), err)
	}
	// A subresource write ignores the request's entries.
	got, err = m.Update(live, widget(t, `{"replicas":1}`), es, sent, Operation{Manager: "kubectl", Subresource: "status"})
	if err != nil || dump(got) != dump(es) {
		t.Fatalf("subresource honoured request entries: %s (%v)", dump(got), err)
	}
}

func TestFirstApplyOwnsNothingElse(t *testing.T) {
	m, _ := newWidgetManager(t, false)
	live := widget(t, `{"replicas":1,"image":"old"}`)
	_, es, err := m.Apply(live, widget(t, `{"replicas":1}`), nil, Operation{Manager: "a"}, false)
	if err != nil {
		t.Fatal(err)
	}
	e := entry(t, es, BeforeFirstApplyManager, "Update")
	if !strings.Contains(fieldsJSON(e), "f:image") {
		t.Fatalf("before-first-apply should own image: %s", dump(es))
	}
	if _, _, err := m.Apply(live, widget(t, `{"image":"new"}`), es, Operation{Manager: "a"}, false); err == nil {
		t.Fatal("changing a field set before tracking began must conflict")
	}
}

func TestCapUpdateManagers(t *testing.T) {
	m, clk := newWidgetManager(t, false)
	live := widget(t, `{"replicas":0}`)
	es, err := m.Update(nil, live, nil, nil, Operation{Manager: "m00"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 14; i++ {
		clk.Advance(time.Minute)
		name := "m" + string(rune('a'+i))
		// every update adds a part, keeping the ones before it
		next := mergeParts(live, widget(t, `{"replicas":0,"parts":[{"name":"`+name+`"}]}`))
		if es, err = m.Update(live, next, es, nil, Operation{Manager: name}); err != nil {
			t.Fatal(err)
		}
		live = next
		updates := 0
		for _, e := range es {
			if e.Operation == "Update" {
				updates++
			}
		}
		if updates > DefaultMaxUpdateManagers {
			t.Fatalf("after %d updaters %d Update entries: %s", i+1, updates, dump(es))
		}
	}
	anc := entry(t, es, AncientChangesManager, "Update")
	// The folded managers' fields are kept in the bucket.
	if !strings.Contains(fieldsJSON(anc), `k:{\"name\":\"mb\"}`) || !strings.Contains(fieldsJSON(anc), "f:replicas") {
		t.Fatalf("ancient-changes lost fields: %s", fieldsJSON(anc))
	}
}

// mergeParts returns next with prev's parts before its own.
func mergeParts(prev, next map[string]any) map[string]any {
	out := patch.DeepCopyJSON(next).(map[string]any)
	var parts []any
	if p, ok := prev["spec"].(map[string]any)["parts"].([]any); ok {
		parts = append(parts, patch.DeepCopyJSON(p).([]any)...)
	}
	parts = append(parts, out["spec"].(map[string]any)["parts"].([]any)...)
	out["spec"].(map[string]any)["parts"] = parts
	return out
}

func TestLastAppliedMigration(t *testing.T) {
	m, _ := newWidgetManager(t, false)
	last := `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","namespace":"ns"},"spec":{"replicas":2,"image":"a"}}`
	live := widget(t, `{"replicas":2,"image":"a"}`)
	live["metadata"].(map[string]any)["annotations"] = map[string]any{LastAppliedAnnotation: last}
	es, err := m.Update(nil, live, nil, nil, Operation{Manager: "kubectl-client-side-apply"})
	if err != nil {
		t.Fatal(err)
	}
	// Another manager changes image afterwards: its value no longer
	// matches the last-applied configuration.
	live2 := patch.DeepCopyJSON(live).(map[string]any)
	live2["spec"].(map[string]any)["image"] = "b"
	if es, err = m.Update(live, live2, es, nil, Operation{Manager: "editor"}); err != nil {
		t.Fatal(err)
	}
	cfg := widget(t, `{"replicas":5,"image":"c"}`)
	_, _, err = m.Apply(live2, cfg, es, Operation{Manager: "kubectl"}, false)
	var ce *ConflictError
	if !errors.As(err, &ce) || len(ce.Conflicts) != 1 || ce.Conflicts[0].Manager != "editor" || ce.Conflicts[0].Field != ".spec.image" {
		t.Fatalf("want only the editor's image conflict, got %v", err)
	}
	// Without the editor's change, kubectl takes replicas over from
	// client-side apply, and the annotation follows the configuration.
	out, es2, err := m.Apply(live2, widget(t, `{"replicas":5,"image":"b"}`), es, Operation{Manager: "kubectl"}, false)
	if err != nil {
		t.Fatalf("migration from client-side apply conflicted: %v", err)
	}
	if f := fieldsJSON(entry(t, es2, "kubectl", "Apply")); !strings.Contains(f, "f:replicas") {
		t.Fatalf("kubectl does not own replicas: %s", dump(es2))
	}
	ann := annotations(out)[LastAppliedAnnotation].(string)
	if !strings.Contains(ann, `"replicas":5`) {
		t.Fatalf("last-applied annotation not updated: %s", ann)
	}
	// Other appliers get no such leniency.
	if _, _, err := m.Apply(live2, widget(t, `{"replicas":7}`), es, Operation{Manager: "other"}, false); err == nil {
		t.Fatal("a manager other than kubectl took client-side apply's fields without force")
	}
}

func TestSchemaShapes(t *testing.T) {
	typ, _ := widgetTypes(t).Kind("example.com/v1", "Widget")
	tv, err := typ.FromUnstructured(widget(t, `{"args":["a","b"],"tags":["x"],"selector":{"app":"a"},"parts":[{"name":"p","count":1}],"legacy":[{"name":"q"}],"size":"1Gi","port":8080,"extra":{"any":{"thing":1}}}`))
	if err != nil {
		t.Fatal(err)
	}
	set, err := tv.ToFieldSet()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := set.ToJSON()
	got := string(b)
	for _, want := range []string{
		`"f:args":{}`,     // atomic list: one leaf
		`"v:\"x\"":{}`,    // merge list of scalars: a set
		`"f:selector":{}`, // atomic struct
		`"k:{\"name\":\"p\"}":{".":{},"f:count":{},"f:name":{}}`, // list map
		`"k:{\"name\":\"q\"}"`,                      // legacy merge key
		`"f:extra":{"f:any":{".":{},"f:thing":{}}}`, // deduced: granular maps
	} {
		if !strings.Contains(got, want) {
			t.Errorf("field set %s lacks %s", got, want)
		}
	}
	if strings.Contains(got, `"f:args":{"`) || strings.Contains(got, `"f:selector":{"`) {
		t.Errorf("atomic fields have children: %s", got)
	}
}

func TestNewTypesErrors(t *testing.T) {
	for name, doc := range map[string]string{
		"not json":        `{`,
		"no definitions":  `{"openapi":"3.0.0"}`,
		"dangling ref":    `{"definitions":{"A":{"type":"object","properties":{"b":{"$ref":"#/definitions/B"}}}}}`,
		"bad list type":   `{"definitions":{"A":{"type":"array","items":{"type":"string"},"x-kubernetes-list-type":"bag"}}}`,
		"map without key": `{"definitions":{"A":{"type":"array","items":{"type":"object","properties":{"a":{"type":"string"}}},"x-kubernetes-list-type":"map"}}}`,
		"ref cycle":       `{"definitions":{"A":{"$ref":"#/definitions/B"},"B":{"$ref":"#/definitions/A"}}}`,
		"unknown type":    `{"definitions":{"A":{"type":"tuple"}}}`,
	} {
		if _, err := NewTypes([]byte(doc)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestUpdateOfMisshapenObjectFails: an object with fields the schema does
// not declare is an error of Update (the REST layer then keeps the stored
// entries), not a silent mis-recording. (Value types are not checked on
// updates: the objects come from the server's own Go types.)
func TestUpdateOfMisshapenObjectFails(t *testing.T) {
	m, _ := newWidgetManager(t, false)
	for name, o := range map[string]string{
		"undeclared field":  `{"colour":"red"}`,
		"undeclared nested": `{"parts":[{"name":"a","colour":"red"}]}`,
	} {
		if es, err := m.Update(nil, widget(t, o), nil, nil, Operation{Manager: "m"}); err == nil {
			t.Errorf("%s: no error, entries %s", name, dump(es))
		}
	}
}
