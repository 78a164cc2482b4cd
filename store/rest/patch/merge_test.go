package patch

import (
	"encoding/json"
	"errors"
	"testing"
)

// jsonEq decodes both texts and compares them as JSON values.
func jsonEq(t *testing.T, got []byte, want string) {
	t.Helper()
	g, err := decode("got", got)
	if err != nil {
		t.Fatalf("result is not JSON: %v: %s", err, got)
	}
	w, err := decode("want", []byte(want))
	if err != nil {
		t.Fatalf("bad expectation %s: %v", want, err)
	}
	if !Equal(g, w) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// The cases of RFC 7386, Appendix A.
func TestMergePatchRFC7386(t *testing.T) {
	cases := []struct{ doc, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"e":null,"a":1}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
	}
	for i, c := range cases {
		got, err := MergePatch([]byte(c.doc), []byte(c.patch))
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		jsonEq(t, got, c.want)
	}
}

func TestMergePatchKeepsBigNumbersExact(t *testing.T) {
	got, err := MergePatch([]byte(`{"n":12345678901234567890123}`), []byte(`{"m":1.000000000000000001}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"m":1.000000000000000001,"n":12345678901234567890123}` {
		t.Fatalf("numbers changed: %s", got)
	}
}

func TestMergePatchRejectsBadJSON(t *testing.T) {
	for _, c := range []struct{ doc, patch string }{
		{`{"a":1}`, `{"a":`},
		{`{"a":`, `{}`},
		{`{}`, `{} {}`},
	} {
		_, err := MergePatch([]byte(c.doc), []byte(c.patch))
		if !errors.Is(err, ErrInvalidPatch) {
			t.Fatalf("MergePatch(%s, %s): err = %v, want ErrInvalidPatch", c.doc, c.patch, err)
		}
	}
}

func TestApplyMergePatchDoesNotModifyDoc(t *testing.T) {
	doc := map[string]any{"a": map[string]any{"b": "c"}, "d": []any{"e"}}
	out := ApplyMergePatch(doc, map[string]any{"a": map[string]any{"b": nil}, "d": nil})
	if !Equal(doc, map[string]any{"a": map[string]any{"b": "c"}, "d": []any{"e"}}) {
		t.Fatalf("doc modified: %v", doc)
	}
	if !Equal(out, map[string]any{"a": map[string]any{}}) {
		t.Fatalf("out = %v", out)
	}
}

func TestEqualNumbers(t *testing.T) {
	n := func(s string) any { return json.Number(s) }
	same := [][2]any{
		{n("1"), n("1.0")}, {n("100"), n("1e2")}, {n("0.5"), n("5E-1")}, {n("-0"), n("0")}, {n("0.0"), n("0e10")},
		{n("12345678901234567890"), n("12345678901234567890.000")}, {n("1e1000000000"), n("10e999999999")},
		{float64(1.5), n("1.5")}, {int64(3), n("3.00")},
	}
	for _, c := range same {
		if !Equal(c[0], c[1]) {
			t.Errorf("%v != %v", c[0], c[1])
		}
	}
	differ := [][2]any{
		{n("12345678901234567890"), n("12345678901234567891")}, {n("1"), n("-1")}, {n("1e1000000000"), n("1e1000000001")},
		{n("1"), "1"}, {n("0"), nil}, {n("0"), false},
	}
	for _, c := range differ {
		if Equal(c[0], c[1]) {
			t.Errorf("%v == %v", c[0], c[1])
		}
	}
}
