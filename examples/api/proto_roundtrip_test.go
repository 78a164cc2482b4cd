package api_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/setpoint-dev/setpoint/examples/api"
)

var equalOpts = []cmp.Option{
	cmpopts.EquateEmpty(),
	cmp.Comparer(func(a, b api.Quantity) bool { return a.Cmp(b) == 0 && a.String() == b.String() }),
	cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
}

// TestRoundTrip encodes random objects of every kind in protobuf and in
// JSON and decodes them back into equal objects; the protobuf encoding of
// the decoded object is the same bytes, and Size is the encoded length.
func TestRoundTrip(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			for i := int64(0); i < 12; i++ {
				in := k.new()
				filler(i*131 + int64(len(k.name))).Fill(in)
				b, err := in.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				if in.Size() != len(b) {
					t.Fatalf("Size() = %d, encoding has %d bytes", in.Size(), len(b))
				}
				out := k.new()
				if err := out.Unmarshal(b); err != nil {
					t.Fatalf("Unmarshal: %v", err)
				}
				if d := cmp.Diff(in, out, equalOpts...); d != "" {
					t.Fatalf("protobuf round trip changed the object (-in +out):\n%s", d)
				}
				again, err := out.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b, again) {
					t.Fatalf("re-encoding gives other bytes")
				}
				j, err := json.Marshal(in)
				if err != nil {
					t.Fatal(err)
				}
				fromJSON := k.new()
				if err := json.Unmarshal(j, fromJSON); err != nil {
					t.Fatalf("JSON: %v", err)
				}
				if d := cmp.Diff(in, fromJSON, equalOpts...); d != "" {
					t.Fatalf("JSON round trip changed the object (-in +out):\n%s", d)
				}
			}
		})
	}
}

// TestMarshalToMatchesMarshal checks the three encoders agree.
func TestMarshalToMatchesMarshal(t *testing.T) {
	for _, k := range kinds {
		in := k.new()
		filler(7).Fill(in)
		b, err := in.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		to, ok := in.(interface{ MarshalTo([]byte) (int, error) })
		if !ok {
			t.Fatalf("%s has no MarshalTo", k.name)
		}
		buf := make([]byte, in.Size()+10)
		n, err := to.MarshalTo(buf)
		if err != nil || n != len(b) || !bytes.Equal(buf[:n], b) {
			t.Fatalf("%s: MarshalTo wrote %d bytes (%v), Marshal %d", k.name, n, err, len(b))
		}
	}
}

// TestUnknownFieldsSkipped appends fields no message has, of every wire
// type, and expects the same object back.
func TestUnknownFieldsSkipped(t *testing.T) {
	extra := []byte{
		0xf8, 0x3f, 0x05, // field 1023 varint 5
		0xf9, 0x3f, 1, 2, 3, 4, 5, 6, 7, 8, // field 1023 fixed64
		0xfa, 0x3f, 0x02, 'h', 'i', // field 1023 bytes
		0xfd, 0x3f, 1, 2, 3, 4, // field 1023 fixed32
		0xfb, 0x3f, 0x08, 0x01, 0xfc, 0x3f, // field 1023 group holding a varint
	}
	for _, k := range kinds {
		in := k.new()
		filler(3).Fill(in)
		b, err := in.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		out := k.new()
		if err := out.Unmarshal(append(append([]byte{}, extra...), b...)); err != nil {
			t.Fatalf("%s: %v", k.name, err)
		}
		if d := cmp.Diff(in, out, equalOpts...); d != "" {
			t.Fatalf("%s: unknown fields changed the object:\n%s", k.name, d)
		}
	}
}

// TestEmptyDecodesToZero: zero bytes are the zero object.
func TestEmptyDecodesToZero(t *testing.T) {
	for _, k := range kinds {
		out := k.new()
		if err := out.Unmarshal(nil); err != nil {
			t.Fatalf("%s: %v", k.name, err)
		}
		if !reflect.DeepEqual(out, k.new()) {
			t.Fatalf("%s: empty input decoded to %+v", k.name, out)
		}
	}
}
