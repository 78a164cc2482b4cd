package apifacts

import (
	"os"
	"testing"
)

// TestFactsFileIsCurrent extracts the facts again and compares them with
// the committed file the generator reads.
func TestFactsFileIsCurrent(t *testing.T) {
	f, err := Extract()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	const file = "../../../examples/internal/apigen/facts/schema.json"
	cur, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(cur) != string(b) {
		t.Fatalf("%s is stale: run go run ./cmd/apiextract -out %s (from bench/)", file, file[6:])
	}
}

// TestFactsHaveNoDescriptions: the committed facts carry no prose.
func TestFactsHaveNoDescriptions(t *testing.T) {
	f, err := Extract()
	if err != nil {
		t.Fatal(err)
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch x := v.(type) {
		case map[string]any:
			if _, ok := x["description"]; ok {
				return true
			}
			for _, e := range x {
				if walk(e) {
					return true
				}
			}
		case []any:
			for _, e := range x {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	for _, ty := range f.Types {
		if walk(ty.Schema) {
			t.Fatalf("%s.%s keeps a description", ty.Pkg, ty.Name)
		}
		for _, fl := range ty.Fields {
			if walk(fl.Schema) {
				t.Fatalf("%s.%s.%s keeps a description", ty.Pkg, ty.Name, fl.Name)
			}
		}
	}
}
