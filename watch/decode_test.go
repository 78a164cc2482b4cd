package watch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

const (
	goodAdded    = `{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"5"}}}`
	goodBookmark = `{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"8"}}}`
)

func TestDecoderRejectsMalformedLines(t *testing.T) {
	cases := []struct {
		name, line, want string
	}{
		{"not JSON", `hello`, `not a JSON object: invalid character 'h'`},
		{"truncated", `{"type":"ADDED","object":{}`, "bad JSON: unexpected end of JSON input"},
		{"trailing data", `{"type":"ADDED","object":{}} x`, "bad JSON: invalid character 'x' after top-level value"},
		{"array", `[1,2]`, "not a JSON object"},
		{"unknown type", `{"type":"CHANGED","object":{}}`, `unknown event type "CHANGED"`},
		{"lower-case type", `{"type":"added","object":{}}`, `unknown event type "added"`},
		{"type not a string", `{"type":1,"object":{}}`, "bad JSON: json: cannot unmarshal number"},
		{"missing type", `{"object":{}}`, `missing "type"`},
		{"missing object", `{"type":"ADDED"}`, `ADDED event is missing "object"`},
		{"null object", `{"type":"DELETED","object":null}`, `DELETED event is missing "object"`},
		{"string object", `{"type":"MODIFIED","object":"x"}`, `"object" must be a JSON object, got a string`},
		{"array object", `{"type":"ERROR","object":[]}`, `"object" must be a JSON object, got an array`},
		{"empty line", ``, "empty line"},
		{"blank line", " \t", "empty line"},
		{"too long", `{"type":"ADDED","object":{"pad":"` + strings.Repeat("x", 200) + `"}}`, "line is longer than 100 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			input := goodAdded + "\n" + goodBookmark + "\n" + c.line + "\n" + goodAdded + "\n"
			maxLine := 0
			if c.name == "too long" {
				maxLine = 100
			}
			dec := NewDecoder(strings.NewReader(input), maxLine)
			if maxLine == 0 {
				for i := range 2 {
					if _, err := dec.Next(); err != nil {
						t.Fatalf("good line %d: %v", i+1, err)
					}
				}
			} else {
				dec = NewDecoder(strings.NewReader(c.line+"\n"+goodAdded+"\n"), maxLine)
			}
			_, err := dec.Next()
			var de *DecodeError
			if !errors.As(err, &de) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Next on %q: %v, want a *DecodeError", c.line, err)
			}
			wantLine := 3
			if maxLine != 0 {
				wantLine = 1
			}
			if de.Line != wantLine || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q (line %d), want line %d and %q", err, de.Line, wantLine, c.want)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("line %d:", wantLine)) {
				t.Errorf("error %q does not name the line", err)
			}
			// Errors are sticky: the stream is not resumed past a bad line.
			if _, err2 := dec.Next(); err2 != err {
				t.Errorf("Next after an error: %v, want the same error", err2)
			}
		})
	}
}

func TestDecodeEventRejectsBadObjects(t *testing.T) {
	cases := []struct {
		name, line, want string
	}{
		{"no resourceVersion", `{"type":"ADDED","object":{"metadata":{"name":"a"}}}`, "object.metadata.resourceVersion is missing"},
		{"no metadata", `{"type":"BOOKMARK","object":{}}`, "object.metadata.resourceVersion is missing"},
		{"numeric resourceVersion", `{"type":"MODIFIED","object":{"metadata":{"resourceVersion":5}}}`, "object.metadata.resourceVersion: json: cannot unmarshal number"},
		{"signed resourceVersion", `{"type":"MODIFIED","object":{"metadata":{"resourceVersion":"+5"}}}`, `"+5" is not a positive decimal revision`},
		{"zero resourceVersion", `{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"0"}}}`, `"0" is not a positive decimal revision`},
		{"huge resourceVersion", `{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"99999999999999999999"}}}`, "not a positive decimal revision"},
		{"wrong shape", `{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"3"},"spec":"x"}}`, "ADDED event: object does not decode: json: cannot unmarshal string"},
		{"error not a Status", `{"type":"ERROR","object":{"kind":"Pod"}}`, `ERROR event: object kind is "Pod", want "Status"`},
		{"error bad Status", `{"type":"ERROR","object":{"kind":"Status","code":"x"}}`, "ERROR event: object is not a Status"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dec := NewDecoder(strings.NewReader(goodAdded+"\n"+c.line+"\n"), 0)
			if _, err := dec.Next(); err != nil {
				t.Fatal(err)
			}
			we, err := dec.Next()
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			ev, err := DecodeEvent[*pod](we)
			var de *DecodeError
			if !errors.As(err, &de) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeEvent: %v (event %+v), want a *DecodeError", err, ev)
			}
			if de.Line != 2 || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want line 2 and %q", err, c.want)
			}
		})
	}
	if _, err := DecodeEvent[*pod](WireEvent{Type: "NOPE", Object: json.RawMessage(`{}`)}); !errors.Is(err, ErrMalformed) {
		t.Errorf("DecodeEvent with a bad type: %v", err)
	}
	if _, err := DecodeEvent[*pod](WireEvent{Type: Added}); !errors.Is(err, ErrMalformed) {
		t.Errorf("DecodeEvent without an object: %v", err)
	}
}

