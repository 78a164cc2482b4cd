package fastjson

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

type sample struct {
	Name   string            `json:"name"`
	N      int64             `json:"n,omitempty"`
	F      float64           `json:"f"`
	B      *bool             `json:"b"`
	L      []string          `json:"l"`
	M      map[string]string `json:"m"`
	Inner  *sample           `json:"inner,omitempty"`
	Raw    json.RawMessage   `json:"raw,omitempty"`
	Any    any               `json:"any"`
	Ignore string            `json:"-"`
}

var seeds = []string{
	`{"name":"a","n":3,"f":1.5,"b":true,"l":["x","y"],"m":{"k":"v"},"inner":{"name":"b"},"raw":{"z":[1,2]},"any":[1,"s",null,{"q":false}]}`,
	`{"name":"\u00e9\ud83d\ude00\n","l":[],"m":{},"any":{}}`,
	`{"NAME":"case","N":"7"}`,
	`{"name":1}`,
	`{"name":"a",}`,
	`{"name":"a"} x`,
	`{"l":null,"m":null,"b":null,"inner":null}`,
	`{"n":1e3}`,
	`{"name":"a","name":"b"}`,
	`{"name":"\xff"}`,
	`[1,2]`,
	``,
}

// Fast and standard decoding agree: same error-or-not, and on success the
// same value.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want, got sample
		werr := json.Unmarshal(data, &want)
		gerr := Unmarshal(data, &got)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: encoding/json says %v, fastjson %v", data, werr, gerr)
		}
		if werr != nil {
			if werr.Error() != gerr.Error() {
				t.Fatalf("%q: errors differ: %v / %v", data, werr, gerr)
			}
			return
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("%q: decoded differently:\n%#v\n%#v", data, want, got)
		}
	})
}

// On valid JSON, UnmarshalValid decodes as encoding/json does.
func FuzzUnmarshalValid(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want, got sample
		if !json.Valid(data) || !utf8.Valid(data) {
			_ = UnmarshalValid(data, &got) // must not panic
			return
		}
		werr := json.Unmarshal(data, &want)
		gerr := UnmarshalValid(data, &got)
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Fatalf("%q: encoding/json says %v, fastjson %v", data, werr, gerr)
		}
		if werr == nil && !reflect.DeepEqual(want, got) {
			t.Fatalf("%q: decoded differently:\n%#v\n%#v", data, want, got)
		}
	})
}
