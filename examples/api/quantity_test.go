package api

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
)

func TestParseQuantityCanonicalForms(t *testing.T) {
	cases := []struct {
		in, out string
		milli   int64
	}{
		{"0", "0", 0},
		{"100m", "100m", 100},
		{"1Gi", "1Gi", 1 << 30 * 1000},
		{"2", "2", 2000},
		{"1.5", "1500m", 1500},
		{"500Mi", "500Mi", 500 << 20 * 1000},
		{"1e3", "1e3", 1000000},
		{"1E3", "1e3", 1000000},
		{"1000", "1k", 1000000},
		{"1200", "1200", 1200000},
		{"1.5Gi", "1536Mi", 1536 << 20 * 1000},
		{"1024Ki", "1Mi", 1 << 20 * 1000},
		{"1536", "1536", 1536000},
		{"0.1", "100m", 100},
		{".5", "500m", 500},
		{"1.", "1", 1000},
		{"+3k", "3k", 3000000},
		{"-1", "-1", -1000},
		{"-1.5Gi", "-1536Mi", -1536 << 20 * 1000},
		{"1n", "1n", 1},
		{"0.5n", "1n", 1}, // rounded up to the nanounit
		{"1u", "1u", 1},
		{"100M", "100M", 100000000000},
		{"12E", "12E", 0}, // milli value saturates; checked below
		{"5e-3", "5e-3", 5},
		{"0.005", "5m", 5},
		{"1.1Ki", "1126400m", 1126400},
		{"512", "512", 512000},
		{"0Gi", "0", 0},
	}
	for _, c := range cases {
		q, err := ParseQuantity(c.in)
		if err != nil {
			t.Errorf("ParseQuantity(%q): %v", c.in, err)
			continue
		}
		if got := q.String(); got != c.out {
			t.Errorf("ParseQuantity(%q).String() = %q, want %q", c.in, got, c.out)
		}
		if c.in != "12E" && q.MilliValue() != c.milli {
			t.Errorf("ParseQuantity(%q).MilliValue() = %d, want %d", c.in, q.MilliValue(), c.milli)
		}
		// the canonical form re-parses to the same quantity
		r, err := ParseQuantity(q.String())
		if err != nil || r.Cmp(q) != 0 || r.String() != q.String() {
			t.Errorf("re-parse of %q: %v, %v != %v", q.String(), err, r, q)
		}
	}
}

func TestParseQuantityErrors(t *testing.T) {
	for _, in := range []string{"1e31", "1" + strings.Repeat("0", 100000), "0." + strings.Repeat("1", 50), "", "abc", "1K", "1Gb", "1.2.3", "--1", "1e", "1e+", "Mi", "1 Gi", ".", "1e99999", "99999999999999999999999"} {
		_, err := ParseQuantity(in)
		if !errors.Is(err, ErrQuantity) {
			t.Errorf("ParseQuantity(%q): err = %v, want ErrQuantity", in, err)
		}
	}
}

func TestQuantityCompareAndAdd(t *testing.T) {
	if MustParse("1Gi").Cmp(MustParse("1073741824")) != 0 {
		t.Error("1Gi != 1073741824")
	}
	if !MustParse("1Gi").Equal(MustParse("1024Mi")) || MustParse("1Gi") != MustParse("1024Mi") {
		t.Error("1Gi and 1024Mi differ")
	}
	if MustParse("999m").Cmp(MustParse("1")) != -1 || MustParse("1001m").Cmp(MustParse("1")) != 1 {
		t.Error("milli comparison wrong")
	}
	if MustParse("1n").Cmp(MustParse("0")) != 1 {
		t.Error("1n should be > 0")
	}
	sum := MustParse("100m").Add(MustParse("1.9"))
	if sum.String() != "2" || sum.Cmp(MustParse("2")) != 0 {
		t.Errorf("100m + 1.9 = %s", sum)
	}
	mem := MustParse("512Mi").Add(MustParse("512Mi"))
	if mem.String() != "1Gi" {
		t.Errorf("512Mi + 512Mi = %s", mem)
	}
	if d := MustParse("1").Sub(MustParse("250m")); d.String() != "750m" {
		t.Errorf("1 - 250m = %s", d)
	}
	if n := MustParse("2").Sub(MustParse("3")); n.Sign() != -1 || n.String() != "-1" {
		t.Errorf("2 - 3 = %s", n)
	}
	var zero Quantity
	if !zero.IsZero() || zero.String() != "0" || zero.Add(MustParse("1Ki")).String() != "1Ki" {
		t.Error("zero quantity misbehaves")
	}
	if MustParse("1.2").Value() != 2 || MustParse("-1.2").Value() != -2 || MustParse("-1n").MilliValue() != -1 {
		t.Error("Value must round away from zero")
	}
	// huge values stay exact in comparisons
	if MustParse("8E").Add(MustParse("8E")).Cmp(MustParse("16E")) != 0 {
		t.Error("8E + 8E != 16E")
	}
}