func TestDecoderLineEndings(t *testing.T) {
	input := goodAdded + "\r\n" + goodBookmark // CRLF, and no newline at the end
	dec := NewDecoder(iotest.OneByteReader(strings.NewReader(input)), 0)
	var revs []int64
	for {
		we, err := dec.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ev, err := DecodeEvent[*pod](we)
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, ev.Revision)
	}
	if len(revs) != 2 || revs[0] != 5 || revs[1] != 8 {
		t.Fatalf("revisions %v, want [5 8]", revs)
	}
	if _, err := NewDecoder(strings.NewReader(""), 0).Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("empty input: %v, want io.EOF", err)
	}
	readErr := errors.New("connection reset")
	dec = NewDecoder(io.MultiReader(strings.NewReader(goodAdded+"\n"), iotest.ErrReader(readErr)), 0)
	if _, err := dec.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := dec.Next(); !errors.Is(err, readErr) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("read error: %v, want it wrapped with the line", err)
	}
}

func TestStatusMapping(t *testing.T) {
	cases := []struct {
		err    error
		code   int32
		reason string
		is     error
	}{
		{&GoneError{Requested: 1, Oldest: 2}, 410, StatusReasonExpired, ErrGone},
		{ErrTooSlow, 429, StatusReasonTooManyRequests, ErrTooSlow},
		{ErrClosed, 503, StatusReasonServiceUnavailable, ErrClosed},
		{errors.New("disk on fire"), 500, StatusReasonInternalError, nil},
	}
	for _, c := range cases {
		st := StatusFor(c.err)
		if st.Code != c.code || st.Reason != c.reason || st.Kind != "Status" || st.APIVersion != "v1" || st.Status != "Failure" || st.Message != c.err.Error() {
			t.Errorf("StatusFor(%v) = %+v", c.err, st)
		}
		se := &StatusError{Status: st}
		got := se.Unwrap()
		if (c.is == nil && len(got) != 0) || (c.is != nil && (len(got) != 1 || got[0] != c.is)) {
			t.Errorf("StatusError{%d %s}.Unwrap() = %v, want %v", c.code, c.reason, got, c.is)
		}
		if again := StatusFor(se); again != st {
			t.Errorf("StatusFor(StatusError) = %+v, want the same Status back", again)
		}
	}
	// Err is wrapped too, next to the code's sentinel.
	cause := errors.New("cause")
	if se := (&StatusError{Status: *NewStatus(410, StatusReasonGone, "x"), Err: cause}); !errors.Is(se, ErrGone) || !errors.Is(se, cause) {
		t.Errorf("a StatusError with Err unwraps to %v", se.Unwrap())
	}
	// A Kubernetes server's 410 with reason Gone also means relist.
	var buf bytes.Buffer
	buf.WriteString(`{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 5 (9)","reason":"Gone","code":410}}` + "\n")
	we, err := NewDecoder(&buf, 0).Next()
	if err != nil {
		t.Fatal(err)
	}
	ev, err := DecodeEvent[*pod](we)
	if err != nil || ev.Type != Error || !errors.Is(ev.Err, ErrGone) || !strings.Contains(ev.Err.Error(), "too old resource version") {
		t.Fatalf("410 Gone decoded as %+v, %v", ev, err)
	}
}

