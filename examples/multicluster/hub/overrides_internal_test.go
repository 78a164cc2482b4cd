package hub

import (
	"encoding/json"
	"strings"
	"testing"

	mc "github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/multicluster/internal/dynamic"
)

const cmJSON = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"n"},"data":{"a":"1"}}`

var cmFeed = mc.Feed{APIVersion: "v1", Kind: "ConfigMap", Namespace: "n", Name: "c"}

// TestApplyOverridesOrder: overrides apply in the order given, each
// patch's result feeding the next; one for another object is skipped; a
// patch that renames the object, or does not apply, is an error naming it.
func TestApplyOverridesOrder(t *testing.T) {
	os := []override{
		{source: "globalization g", spec: mc.OverrideSpec{Feed: cmFeed, Overrides: []mc.Override{
			{Type: mc.MergePatchOverride, Value: `{"data":{"a":"2","b":"x"}}`}}}},
		{source: "localization other", spec: mc.OverrideSpec{Feed: mc.Feed{APIVersion: "v1", Kind: "ConfigMap", Namespace: "n", Name: "other"},
			Overrides: []mc.Override{{Type: mc.MergePatchOverride, Value: `{"data":{"a":"never"}}`}}}},
		{source: "localization l", spec: mc.OverrideSpec{Feed: cmFeed, Overrides: []mc.Override{
			{Type: mc.JSONPatchOverride, Value: `[{"op":"test","path":"/data/a","value":"2"},{"op":"replace","path":"/data/a","value":"3"},{"op":"remove","path":"/data/b"}]`}}}},
	}
	out, err := applyOverrides([]byte(cmJSON), os)
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Data map[string]string }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Data) != 1 || got.Data["a"] != "3" {
		t.Errorf("data = %v, want a=3 only", got.Data)
	}
	for _, c := range []struct {
		typ         mc.OverrideType
		value, want string
	}{
		{mc.MergePatchOverride, `{"metadata":{"name":"renamed"}}`, "changed which object"},
		{mc.JSONPatchOverride, `[{"op":"replace","path":"/spec/x","value":1}]`, "localization bad: spec.overrides[0]"},
		{mc.JSONPatchOverride, `[{"op":"test","path":"/data/a","value":"9"}]`, "localization bad: spec.overrides[0]"},
	} {
		_, err := applyOverrides([]byte(cmJSON), []override{{source: "localization bad", spec: mc.OverrideSpec{Feed: cmFeed,
			Overrides: []mc.Override{{Type: c.typ, Value: c.value}}}}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s: %v, want an error with %q", c.typ, c.value, err, c.want)
		}
	}
}

// FuzzApplyOverrides: any patch either fails with an error or leaves
// valid JSON naming the same object; it never panics.
func FuzzApplyOverrides(f *testing.F) {
	f.Add(cmJSON, true, `[{"op":"add","path":"/data/z","value":"1"}]`)
	f.Add(cmJSON, false, `{"data":null}`)
	f.Add(cmJSON, true, `[{"op":"move","from":"/data","path":"/x"}]`)
	f.Add(`{"apiVersion":"v1"}`, false, `{}`)
	f.Fuzz(func(t *testing.T, obj string, jsonPatch bool, patch string) {
		typ := mc.MergePatchOverride
		if jsonPatch {
			typ = mc.JSONPatchOverride
		}
		ref, refErr := dynamic.RefOf([]byte(obj))
		feed := mc.Feed{APIVersion: ref.APIVersion, Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name}
		out, err := applyOverrides([]byte(obj), []override{{source: "fuzz", spec: mc.OverrideSpec{Feed: feed, Overrides: []mc.Override{{Type: typ, Value: patch}}}}})
		if err != nil {
			return
		}
		if refErr != nil {
			t.Fatalf("applied overrides to %q, which names no object", obj)
		}
		after, err := dynamic.RefOf(out)
		if err != nil || after != ref || !json.Valid(out) {
			t.Fatalf("result %s names %v (%v), want %v", out, after, err, ref)
		}
	})
}
