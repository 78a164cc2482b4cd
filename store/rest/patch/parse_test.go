package patch

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// reference decodes with encoding/json and UseNumber.
func reference(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errSyntax
	}
	return v, nil
}

var jsonSeeds = []string{
	`{"a":[1,-2.5e3,0,0.1,true,false,null,"x"],"b":{"c":{}},"d":[]}`,
	`"esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 \ud800 \udc00x"`,
	` [ 1 , 2 ] `, `{"dup":1,"dup":2}`, `-0`, `1E+2`, `"<>&\u2028"`, "\"\xff\xfe\"",
	`01`, `1.`, `.5`, `-`, `[1,]`, `{"a" 1}`, `{"a":1,}`, `"\x"`, "\"a\x01\"", `tru`, `nul`, `[`, `{"a":1} x`, `"\u12"`,
}

func TestParseJSONMatchesEncodingJSON(t *testing.T) {
	for _, s := range jsonSeeds {
		checkParse(t, []byte(s))
	}
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	if _, err := parseJSON([]byte(deep)); err == nil {
		t.Fatal("nesting beyond the limit accepted")
	}
	ok := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	checkParse(t, []byte(ok))
}

func checkParse(t *testing.T, data []byte) {
	t.Helper()
	got, err := parseJSON(data)
	want, werr := reference(data)
	if (err == nil) != (werr == nil) {
		t.Fatalf("%q: ours err=%v, encoding/json err=%v", data, err, werr)
	}
	if err != nil {
		return
	}
	if !Equal(got, want) || !sameTypes(got, want) {
		t.Fatalf("%q: ours %#v, encoding/json %#v", data, got, want)
	}
	enc, err := encode(got)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, ref) {
		t.Fatalf("%q: ours encodes %s, encoding/json %s", data, enc, ref)
	}
}

// sameTypes checks that numbers are json.Number and strings are identical.
func sameTypes(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y := b.(map[string]any)
		for k := range x {
			if !sameTypes(x[k], y[k]) {
				return false
			}
		}
	case []any:
		y := b.([]any)
		for i := range x {
			if !sameTypes(x[i], y[i]) {
				return false
			}
		}
	case json.Number:
		y, ok := b.(json.Number)
		return ok && x == y
	}
	return true
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkParse(t, []byte(s))
	})
}

// TestDecodeValueNumbers: DecodeValue gives int64 for integers that fit
// and float64 for the rest, and the same structure as encoding/json.
func TestDecodeValueNumbers(t *testing.T) {
	v, err := DecodeValue([]byte(` {"i":42,"n":-7,"big":9223372036854775807,"over":9223372036854775808,"f":1.5,"e":1e3,"z":-0,"l":[1,"a",true,null]} `))
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	for k, want := range map[string]any{"i": int64(42), "n": int64(-7), "big": int64(9223372036854775807),
		"over": float64(9223372036854775808), "f": 1.5, "e": float64(1000), "z": int64(0)} {
		if m[k] != want {
			t.Errorf("%s = %#v, want %#v", k, m[k], want)
		}
	}
	if l := m["l"].([]any); len(l) != 4 || l[0] != int64(1) || l[1] != "a" || l[2] != true || l[3] != nil {
		t.Errorf("list %#v", l)
	}
	for _, bad := range []string{"", "{", `{"a":1}x`, "01", "1.", "-", `{"a"}`} {
		if _, err := DecodeValue([]byte(bad)); err == nil {
			t.Errorf("DecodeValue(%q): no error", bad)
		}
	}
}
