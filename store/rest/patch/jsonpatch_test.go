package patch

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// The cases of RFC 6902, Appendix A.
func TestJSONPatchRFC6902(t *testing.T) {
	cases := []struct {
		name, doc, patch, want string
		err                    error
	}{
		{"A.1 add member", `{"foo":"bar"}`, `[{"op":"add","path":"/baz","value":"qux"}]`, `{"baz":"qux","foo":"bar"}`, nil},
		{"A.2 add element", `{"foo":["bar","baz"]}`, `[{"op":"add","path":"/foo/1","value":"qux"}]`, `{"foo":["bar","qux","baz"]}`, nil},
		{"A.3 remove member", `{"baz":"qux","foo":"bar"}`, `[{"op":"remove","path":"/baz"}]`, `{"foo":"bar"}`, nil},
		{"A.4 remove element", `{"foo":["bar","qux","baz"]}`, `[{"op":"remove","path":"/foo/1"}]`, `{"foo":["bar","baz"]}`, nil},
		{"A.5 replace", `{"baz":"qux","foo":"bar"}`, `[{"op":"replace","path":"/baz","value":"boo"}]`, `{"baz":"boo","foo":"bar"}`, nil},
		{"A.6 move value", `{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}`,
			`[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]`,
			`{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}`, nil},
		{"A.7 move element", `{"foo":["all","grass","cows","eat"]}`, `[{"op":"move","from":"/foo/1","path":"/foo/3"}]`,
			`{"foo":["all","cows","eat","grass"]}`, nil},
		{"A.8 test ok", `{"baz":"qux","foo":["a",2,"c"]}`,
			`[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]`,
			`{"baz":"qux","foo":["a",2,"c"]}`, nil},
		{"A.9 test fails", `{"baz":"qux"}`, `[{"op":"test","path":"/baz","value":"bar"}]`, ``, ErrTestFailed},
		{"A.10 add nested", `{"foo":"bar"}`, `[{"op":"add","path":"/child","value":{"grandchild":{}}}]`,
			`{"foo":"bar","child":{"grandchild":{}}}`, nil},
		{"A.11 ignore extra members", `{"foo":"bar"}`, `[{"op":"add","path":"/baz","value":"qux","xyz":123}]`,
			`{"foo":"bar","baz":"qux"}`, nil},
		{"A.12 add to missing parent", `{"foo":"bar"}`, `[{"op":"add","path":"/baz/bat","value":"qux"}]`, ``, ErrInvalidPatch},
		{"A.14 escapes", `{"/":9,"~1":10}`, `[{"op":"test","path":"/~01","value":10}]`, `{"/":9,"~1":10}`, nil},
		{"A.15 string is not number", `{"/":9,"~1":10}`, `[{"op":"test","path":"/~01","value":"10"}]`, ``, ErrTestFailed},
		{"A.16 add array value", `{"foo":["bar"]}`, `[{"op":"add","path":"/foo/-","value":["abc","def"]}]`,
			`{"foo":["bar",["abc","def"]]}`, nil},
		// beyond the appendix
		{"replace root", `{"a":1}`, `[{"op":"replace","path":"","value":[1]}]`, `[1]`, nil},
		{"copy", `{"a":{"b":[1]}}`, `[{"op":"copy","from":"/a","path":"/c"},{"op":"add","path":"/c/b/-","value":2}]`,
			`{"a":{"b":[1]},"c":{"b":[1,2]}}`, nil},
		{"numbers compare by value", `{"n":1}`, `[{"op":"test","path":"/n","value":1.0}]`, `{"n":1}`, nil},
		{"move into own child", `{"a":{"b":{}}}`, `[{"op":"move","from":"/a","path":"/a/b/c"}]`, ``, ErrInvalidPatch},
		{"remove missing", `{"a":1}`, `[{"op":"remove","path":"/b"}]`, ``, ErrInvalidPatch},
		{"index out of range", `{"a":[1]}`, `[{"op":"add","path":"/a/2","value":3}]`, ``, ErrInvalidPatch},
		{"leading zero index", `{"a":[1,2]}`, `[{"op":"remove","path":"/a/01"}]`, ``, ErrInvalidPatch},
		{"replace missing", `{"a":1}`, `[{"op":"replace","path":"/b","value":2}]`, ``, ErrInvalidPatch},
		{"unknown op", `{}`, `[{"op":"frobnicate","path":"/a"}]`, ``, ErrInvalidPatch},
		{"missing value", `{}`, `[{"op":"add","path":"/a"}]`, ``, ErrInvalidPatch},
		{"bad pointer", `{}`, `[{"op":"add","path":"a","value":1}]`, ``, ErrInvalidPatch},
		{"bad escape", `{}`, `[{"op":"add","path":"/a~2","value":1}]`, ``, ErrInvalidPatch},
		{"not an array", `{}`, `{"op":"add"}`, ``, ErrInvalidPatch},
		{"null value is allowed", `{}`, `[{"op":"add","path":"/a","value":null}]`, `{"a":null}`, nil},
	}
	for _, c := range cases {
		got, err := JSONPatch([]byte(c.doc), []byte(c.patch))
		if c.err != nil {
			if !errors.Is(err, c.err) || !errors.Is(err, ErrInvalidPatch) {
				t.Errorf("%s: err = %v, want %v", c.name, err, c.err)
			}
			if got != nil {
				t.Errorf("%s: got a result with an error: %s", c.name, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		jsonEq(t, got, c.want)
	}
}

func TestJSONPatchErrorNamesOperation(t *testing.T) {
	_, err := JSONPatch([]byte(`{"a":{"b":1}}`), []byte(`[
		{"op":"add","path":"/x","value":1},
		{"op":"remove","path":"/a/c"}]`))
	if err == nil || !strings.Contains(err.Error(), "operation 1 (remove /a/c)") || !strings.Contains(err.Error(), "/a/c does not exist") {
		t.Fatalf("error does not name the op and path: %v", err)
	}
}

func TestApplyJSONPatchIsAtomic(t *testing.T) {
	doc := map[string]any{"a": []any{"x"}}
	ops, err := ParseJSONPatch([]byte(`[{"op":"add","path":"/a/-","value":"y"},{"op":"test","path":"/a/0","value":"z"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ApplyJSONPatch(doc, ops); !errors.Is(err, ErrTestFailed) {
		t.Fatalf("err = %v", err)
	}
	if !Equal(doc, map[string]any{"a": []any{"x"}}) {
		t.Fatalf("failed patch changed the document: %v", doc)
	}
}

// TestJSONPatchErrorsNameFullPath: an error names the operation and the
// whole path up to where it failed, never a suffix of it (issue 12 case 3:
// "/labels" was reported for /metadata/labels/nope).
func TestJSONPatchErrorsNameFullPath(t *testing.T) {
	doc := `{"metadata":{"name":"a","annotations":{"x":"1"}},"spec":{"list":[1,2]}}`
	for _, c := range []struct{ patch, want string }{
		{`[{"op":"remove","path":"/metadata/labels/nope"}]`, "/metadata/labels does not exist"},
		{`[{"op":"remove","path":"/metadata/annotations/nope"}]`, "/metadata/annotations/nope does not exist"},
		{`[{"op":"replace","path":"/metadata/labels/a","value":"b"}]`, "/metadata/labels does not exist"},
		{`[{"op":"add","path":"/metadata/labels/a","value":"b"}]`, "/metadata/labels does not exist"},
		{`[{"op":"add","path":"/spec/list/5","value":3}]`, "/spec/list/5: array index 5 is out of range (length 2)"},
		{`[{"op":"test","path":"/spec/list/1","value":3}]`, "/spec/list/1 is 2"},
		{`[{"op":"copy","from":"/spec/nope/x","path":"/a"}]`, "/spec/nope does not exist"},
		{`[{"op":"add","path":"/metadata/name/x","value":1}]`, "/metadata/name/x: parent is a string"},
	} {
		_, err := JSONPatch([]byte(doc), []byte(c.patch))
		if !errors.Is(err, ErrNotApplicable) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrNotApplicable naming %q", c.patch, err, c.want)
		}
	}
	// Malformed patches are not "not applicable": an apiserver answers
	// them with 400, not 422.
	for _, p := range []string{`{}`, `[{"op":"nope","path":"/a"}]`, `[{"op":"add","path":"a","value":1}]`, `[{"op":"add","path":"/a"}]`, `[`} {
		if _, err := JSONPatch([]byte(doc), []byte(p)); !errors.Is(err, ErrInvalidPatch) || errors.Is(err, ErrNotApplicable) {
			t.Errorf("%s: %v, want ErrInvalidPatch only", p, err)
		}
	}
}

// TestJSONPatchCopyBomb is issue 12 case 14 (tenant/06): copies of /spec
// into itself double the document each time; the bound on added bytes stops
// the patch before the copy that would pass it, whatever the number of
// operations, and a patch within the bound still applies.
func TestJSONPatchCopyBomb(t *testing.T) {
	doc := []byte(`{"metadata":{"name":"pb"},"spec":{"holderIdentity":"` + strings.Repeat("x", 40) + `"}}`)
	var ops []string
	for i := range 60 {
		ops = append(ops, fmt.Sprintf(`{"op":"copy","from":"/spec","path":"/spec/x%d"}`, i))
	}
	bomb := []byte("[" + strings.Join(ops, ",") + "]")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := JSONPatch(doc, bomb, WithMaxAddedBytes(1<<20))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) || !errors.Is(err, ErrNotApplicable) || !strings.Contains(err.Error(), "more than 1048576 bytes") {
		t.Fatalf("copy bomb: %v, want ErrTooLarge", err)
	}
	// It stopped at about 1 MiB of copies (unbounded, 60 doublings would
	// need 2^60 times the document).
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Fatalf("the refused bomb allocated %d bytes", alloc)
	}
	// The default bound applies without options.
	if _, err := JSONPatch(doc, bomb); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("copy bomb under the default bound: %v", err)
	}
	// Four copies are fine.
	out, err := JSONPatch(doc, []byte("["+strings.Join(ops[:4], ",")+"]"), WithMaxAddedBytes(1<<20))
	if err != nil || !strings.Contains(string(out), `"x3"`) {
		t.Fatalf("four copies: %v", err)
	}
	// add counts too.
	big := `[{"op":"add","path":"/a","value":"` + strings.Repeat("y", 2000) + `"}]`
	if _, err := JSONPatch(doc, []byte(big), WithMaxAddedBytes(1000)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("add over the bound: %v", err)
	}
}

// TestJSONPatchOperationLimit: more than MaxOperations operations is refused
// before any is applied, as Kubernetes does.
func TestJSONPatchOperationLimit(t *testing.T) {
	op := `{"op":"test","path":"/a","value":1}`
	many := "[" + strings.Repeat(op+",", MaxOperations) + op + "]"
	if _, err := JSONPatch([]byte(`{"a":1}`), []byte(many)); !errors.Is(err, ErrTooManyOperations) {
		t.Fatalf("%d operations: %v", MaxOperations+1, err)
	}
	if _, err := JSONPatch([]byte(`{"a":1}`), []byte("["+strings.Repeat(op+",", MaxOperations-1)+op+"]")); err != nil {
		t.Fatalf("%d operations: %v", MaxOperations, err)
	}
}

// FuzzJSONPatchBound: whatever a patch does, a result it returns is never
// larger than the document plus the bound on added bytes, and a refusal
// for size is ErrTooLarge.
func FuzzJSONPatchBound(f *testing.F) {
	f.Add(`{"spec":{"a":"xxxxxxxx"}}`, `[{"op":"copy","from":"/spec","path":"/spec/b"},{"op":"copy","from":"/spec","path":"/spec/c"},{"op":"copy","from":"/spec","path":"/spec/d"}]`, uint16(64))
	f.Add(`{"a":[1,2,3]}`, `[{"op":"copy","from":"/a","path":"/a/-"},{"op":"copy","from":"/a","path":"/a/-"}]`, uint16(40))
	f.Add(`{"s":"<>&\u2028\u0001\""}`, `[{"op":"copy","from":"/s","path":"/t"},{"op":"copy","from":"","path":"/u"}]`, uint16(100))
	f.Add(`{}`, `[{"op":"add","path":"/a","value":{"b":[true,null,1e300,"\\"]}}]`, uint16(10))
	f.Add(`{"a":1}`, `[{"op":"replace","path":"","value":{"x":"yyyyyyyyyyyyyyy"}},{"op":"move","from":"/x","path":"/z"}]`, uint16(30))
	f.Fuzz(func(t *testing.T, doc, patch string, limit uint16) {
		d, err := decode("document", []byte(doc))
		if err != nil {
			return
		}
		base, err := encode(d)
		if err != nil {
			return
		}
		out, err := JSONPatch([]byte(doc), []byte(patch), WithMaxAddedBytes(int64(limit)+1))
		if err != nil {
			if !errors.Is(err, ErrInvalidPatch) {
				t.Fatalf("error %v does not wrap ErrInvalidPatch", err)
			}
			return
		}
		if len(out) > len(base)+int(limit)+1 {
			t.Fatalf("result of %d bytes from a %d-byte document under a bound of %d", len(out), len(base), int(limit)+1)
		}
	})
}
