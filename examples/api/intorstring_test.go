package api

import (
	"encoding/json"
	"testing"
)

func TestIntOrString(t *testing.T) {
	var v struct {
		A IntOrString  `json:"a"`
		B IntOrString  `json:"b"`
		C *IntOrString `json:"c"`
		D IntOrString  `json:"d"`
	}
	if err := json.Unmarshal([]byte(`{"a":8080,"b":"http","c":"25%","d":null}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != FromInt(8080) || v.B != FromString("http") || *v.C != FromString("25%") || v.D != (IntOrString{}) {
		t.Fatalf("decoded %+v", v)
	}
	out, _ := json.Marshal(v)
	if string(out) != `{"a":8080,"b":"http","c":"25%","d":0}` {
		t.Fatalf("encoded %s", out)
	}
	for _, bad := range []string{`{"a":1.5}`, `{"a":true}`, `{"a":99999999999}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	for _, c := range []struct {
		v     IntOrString
		total int
		up    bool
		want  int
	}{
		{FromInt(3), 10, true, 3}, {FromString("25%"), 10, true, 3}, {FromString("25%"), 10, false, 2}, {FromString("0%"), 10, true, 0},
	} {
		got, err := c.v.ScaledValue(c.total, c.up)
		if err != nil || got != c.want {
			t.Errorf("%v of %d (up %v) = %d, %v; want %d", c.v, c.total, c.up, got, err, c.want)
		}
	}
	for _, bad := range []IntOrString{FromString("abc"), FromString("-5%"), FromString("x%")} {
		if _, err := bad.ScaledValue(10, true); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
