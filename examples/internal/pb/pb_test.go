package pb

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestVarintRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 300, 1<<21 - 1, 1 << 35, math.MaxInt64, math.MaxUint64} {
		buf := make([]byte, SizeVarint(v))
		if i := PutVarint(buf, len(buf), v); i != 0 {
			t.Fatalf("%d: PutVarint started at %d, want 0", v, i)
		}
		got, next, err := Varint(buf, 0)
		if err != nil || got != v || next != len(buf) {
			t.Fatalf("%d: Varint = %d, %d, %v", v, got, next, err)
		}
	}
	if SizeVarint(math.MaxUint64) != 10 {
		t.Fatal("a 64-bit varint takes 10 bytes")
	}
}

func TestVarintErrors(t *testing.T) {
	if _, _, err := Varint([]byte{0x80, 0x80}, 0); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated: %v", err)
	}
	long := []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}
	if _, _, err := Varint(long, 0); !errors.Is(err, ErrOverflow) {
		t.Fatalf("overlong: %v", err)
	}
	if _, _, err := Varint(nil, 0); !errors.Is(err, ErrTruncated) {
		t.Fatalf("empty: %v", err)
	}
}

func TestBytesBounds(t *testing.T) {
	s, e, err := Bytes([]byte{0x03, 'a', 'b', 'c', 'd'}, 0)
	if err != nil || s != 1 || e != 4 {
		t.Fatalf("Bytes = %d, %d, %v", s, e, err)
	}
	for name, b := range map[string][]byte{
		"past the end": {0x05, 'a'},
		"huge":         {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
		"negative":     {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	} {
		if _, _, err := Bytes(b, 0); !errors.Is(err, ErrLength) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestKey(t *testing.T) {
	num, w, next, err := Key([]byte{0xfa, 0x3f}, 0)
	if err != nil || num != 1023 || w != WireBytes || next != 2 {
		t.Fatalf("Key = %d, %d, %d, %v", num, w, next, err)
	}
	for name, b := range map[string][]byte{"zero": {0x00}, "end group": {0x0c}, "wire 6": {0x0e}, "wire 7": {0x0f}} {
		if _, _, _, err := Key(b, 0); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestSkip(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		wire int
		want int
		err  error
	}{
		{"varint", []byte{0x96, 0x01, 0xff}, WireVarint, 2, nil},
		{"fixed64", []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, WireFixed64, 8, nil},
		{"fixed32", []byte{1, 2, 3, 4, 5}, WireFixed32, 4, nil},
		{"bytes", []byte{0x02, 'h', 'i', 'x'}, WireBytes, 3, nil},
		{"group", []byte{0x08, 0x01, 0x0c, 0xff}, WireStart, 3, nil},
		{"nested group", []byte{0x0b, 0x08, 0x01, 0x0c, 0x0c}, WireStart, 5, nil},
		{"short fixed64", []byte{1, 2}, WireFixed64, 0, ErrTruncated},
		{"short bytes", []byte{0x05, 'a'}, WireBytes, 0, ErrLength},
		{"open group", []byte{0x08, 0x01}, WireStart, 0, ErrTruncated},
		{"bare end group", nil, WireEnd, 0, ErrWireType},
		{"bad wire", nil, 7, 0, ErrWireType},
	}
	for _, c := range cases {
		got, err := Skip(c.data, 0, c.wire)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s: error %v, want %v", c.name, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: Skip = %d, %v; want %d", c.name, got, err, c.want)
		}
	}
}

func TestTimestamp(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC)
	for _, micro := range []bool{false, true} {
		buf := make([]byte, SizeTimestamp(at, micro))
		if i := PutTimestamp(buf, len(buf), at, micro); i != 0 {
			t.Fatalf("PutTimestamp started at %d", i)
		}
		got, err := Timestamp(buf, micro)
		if err != nil {
			t.Fatal(err)
		}
		want := at.Truncate(time.Second)
		if micro {
			want = at.Truncate(time.Microsecond)
		}
		if !got.Equal(want) {
			t.Errorf("micro=%v: got %v, want %v", micro, got, want)
		}
	}
	if SizeTimestamp(time.Time{}, false) != 0 {
		t.Error("the zero time must encode to nothing")
	}
	if got, err := Timestamp(nil, false); err != nil || !got.IsZero() {
		t.Errorf("empty body: %v, %v", got, err)
	}
	if _, err := Timestamp([]byte{0x0a, 0x00}, false); !errors.Is(err, ErrWireType) {
		t.Errorf("seconds as bytes: %v", err)
	}
	// A time outside years 0000-9999 (UTC) has no JSON form: refused at
	// decode, as the JSON decoders refuse it (issue 12 case 10).
	for _, bad := range []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 12, 31, 23, 59, 0, 0, time.UTC)} {
		buf := make([]byte, SizeTimestamp(bad, true))
		PutTimestamp(buf, len(buf), bad, true)
		if got, err := Timestamp(buf, true); err == nil || !strings.Contains(err.Error(), "0000-9999") {
			t.Errorf("%v: Timestamp = %v, %v; want an error", bad, got, err)
		}
	}
	for _, edge := range []time.Time{time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)} {
		buf := make([]byte, SizeTimestamp(edge, false))
		PutTimestamp(buf, len(buf), edge, false)
		if got, err := Timestamp(buf, false); err != nil || !got.Equal(edge) {
			t.Errorf("%v: Timestamp = %v, %v", edge, got, err)
		}
	}
	// nanos outside 0..999999999 (a negative varint here) are refused too.
	if _, err := Timestamp([]byte{0x08, 0x01, 0x10, 0xff, 0xff, 0xff, 0xff, 0x0f}, true); err == nil {
		t.Error("negative nanos accepted")
	}
}