// FuzzDecoder checks that the decoder never panics, returns every line either
// as an event or as an error naming it (never skipping one), and that what it
// accepts re-encodes to an equivalent event.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte(goodAdded + "\n" + goodBookmark + "\n"))
	f.Add([]byte(`{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"gone","reason":"Expired","code":410}}`))
	f.Add([]byte(`{"type":"DELETED","object":{"kind":"Pod","metadata":{"name":"b","resourceVersion":"12"},"spec":{"node":"n1"}}}` + "\r\n"))
	f.Add([]byte("\n\n"))
	f.Add([]byte(`{"type":"ADDED","object":{}`))
	f.Add([]byte(`{"type":"ADDED"}`))
	f.Add([]byte(`{"type":"X","object":{}}`))
	f.Add([]byte(`{"type":"MODIFIED","object":{"metadata":{"resourceVersion":"+5"}}}`))
	f.Add([]byte(`[{"type":"ADDED"}]`))
	f.Add([]byte(`{"type":"ADDED","object":{"metadata":{"resourceVersion":"1"}},"type":"BOGUS"}`))
	f.Add([]byte("\xff\xfe{\"type\""))
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := NewDecoder(bytes.NewReader(data), 512)
		events := 0
		var end error
		for {
			we, err := dec.Next()
			if err != nil {
				end = err
				break
			}
			events++
			if we.Line != events {
				t.Fatalf("event %d came from line %d: a line was skipped", events, we.Line)
			}
			if !we.Type.Valid() || len(we.Object) == 0 || we.Object[0] != '{' || !json.Valid(we.Object) {
				t.Fatalf("Next accepted a bad event: %s %q", we.Type, we.Object)
			}
			ev, err := DecodeEvent[*pod](we)
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("DecodeEvent error %v does not wrap ErrMalformed", err)
				}
				continue
			}
			if _, err := DecodeEvent[map[string]any](we); err != nil && ev.Type != Error {
				t.Fatalf("decodes as *pod but not as a map: %v", err)
			}
			checkReencode(t, ev)
		}
		if errors.Is(end, io.EOF) {
			lines := bytes.Count(data, []byte("\n"))
			if len(data) > 0 && data[len(data)-1] != '\n' {
				lines++
			}
			if events != lines {
				t.Fatalf("%d lines but %d events and a clean end", lines, events)
			}
			return
		}
		var de *DecodeError
		if !errors.As(end, &de) || de.Line != events+1 {
			t.Fatalf("Next ended with %v after %d events; want a DecodeError for line %d", end, events, events+1)
		}
	})
}

// checkReencode encodes ev and decodes it again, expecting the same event.
func checkReencode(t *testing.T, ev Event[*pod]) {
	t.Helper()
	var buf bytes.Buffer
	if ev.Type != Bookmark && ev.Type != Error && ev.Object == nil {
		t.Fatalf("decoded %s event has no object", ev.Type)
	}
	if err := EncodeEvent(NewEncoder(&buf), ev); err != nil {
		t.Fatalf("re-encoding %+v: %v", ev, err)
	}
	we, err := NewDecoder(&buf, 0).Next()
	if err != nil {
		t.Fatalf("decoding re-encoded %q: %v", buf.String(), err)
	}
	again, err := DecodeEvent[*pod](we)
	if err != nil {
		t.Fatalf("decoding re-encoded %q: %v", buf.String(), err)
	}
	if again.Type != ev.Type || again.Revision != ev.Revision {
		t.Fatalf("re-encoded %s@%d came back as %s@%d", ev.Type, ev.Revision, again.Type, again.Revision)
	}
	if ev.Type == Error {
		if StatusFor(again.Err) != StatusFor(ev.Err) {
			t.Fatalf("status changed in a round trip: %+v vs %+v", StatusFor(ev.Err), StatusFor(again.Err))
		}
	} else if ev.Object != nil && *again.Object != *ev.Object {
		t.Fatalf("object changed in a round trip: %+v vs %+v", *ev.Object, *again.Object)
	}
}
