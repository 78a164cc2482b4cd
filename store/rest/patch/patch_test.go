package patch

import (
	"errors"
	"testing"
)

func TestParseTypeAndApply(t *testing.T) {
	for in, want := range map[string]Type{
		"application/json-patch+json":                           JSONPatchType,
		"application/merge-patch+json; charset=utf-8":           MergePatchType,
		"application/strategic-merge-patch+json":                StrategicMergePatchType,
		"application/strategic-merge-patch+json ;charset=utf-8": StrategicMergePatchType,
		"application/apply-patch+yaml":                          ApplyPatchType,
	} {
		got, err := ParseType(in)
		if err != nil || got != want {
			t.Errorf("ParseType(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "application/json", "application/apply-patch+json", "text/plain"} {
		if _, err := ParseType(bad); !errors.Is(err, ErrUnsupportedType) || !errors.Is(err, ErrInvalidPatch) {
			t.Errorf("ParseType(%q): err = %v", bad, err)
		}
	}
	doc := []byte(basePod)
	out, err := Apply(StrategicMergePatchType, doc, []byte(`{"spec":{"containers":[{"name":"side","image":"b:2"}]}}`), tSchema)
	if err != nil {
		t.Fatal(err)
	}
	eqJSON(t, sub(t, out, "/spec/containers/0/name"), `"web"`)
	out, err = Apply(MergePatchType, doc, []byte(`{"spec":{"containers":[{"name":"side","image":"b:2"}]}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	eqJSON(t, sub(t, out, "/spec/containers"), `[{"name":"side","image":"b:2"}]`)
	out, err = Apply(JSONPatchType, doc, []byte(`[{"op":"replace","path":"/spec/replicas","value":4}]`), nil)
	if err != nil {
		t.Fatal(err)
	}
	eqJSON(t, sub(t, out, "/spec/replicas"), `4`)
	if _, err := Apply("application/yaml", doc, []byte(`{}`), nil); !errors.Is(err, ErrUnsupportedType) {
		t.Fatalf("unknown type: err = %v", err)
	}
	if out, err := Apply(ApplyPatchType, doc, []byte(`{}`), nil); !errors.Is(err, ErrUnsupportedType) || out != nil {
		t.Fatalf("apply patch: out %s, err = %v", out, err)
	}
}
