package api_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/internal/pb"
)

func encodedPod(t testing.TB) []byte {
	t.Helper()
	p := new(api.Pod)
	filler(11).Fill(p)
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBadInput checks that malformed protobuf returns an error that wraps
// the right sentinel and names where decoding stopped.
func TestBadInput(t *testing.T) {
	cases := []struct {
		name     string
		data     []byte
		sentinel error
		where    string // the error names this field path
	}{
		{"truncated key", []byte{0x80}, pb.ErrTruncated, "Pod field (key)"},
		{"truncated length", []byte{0x12}, pb.ErrTruncated, "Pod field spec"},
		{"length past the end", []byte{0x12, 0x05, 0x00}, pb.ErrLength, "Pod field spec"},
		{"huge length", []byte{0x12, 0xff, 0xff, 0xff, 0xff, 0x0f}, pb.ErrLength, "Pod field spec"},
		{"negative length", []byte{0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, pb.ErrLength, "Pod field spec"},
		{"overlong varint", []byte{0x12, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, pb.ErrOverflow, "Pod field spec"},
		{"wrong wire type for a message", []byte{0x10, 0x01}, pb.ErrWireType, "Pod field spec"},
		{"wrong wire type for a string", []byte{0x0a, 0x02, 0x08, 0x01}, pb.ErrWireType, "Pod field metadata.name"},
		{"wrong wire type deep inside", []byte{0x12, 0x04, 0x12, 0x02, 0x08, 0x01}, pb.ErrWireType, "Pod field spec.containers.name"},
		{"truncated inside a container", []byte{0x12, 0x04, 0x12, 0x02, 0x0a, 0x05}, pb.ErrLength, "Pod field spec.containers.name"},
		{"bad quantity", []byte{0x12, 0x10, 0x12, 0x0e, 0x42, 0x0c, 0x12, 0x0a, 0x0a, 0x03, 'c', 'p', 'u', 0x12, 0x03, 0x0a, 0x01, 'x'}, pb.ErrValue, "Pod field spec.containers.resources.requests"},
		{"field number zero", []byte{0x02, 0x00}, pb.ErrFieldNumber, "Pod field (key)"},
		{"end group without start", []byte{0x0c}, pb.ErrWireType, "Pod field (key)"},
		{"illegal wire type", []byte{0x0e}, pb.ErrWireType, "Pod field (key)"},
		{"unknown field truncated", []byte{0xfa, 0x3f, 0x09, 'x'}, pb.ErrLength, "Pod field #1023"},
		{"bad map entry", []byte{0x12, 0x04, 0x3a, 0x02, 0x08, 0x01}, pb.ErrWireType, "Pod field spec.nodeSelector"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p api.Pod
			err := p.Unmarshal(c.data)
			if err == nil {
				t.Fatalf("no error for %x", c.data)
			}
			if !errors.Is(err, c.sentinel) {
				t.Fatalf("error %q does not wrap %q", err, c.sentinel)
			}
			if !strings.Contains(err.Error(), c.where) {
				t.Fatalf("error %q does not name %q", err, c.where)
			}
		})
	}
}

// TestTruncatedEverywhere cuts a real encoding at every length: each cut
// either decodes (it ended between fields) or fails cleanly, never panics.
func TestTruncatedEverywhere(t *testing.T) {
	b := encodedPod(t)
	failed := 0
	for n := 0; n < len(b); n++ {
		var p api.Pod
		if err := p.Unmarshal(b[:n]); err != nil {
			failed++
			var fe *pb.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("cut at %d: error %v is not a *pb.FieldError", n, err)
			}
		}
	}
	if failed == 0 {
		t.Fatal("no truncation was detected")
	}
}

// TestHugeLengthsAllocateNothingLarge: declared lengths of gigabytes fail
// before anything of that size is allocated.
func TestHugeLengthsAllocateNothingLarge(t *testing.T) {
	data := []byte{0x12, 0x80, 0x80, 0x80, 0x80, 0x04} // spec, 1 GiB
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < 100; i++ {
		var p api.Pod
		if err := p.Unmarshal(data); err == nil {
			t.Fatal("no error")
		}
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("100 decodes of a 6-byte input allocated %d bytes", grew)
	}
}
