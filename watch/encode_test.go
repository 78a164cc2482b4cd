package watch

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pod is a Kubernetes-shaped object for the wire tests.
type pod struct {
	Kind       string  `json:"kind,omitempty"`
	APIVersion string  `json:"apiVersion,omitempty"`
	Metadata   podMeta `json:"metadata"`
	Spec       podSpec `json:"spec"`
}

type podMeta struct {
	Name            string `json:"name"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
}

type podSpec struct {
	Node string `json:"node,omitempty"`
}

func newPod(name string, rev int64) *pod {
	return &pod{Kind: "Pod", APIVersion: "v1", Metadata: podMeta{Name: name, ResourceVersion: fmt.Sprint(rev)}}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	events := []Event[*pod]{
		{Type: Added, Object: newPod("a", 5), Revision: 5},
		{Type: Modified, Object: &pod{Kind: "Pod", APIVersion: "v1", Metadata: podMeta{Name: "a", ResourceVersion: "9"}, Spec: podSpec{Node: "n<1>&"}}, Revision: 9},
		{Type: Bookmark, Revision: 12},
		{Type: Deleted, Object: newPod("a", 15), Revision: 15},
		{Type: Error, Err: &GoneError{Requested: 3, Oldest: 10}},
	}
	var buf bytes.Buffer
	enc := NewEncoder(&buf, WithBookmarkKind("v1", "Pod"))
	for _, e := range events {
		if err := EncodeEvent(enc, e); err != nil {
			t.Fatalf("EncodeEvent(%s): %v", e.Type, err)
		}
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	wantLines := []string{
		`{"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a","resourceVersion":"5"},"spec":{}}}`,
		`{"type":"MODIFIED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a","resourceVersion":"9"},"spec":{"node":"n\u003c1\u003e\u0026"}}}`,
		`{"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"12"}}}`,
		`{"type":"DELETED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a","resourceVersion":"15"},"spec":{}}}`,
		`{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"watch: requested revision is no longer available: asked for revision 3, oldest available is 10","reason":"Expired","code":410}}`,
	}
	if diff := cmp.Diff(wantLines, lines); diff != "" {
		t.Fatalf("wire lines (-want +got):\n%s", diff)
	}

	dec := NewDecoder(&buf, 0)
	for i, want := range events {
		we, err := dec.Next()
		if err != nil {
			t.Fatalf("Next %d: %v", i, err)
		}
		if we.Line != i+1 || we.Type != want.Type {
			t.Fatalf("Next %d: line %d type %s", i, we.Line, we.Type)
		}
		got, err := DecodeEvent[*pod](we)
		if err != nil {
			t.Fatalf("DecodeEvent %d: %v", i, err)
		}
		if want.Type == Error {
			var se *StatusError
			if !errors.As(got.Err, &se) || !errors.Is(got.Err, ErrGone) || se.Status.Code != 410 || se.Status.Reason != StatusReasonExpired {
				t.Fatalf("ERROR decoded as %#v, want a 410 StatusError wrapping ErrGone", got.Err)
			}
			if !strings.Contains(got.Err.Error(), "oldest available is 10") {
				t.Errorf("ERROR message lost: %v", got.Err)
			}
			continue
		}
		if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
			t.Fatalf("event %d (-want +got):\n%s", i, diff)
		}
	}
	if _, err := dec.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last event: %v, want io.EOF", err)
	}
}

func TestEncodeRejectsBadEventsWritingNothing(t *testing.T) {
	type weird struct{ C chan int }
	cases := []struct {
		name string
		enc  func(*Encoder) error
		want string
	}{
		{"unknown type", func(e *Encoder) error { return EncodeEvent(e, Event[*pod]{Type: "CHANGED", Object: newPod("a", 1)}) }, `unknown event type "CHANGED"`},
		{"nil object", func(e *Encoder) error { return EncodeEvent(e, Event[*pod]{Type: Added, Revision: 1}) }, "must encode as a JSON object, got null"},
		{"non-object", func(e *Encoder) error { return EncodeEvent(e, Event[string]{Type: Modified, Object: "x", Revision: 1}) }, `must encode as a JSON object, got "x"`},
		{"unencodable", func(e *Encoder) error { return EncodeEvent(e, Event[weird]{Type: Added, Revision: 1}) }, "unsupported type"},
		{"bookmark without revision", func(e *Encoder) error { return EncodeEvent(e, Event[*pod]{Type: Bookmark}) }, "positive revision"},
		{"error without Err", func(e *Encoder) error { return EncodeEvent(e, Event[*pod]{Type: Error}) }, "has no error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := c.enc(NewEncoder(&buf))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if buf.Len() != 0 {
				t.Fatalf("a failed encode wrote %q", buf.String())
			}
		})
	}
}

func TestEncoderFlush(t *testing.T) {
	rec := httptest.NewRecorder()
	enc := NewEncoder(rec)
	if err := EncodeEvent(enc, Event[*pod]{Type: Added, Object: newPod("a", 1), Revision: 1}); err != nil {
		t.Fatal(err)
	}
	if !rec.Flushed {
		t.Fatal("an http.Flusher was not flushed after the event")
	}

	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	enc = NewEncoder(bw)
	if err := EncodeEvent(enc, Event[*pod]{Type: Bookmark, Revision: 7}); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Fatalf("a bufio.Writer was flushed before Flush: %q", out.String())
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), `{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"7"}}}`+"\n"; got != want {
		t.Fatalf("after Flush: %q, want %q", got, want)
	}
}
