package watch

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// counted counts how often it is marshalled.
type counted struct {
	N     *atomic.Int32 `json:"-"`
	Value string        `json:"value"`
}

func (c counted) MarshalJSON() ([]byte, error) {
	c.N.Add(1)
	return json.Marshal(map[string]any{"metadata": map[string]string{"resourceVersion": "7"}, "value": c.Value})
}

// TestEncodedIsMarshalledOnce: however many goroutines encode an event whose
// object is *Encoded, the object is marshalled once and every encoder writes
// the same bytes.
func TestEncodedIsMarshalledOnce(t *testing.T) {
	var n atomic.Int32
	e := NewEncoded(counted{N: &n, Value: "x<y"})
	const writers = 16
	outs := make([]bytes.Buffer, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			if err := EncodeEvent(NewEncoder(&outs[i]), Event[*Encoded[counted]]{Type: Added, Object: e, Revision: 7}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := n.Load(); got != 1 {
		t.Fatalf("marshalled %d times, want once", got)
	}
	for i := range outs {
		if outs[i].String() != outs[0].String() {
			t.Fatalf("writer %d wrote %q, writer 0 %q", i, outs[i].String(), outs[0].String())
		}
	}
	if want := `{"type":"ADDED","object":{"metadata":{"resourceVersion":"7"},"value":"x\u003cy"}}` + "\n"; outs[0].String() != want {
		t.Fatalf("wrote %q, want %q", outs[0].String(), want)
	}
	// An *Encoded marshals as its object, too.
	if b, err := json.Marshal(e); err != nil || !strings.Contains(string(b), `"value":"x\u003cy"`) {
		t.Fatalf("json.Marshal(*Encoded) = %s, %v", b, err)
	}
}

// preEncoded is a PreEncoded with fixed bytes.
type preEncoded struct {
	raw   string
	err   error
	calls *atomic.Int32
}

func (p preEncoded) EncodedJSON() ([]byte, error) {
	p.calls.Add(1)
	return []byte(p.raw), p.err
}

// TestEncoderRawFastPath: pre-encoded objects and json.RawMessage are
// written byte for byte, without marshalling; one that is not a JSON object,
// or fails, writes nothing.
func TestEncoderRawFastPath(t *testing.T) {
	var calls atomic.Int32
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	raw := `{"kind":"Pod","metadata":{"resourceVersion":"3"},"spec":{"b":1,  "a":2}}`
	if err := EncodeEvent(enc, Event[preEncoded]{Type: Modified, Object: preEncoded{raw: raw, calls: &calls}, Revision: 3}); err != nil {
		t.Fatal(err)
	}
	if err := EncodeEvent(enc, Event[json.RawMessage]{Type: Deleted, Object: json.RawMessage(" " + raw + "\n"), Revision: 3}); err != nil {
		t.Fatal(err)
	}
	want := `{"type":"MODIFIED","object":` + raw + "}\n" + `{"type":"DELETED","object":` + raw + "}\n"
	if buf.String() != want || calls.Load() != 1 {
		t.Fatalf("wrote %q (%d calls), want %q", buf.String(), calls.Load(), want)
	}
	for _, bad := range []Event[preEncoded]{
		{Type: Added, Object: preEncoded{raw: `["not","an","object"]`, calls: &calls}, Revision: 4},
		{Type: Added, Object: preEncoded{raw: ``, calls: &calls}, Revision: 4},
		{Type: Added, Object: preEncoded{err: errors.New("boom"), calls: &calls}, Revision: 4},
	} {
		buf.Reset()
		if err := EncodeEvent(enc, bad); err == nil || buf.Len() != 0 {
			t.Errorf("EncodeEvent(%q, %v) = %v, wrote %q; want an error and nothing written", bad.Object.raw, bad.Object.err, err, buf.String())
		}
	}
	buf.Reset()
	var nilEncoded *Encoded[*pod]
	if err := EncodeEvent(enc, Event[*Encoded[*pod]]{Type: Added, Object: nilEncoded, Revision: 4}); err == nil || buf.Len() != 0 {
		t.Fatalf("nil *Encoded: %v, wrote %q", err, buf.String())
	}
}

// TestInitialEventsEndBookmark: the bookmark that ends a watch's initial
// events carries the annotation, and the decoder reports it; other
// bookmarks do not.
func TestInitialEventsEndBookmark(t *testing.T) {
	var buf bytes.Buffer
	enc := NewEncoder(&buf, WithBookmarkKind("v1", "Pod"))
	if err := enc.Bookmark(12, true); err != nil {
		t.Fatal(err)
	}
	if err := EncodeEvent(enc, Event[*pod]{Type: Bookmark, Revision: 13}); err != nil {
		t.Fatal(err)
	}
	want := `{"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"12","annotations":{"k8s.io/initial-events-end":"true"}}}}` + "\n" +
		`{"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"13"}}}` + "\n"
	if buf.String() != want {
		t.Fatalf("wrote\n%s\nwant\n%s", buf.String(), want)
	}
	buf.WriteString(`{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"14","annotations":{"k8s.io/initial-events-end":"false"}}}}` + "\n")
	dec := NewDecoder(&buf, 0)
	for i, end := range []bool{true, false, false} {
		we, err := dec.Next()
		if err != nil {
			t.Fatal(err)
		}
		ev, err := DecodeEvent[*pod](we)
		if err != nil || we.InitialEventsEnd != end || ev.Revision != int64(12+i) {
			t.Fatalf("bookmark %d: initial-events-end %v at %d (%v), want %v at %d", i, we.InitialEventsEnd, ev.Revision, err, end, 12+i)
		}
	}
	if err := enc.Bookmark(0, true); err == nil {
		t.Fatal("a bookmark at revision 0 was accepted")
	}
}

// TestStatusShape: the one Status type has Kubernetes' metav1.Status JSON
// shape, including details and causes, and its errors map to the sentinels.
func TestStatusShape(t *testing.T) {
	s := NewStatus(404, StatusReasonNotFound, `pods "x" not found`)
	s.Details = &StatusDetails{Name: "x", Kind: "pods", Causes: []StatusCause{{Type: "FieldValueRequired", Message: "Required value", Field: "spec.x"}}, RetryAfterSeconds: 2}
	b, _ := json.Marshal(s)
	want := `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"pods","causes":[{"reason":"FieldValueRequired","message":"Required value","field":"spec.x"}],"retryAfterSeconds":2},"code":404}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	if NewStatus(201, "", "").Status != StatusSuccess {
		t.Fatal("a 2xx status is Success")
	}
	for _, c := range []struct {
		err  *StatusError
		want error
	}{
		{NewStatusError(410, StatusReasonGone, "gone"), ErrGone},
		{NewStatusError(429, StatusReasonTooManyRequests, "slow"), ErrTooSlow},
		{NewStatusError(503, StatusReasonServiceUnavailable, "down"), ErrClosed},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%v does not wrap %v", c.err, c.want)
		}
	}
	if err := NewStatusError(429, "Throttled", "x"); errors.Is(err, ErrTooSlow) {
		t.Error("a 429 that is not TooManyRequests means ErrTooSlow")
	}
	if got := NewStatusError(403, StatusReasonForbidden, "no").Error(); got != "Forbidden: no" {
		t.Errorf("Error() = %q", got)
	}
}

// TestStreamAfterClose: the functions registered with AfterClose run once,
// with the end reason, when the producer closes the stream (at once when it
// already is), even while the consumer is not reading.
func TestStreamAfterClose(t *testing.T) {
	s := NewStream[int](1)
	s.TrySend(Event[int]{Type: Added, Revision: 1}) // never read
	var got []error
	s.AfterClose(func(err error) { got = append(got, err) })
	s.AfterClose(func(err error) { got = append(got, err) })
	if len(got) != 0 {
		t.Fatal("ran before the stream closed")
	}
	s.Close(ErrTooSlow)
	s.Close(ErrClosed) // a second Close runs nothing
	s.AfterClose(func(err error) { got = append(got, err) })
	if len(got) != 3 || !errors.Is(got[0], ErrTooSlow) || !errors.Is(got[2], ErrTooSlow) {
		t.Fatalf("got %v", got)
	}
}