func TestSmallMessages(t *testing.T) {
	buf := make([]byte, SizeIntOrString(true, -5, "25%"))
	PutIntOrString(buf, len(buf), true, -5, "25%")
	isStr, iv, sv, err := IntOrString(buf)
	if err != nil || !isStr || iv != -5 || sv != "25%" {
		t.Fatalf("IntOrString = %v %d %q %v", isStr, iv, sv, err)
	}
	buf = make([]byte, SizeStringMessage("100m"))
	PutStringMessage(buf, len(buf), "100m")
	if s, ok, err := StringMessage(buf); err != nil || !ok || s != "100m" {
		t.Fatalf("StringMessage = %q %v %v", s, ok, err)
	}
	buf = make([]byte, SizeInt64Message(-90))
	PutInt64Message(buf, len(buf), -90)
	if v, err := Int64Message(buf); err != nil || v != -90 {
		t.Fatalf("Int64Message = %d %v", v, err)
	}
	buf = make([]byte, SizeBytesMessage([]byte("{}")))
	PutBytesMessage(buf, len(buf), []byte("{}"))
	if raw, err := BytesMessage(buf); err != nil || string(raw) != "{}" {
		t.Fatalf("BytesMessage = %q %v", raw, err)
	}
	if SizeBytesMessage(nil) != 0 {
		t.Fatal("nil raw bytes must encode to nothing")
	}
	if raw, err := BytesMessage([]byte{0x0a, 0x00}); err != nil || raw == nil || len(raw) != 0 {
		t.Fatalf("empty raw bytes decode to %v, %v; want empty and non-nil", raw, err)
	}
}

func TestWrap(t *testing.T) {
	inner := Wrap("PodSpec", "containers", ErrTruncated)
	outer := Wrap("Pod", "spec", inner)
	want := "protobuf: decoding Pod field spec.containers: unexpected end of data"
	if outer.Error() != want {
		t.Fatalf("got %q, want %q", outer.Error(), want)
	}
	if !errors.Is(outer, ErrTruncated) {
		t.Fatal("the sentinel is lost")
	}
}

// FuzzSkip checks that skipping never panics or moves backwards or past
// the end.
func FuzzSkip(f *testing.F) {
	f.Add([]byte{0x0b, 0x08, 0x01, 0x0c}, 3)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 2)
	f.Add([]byte{0x01}, 1)
	f.Fuzz(func(t *testing.T, data []byte, wire int) {
		next, err := Skip(data, 0, wire&7)
		if err == nil && (next < 0 || next > len(data)) {
			t.Fatalf("Skip returned %d for %d bytes", next, len(data))
		}
	})
}
