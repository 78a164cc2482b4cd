package patch

import (
	"errors"
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