func TestQuantityJSON(t *testing.T) {
	var v struct {
		A Quantity  `json:"a"`
		B Quantity  `json:"b"`
		C *Quantity `json:"c"`
	}
	if err := json.Unmarshal([]byte(`{"a":"1.5Gi","b":0.25,"c":null}`), &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	if string(out) != `{"a":"1536Mi","b":"250m","c":null}` {
		t.Fatalf("got %s", out)
	}
	if err := json.Unmarshal([]byte(`{"a":"1X"}`), &v); !errors.Is(err, ErrQuantity) {
		t.Fatalf("bad quantity: err = %v", err)
	}
}

func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{"100m", "1Gi", "2", "1.5", "500Mi", "1e3", "-0.5n", "1.1Ki", "12E", "9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuantity(s)
		if err != nil {
			if !errors.Is(err, ErrQuantity) {
				t.Fatalf("error does not wrap ErrQuantity: %v", err)
			}
			return
		}
		r, err := ParseQuantity(q.String())
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", q.String(), s, err)
		}
		if r.Cmp(q) != 0 || r.String() != q.String() {
			t.Fatalf("%q -> %q -> %q changed value", s, q.String(), r.String())
		}
	})
}

func TestQuantityLongZeroRuns(t *testing.T) {
	q, err := ParseQuantity("0." + strings.Repeat("0", 100000))
	if err != nil || !q.IsZero() {
		t.Fatalf("long zero: %v %v", q, err)
	}
	q, err = ParseQuantity("000000000000000000000000000000000000000000000000001.5000000000000000000000000000000000000000000000000000k")
	if err != nil || q.String() != "1500" {
		t.Fatalf("padded: %v %v", q, err)
	}
	if MustParse("8E").Add(MustParse("9E")).Cmp(MustParse("17E")) != 0 {
		t.Fatal("sum beyond int64 units must stay exact")
	}
}

func TestQuantityTinyRoundsToNano(t *testing.T) {
	for in, want := range map[string]string{
		"0." + strings.Repeat("0", 100000) + "1":  "1n",
		"-0." + strings.Repeat("0", 100000) + "1": "-1n",
		"1e-50": "1e-9",
		"1.5n":  "2n",
	} {
		q, err := ParseQuantity(in)
		if err != nil || q.String() != want {
			t.Errorf("%.20s...: %v %v, want %s", in, q, err, want)
		}
	}
}

// The int64 fast paths of Cmp and Add agree with exact big-number arithmetic.
func FuzzQuantityArithmetic(f *testing.F) {
	f.Add("100m", "1Gi")
	f.Add("9E", "9E")
	f.Add("-1n", "1n")
	f.Add("123456789012345678", "0.000000001")
	f.Add("1e30", "-1e30")
	f.Fuzz(func(t *testing.T, a, b string) {
		q, err1 := ParseQuantity(a)
		r, err2 := ParseQuantity(b)
		if err1 != nil || err2 != nil {
			return
		}
		s := min(q.scale, r.scale)
		x, y := q.bigAt(s), r.bigAt(s)
		if got, want := q.Cmp(r), x.Cmp(y); got != want {
			t.Fatalf("Cmp(%s, %s) = %d, want %d", q, r, got, want)
		}
		exact := new(big.Int).Add(x, y)
		sum := q.Add(r)
		if exact.IsInt64() && sum.scale >= s {
			if sum.bigAt(s).Cmp(exact) != 0 {
				t.Fatalf("%s + %s = %s, want %s * 10^%d", q, r, sum, exact, s)
			}
		}
		if diff := q.Sub(r); new(big.Int).Sub(x, y).IsInt64() && exact.IsInt64() && diff.Add(r).Cmp(q) != 0 {
			t.Fatalf("(%s - %s) + %s != %s", q, r, r, q)
		}
	})
}

func TestRoundUpMilli(t *testing.T) {
	for in, want := range map[string]string{"1n": "1m", "100m": "100m", "1.0001": "1001m", "-1u": "-1m", "2Gi": "2Gi", "1500u": "2m", "0": "0"} {
		if got := MustParse(in).RoundUpMilli(); got.String() != want {
			t.Errorf("RoundUpMilli(%s) = %s, want %s", in, got.String(), want)
		}
	}
}
