package api_test

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// maxAllocPerByte bounds what decoding may allocate per input byte: an
// element of a repeated message field takes two bytes on the wire and one
// zero struct in memory (a Container is the largest, about 1 KiB), doubled
// for slice growth.
const maxAllocPerByte = 4096

// checkDecode decodes data into m and, when it decodes, checks that the
// result re-encodes to bytes that decode to the same encoding again.
func checkDecode(t *testing.T, data []byte, m, again message) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := m.Unmarshal(data)
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > uint64(maxAllocPerByte*len(data)+1<<16) {
		t.Fatalf("decoding %d bytes allocated %d bytes", len(data), grew)
	}
	if err != nil {
		return
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatalf("decoded but cannot re-encode: %v", err)
	}
	if err := again.Unmarshal(b); err != nil {
		t.Fatalf("re-encoding does not decode: %v", err)
	}
	b2, err := again.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Fatalf("encoding is not stable after a decode")
	}
}

// FuzzPodUnmarshal feeds arbitrary bytes to the Pod decoder: it never
// panics, allocates in proportion to its input, and what it accepts
// re-encodes stably.
func FuzzPodUnmarshal(f *testing.F) {
	f.Add(encodedPod(f))
	f.Add([]byte{})
	f.Add([]byte{0x12, 0x04, 0x12, 0x02, 0x0a, 0x05})
	f.Add([]byte{0x12, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{0x12, 0x04, 0x3a, 0x02, 0x08, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data, new(api.Pod), new(api.Pod))
	})
}

// FuzzKindsUnmarshal does the same for every kind; the first byte picks
// the kind.
func FuzzKindsUnmarshal(f *testing.F) {
	for i, k := range kinds {
		in := k.new()
		filler(int64(i)).Fill(in)
		b, err := in.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append([]byte{byte(i)}, b...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		k := kinds[int(data[0])%len(kinds)]
		checkDecode(t, data[1:], k.new(), k.new())
	})
}
