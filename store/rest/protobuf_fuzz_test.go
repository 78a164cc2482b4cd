package rest

import (
	"context"
	"net/http"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// FuzzProtobufRequest sends arbitrary protobuf request bodies to every
// write that reads one (create, update, delete with DeleteOptions, scale):
// the handler never panics or answers 5xx, a body it rejects is a 400 or
// 422 Status in protobuf, and a rejected write changes nothing.
func FuzzProtobufRequest(f *testing.F) {
	gs := newGearServer(f)
	const base = "/apis/test.setpoint.dev/v1/namespaces/ns/gears"
	seed := &gear{ObjectMeta: store.ObjectMeta{Name: "a"}}
	seed.Spec.Size = 2
	if r := gs.do(f, "POST", base, pbType, pbType, gearEnvelope(f, seed)); r.code != http.StatusCreated {
		f.Fatalf("seed object: %d %s", r.code, r.body)
	}
	good := gearEnvelope(f, &gear{ObjectMeta: store.ObjectMeta{Name: "b"}})
	raw := (&gear{ObjectMeta: store.ObjectMeta{Name: "b"}}).encode()
	for verb := range uint8(4) {
		f.Add(verb, good)
		f.Add(verb, good[:len(good)/2])
		f.Add(verb, []byte(watch.ProtobufPrefix))
		f.Add(verb, append([]byte(watch.ProtobufPrefix), 0x12, 0xff, 0xff, 0xff, 0xff, 0x0f))
		f.Add(verb, watch.AppendRawEnvelope(nil, gearResource.APIVersion, "Gear", raw[:len(raw)-1]))
		f.Add(verb, watch.AppendRawEnvelope(nil, "meta.k8s.io/v1", "DeleteOptions", []byte{0x12, 0x02, 0x0a, 0x00}))
		f.Add(verb, gzipEnvelope(raw))
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, verb uint8, body []byte) {
		before, err := gs.b.Revision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var method, path string
		switch verb % 4 {
		case 0:
			method, path = "POST", base
		case 1:
			method, path = "PUT", base+"/a"
		case 2:
			method, path = "DELETE", base+"/a"
		default:
			method, path = "PUT", base+"/a/scale"
		}
		r := gs.do(t, method, path, pbType, pbType, body)
		if r.code >= 500 {
			t.Fatalf("%s %s: %d %q", method, path, r.code, r.body)
		}
		if r.code < 300 {
			// An accepted write: put the seed object back as it was so
			// that every input meets the same store.
			if _, err := gs.st.Get(ctx, "ns", "a"); err != nil {
				if _, err := gs.st.Create(ctx, &gear{ObjectMeta: store.ObjectMeta{Name: "a", Namespace: "ns"}}); err != nil {
					t.Fatal(err)
				}
			}
			return
		}
		if r.contentType != pbType {
			t.Fatalf("%s %s rejected with %d in %q, want a protobuf Status", method, path, r.code, r.contentType)
		}
		if st := decodeStatus(t, r); st.Code != int32(r.code) || st.Message == "" {
			t.Fatalf("%s %s: status %+v for %d", method, path, st, r.code)
		}
		if after, _ := gs.b.Revision(ctx); after != before {
			t.Fatalf("%s %s was rejected with %d but changed the store (%d -> %d)", method, path, r.code, before, after)
		}
	})
}
