package watch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// wireObj is a Kubernetes-shaped object with the kinds of fields a real one
// has, for the round-trip fuzz target.
type wireObj struct {
	Kind       string      `json:"kind,omitempty"`
	APIVersion string      `json:"apiVersion,omitempty"`
	Metadata   wireObjMeta `json:"metadata"`
	Data       string      `json:"data,omitempty"`
	Count      int64       `json:"count,omitempty"`
}

type wireObjMeta struct {
	Name            string            `json:"name,omitempty"`
	ResourceVersion string            `json:"resourceVersion"`
	Labels          map[string]string `json:"labels,omitempty"`
	Annotations     map[string]string `json:"annotations,omitempty"`
}

// FuzzWireRoundTrip: what the server encodes (watch.Encoder, through each of
// its paths: marshalled objects, shared pre-encoded ones and raw JSON;
// bookmarks, with and without the initial-events-end annotation; ERROR
// events with a full Status) the client decodes (Decoder, DecodeEvent)
// exactly: the same type, revision, object and Status. An event the encoder
// refuses writes nothing.
func FuzzWireRoundTrip(f *testing.F) {
	f.Add(uint8(0), uint8(0), int64(5), "a", "tier", "front", "data", int64(3), int32(0), "", "", "", "", false)
	f.Add(uint8(1), uint8(1), int64(9), "b<&>", "k8s.io/x", "\u00e9\u2028", "\x00\n\"", int64(-1), int32(0), "", "", "", "", false)
	f.Add(uint8(2), uint8(2), int64(1<<62), "c", "", "", "", int64(0), int32(0), "", "", "", "", false)
	f.Add(uint8(3), uint8(0), int64(15), "", "", "", "", int64(0), int32(0), "", "", "", "", true)
	f.Add(uint8(3), uint8(0), int64(0), "", "", "", "", int64(0), int32(0), "", "", "", "", false)
	f.Add(uint8(4), uint8(0), int64(0), "pods", "", "", "", int64(0), int32(410), StatusReasonExpired, "too old resource version: 5 (9)", "", "", false)
	f.Add(uint8(4), uint8(0), int64(0), "web", "", "", "", int64(2), int32(422), StatusReasonInvalid, `Pod "web" is invalid`, "FieldValueRequired", "spec.containers[0].image", false)
	f.Add(uint8(4), uint8(0), int64(0), "", "", "", "", int64(0), int32(429), StatusReasonTooManyRequests, "slow", "", "", false)
	f.Add(uint8(4), uint8(0), int64(0), "", "", "", "", int64(0), int32(0), "", "", "", "", false)
	f.Add(uint8(9), uint8(0), int64(1), "", "", "", "", int64(0), int32(0), "", "", "", "", false)
	f.Fuzz(func(t *testing.T, typ, path uint8, rev int64, name, labelKey, labelValue, data string, count int64, code int32, reason, message, causeType, causeField string, initialEnd bool) {
		types := []EventType{Added, Modified, Deleted, Bookmark, Error}
		if int(typ) >= len(types) {
			// Not an event type: the encoder refuses, writing nothing.
			var buf bytes.Buffer
			if err := EncodeEvent(NewEncoder(&buf), Event[*wireObj]{Type: EventType(fmt.Sprint("T", typ)), Revision: rev}); err == nil || buf.Len() > 0 {
				t.Fatalf("unknown type: err %v, wrote %q", err, buf.String())
			}
			return
		}
		et := types[typ]
		var buf bytes.Buffer
		enc := NewEncoder(&buf, WithBookmarkKind("v1", "Thing"))
		var encErr error
		var wantObj *wireObj
		var wantStatus Status
		switch et {
		case Added, Modified, Deleted:
			wantObj = &wireObj{Kind: "Thing", APIVersion: "v1", Metadata: wireObjMeta{Name: name, ResourceVersion: fmt.Sprint(rev)}, Data: data, Count: count}
			if labelKey != "" {
				wantObj.Metadata.Labels = map[string]string{labelKey: labelValue}
			}
			switch path % 3 {
			case 0:
				encErr = EncodeEvent(enc, Event[*wireObj]{Type: et, Object: wantObj, Revision: rev})
			case 1:
				encErr = EncodeEvent(enc, Event[*Encoded[*wireObj]]{Type: et, Object: NewEncoded(wantObj), Revision: rev})
			default:
				raw, err := json.Marshal(wantObj)
				if err != nil {
					t.Fatal(err)
				}
				encErr = EncodeEvent(enc, Event[json.RawMessage]{Type: et, Object: raw, Revision: rev})
			}
		case Bookmark:
			if initialEnd {
				encErr = enc.Bookmark(rev, true)
			} else {
				encErr = EncodeEvent(enc, Event[*wireObj]{Type: Bookmark, Revision: rev})
			}
			if rev <= 0 {
				if encErr == nil || buf.Len() > 0 {
					t.Fatalf("bookmark at %d: err %v, wrote %q", rev, encErr, buf.String())
				}
				return
			}
		case Error:
			wantStatus = *NewStatus(int(code), reason, message)
			if name != "" || causeType != "" || causeField != "" {
				wantStatus.Details = &StatusDetails{Name: name, Kind: labelKey, Group: labelValue, RetryAfterSeconds: int32(count)}
				if causeType != "" || causeField != "" {
					wantStatus.Details.Causes = []StatusCause{{Type: causeType, Message: data, Field: causeField}}
				}
			}
			if count > 0 {
				n := count
				wantStatus.Metadata.RemainingItemCount = &n
			}
			encErr = EncodeEvent(enc, Event[*wireObj]{Type: Error, Err: &StatusError{Status: wantStatus}})
		}
		if encErr != nil {
			t.Fatalf("encode %s: %v", et, encErr)
		}
		wire := bytes.Clone(buf.Bytes())
		dec := NewDecoder(&buf, 0)
		we, err := dec.Next()
		if err != nil {
			t.Fatalf("decode %q: %v", wire, err)
		}
		if _, err := dec.Next(); !errors.Is(err, io.EOF) {
			t.Fatalf("one event encoded as more than one line: %q (%v)", wire, err)
		}
		if we.Type != et || we.InitialEventsEnd != (et == Bookmark && initialEnd) {
			t.Fatalf("wire event %s (initial-events-end %v), want %s (%v): %q", we.Type, we.InitialEventsEnd, et, initialEnd, wire)
		}
		got, err := DecodeEvent[*wireObj](we)
		if err != nil {
			if et != Error && (rev <= 0) {
				return // not a valid revision: the client refuses it, as it must
			}
			t.Fatalf("DecodeEvent(%q): %v", wire, err)
		}
		if got.Type != et {
			t.Fatalf("type %s, want %s", got.Type, et)
		}
		switch et {
		case Added, Modified, Deleted:
			if got.Revision != rev {
				t.Fatalf("revision %d, want %d", got.Revision, rev)
			}
			if validUTF8(name, labelKey, labelValue, data) {
				if d := cmp.Diff(wantObj, got.Object); d != "" {
					t.Fatalf("object changed on the wire (-sent +received):\n%s", d)
				}
			}
		case Bookmark:
			if got.Revision != rev {
				t.Fatalf("bookmark revision %d, want %d", got.Revision, rev)
			}
		case Error:
			var se *StatusError
			if !errors.As(got.Err, &se) {
				t.Fatalf("ERROR decoded as %v, want a *StatusError", got.Err)
			}
			if validUTF8(reason, message, name, labelKey, labelValue, causeType, causeField, data) {
				if d := cmp.Diff(wantStatus, se.Status); d != "" {
					t.Fatalf("Status changed on the wire (-sent +received):\n%s", d)
				}
			}
			if errors.Is(got.Err, ErrGone) != (code == 410) {
				t.Fatalf("code %d: ErrGone is %v", code, errors.Is(got.Err, ErrGone))
			}
		}
		// Whatever the strings, re-encoding what was decoded gives the
		// same bytes: the client holds exactly what the server sent.
		var again bytes.Buffer
		enc2 := NewEncoder(&again, WithBookmarkKind("v1", "Thing"))
		switch {
		case et == Bookmark && initialEnd:
			err = enc2.Bookmark(got.Revision, true)
		default:
			err = EncodeEvent(enc2, got)
		}
		if err != nil {
			t.Fatalf("re-encoding what was decoded: %v", err)
		}
		all := validUTF8(name, labelKey, labelValue, data, reason, message, causeType, causeField)
		if all && !bytes.Equal(again.Bytes(), wire) {
			t.Fatalf("re-encoding what was decoded:\n got %q\nwant %q", again.Bytes(), wire)
		}
		// (Invalid UTF-8 was written as U+FFFD; from then on it is stable.)
		we2, err := NewDecoder(&again, 0).Next()
		if err != nil {
			t.Fatal(err)
		}
		got2, err := DecodeEvent[*wireObj](we2)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(got, got2, cmp.Comparer(func(a, b error) bool { return StatusFor(a).Message == StatusFor(b).Message })); d != "" {
			t.Fatalf("a second round trip changed the event:\n%s", d)
		}
	})
}

func validUTF8(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}
