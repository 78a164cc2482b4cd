package watch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/setpoint-dev/setpoint/internal/fastjson"
)

// DefaultMaxLine is the line limit NewDecoder uses when given maxLine <= 0.
const DefaultMaxLine = 4 << 20

// ErrMalformed is wrapped by every error about a malformed wire event.
var ErrMalformed = errors.New("watch: malformed event")

// DecodeError reports a malformed wire event: on which line and what was
// wrong. It wraps ErrMalformed and, when there is one, the underlying JSON
// error.
type DecodeError struct {
	// Line is the 1-based line number; 0 if unknown.
	Line int
	// Frame is the 1-based frame number of a protobuf stream; 0 if unknown
	// or not protobuf.
	Frame int
	// Reason says what was wrong, for example `unknown event type "FOO"`.
	Reason string
	// Err is the underlying error, if any.
	Err error
}

// Error implements the error interface.
func (e *DecodeError) Error() string {
	s := ErrMalformed.Error()
	if e.Line > 0 {
		s += " on line " + strconv.Itoa(e.Line)
	}
	if e.Frame > 0 {
		s += " in frame " + strconv.Itoa(e.Frame)
	}
	s += ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrMalformed and the underlying error.
func (e *DecodeError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrMalformed}
	}
	return []error{ErrMalformed, e.Err}
}

// WireEvent is one decoded line before its object is decoded into a type.
type WireEvent struct {
	// Type is a valid event type.
	Type EventType
	// Object is the event's object: a JSON object, never null.
	Object json.RawMessage
	// Line is the 1-based line the event was read from (0 if not from a
	// Decoder); DecodeEvent names it in errors.
	Line int
	// InitialEventsEnd reports a BOOKMARK whose object carries
	// InitialEventsEndAnnotation: "true" (see Encoder.Bookmark).
	InitialEventsEnd bool
}

// Decoder reads events in the JSON-lines wire encoding written by Encoder.
// Every line must be one event; a malformed line (bad JSON, unknown type,
// missing object, empty line, longer than the limit) is an error naming the
// line. Errors are sticky: once Next fails, it keeps returning the same error.
// A Decoder is not safe for concurrent use.
type Decoder struct {
	r       *bufio.Reader
	maxLine int
	line    int
	buf     []byte
	err     error
}

// NewDecoder returns a decoder that reads from r and rejects lines longer
// than maxLine bytes (DefaultMaxLine if maxLine <= 0).
func NewDecoder(r io.Reader, maxLine int) *Decoder {
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	return &Decoder{r: bufio.NewReaderSize(r, min(maxLine+1, 64<<10)), maxLine: maxLine}
}

// Next returns the next event. At the clean end of the input it returns
// io.EOF; a last line without a trailing newline is still an event. Errors
// about the content are *DecodeError; read errors are returned wrapped.
func (d *Decoder) Next() (WireEvent, error) {
	if d.err != nil {
		return WireEvent{}, d.err
	}
	line, err := d.readLine()
	if err != nil {
		d.err = err
		return WireEvent{}, err
	}
	ev, err := parseLine(line, d.line)
	if err != nil {
		d.err = err
		return WireEvent{}, err
	}
	return ev, nil
}

// readLine returns the next line without its line ending.
func (d *Decoder) readLine() ([]byte, error) {
	d.buf = d.buf[:0]
	for {
		chunk, err := d.r.ReadSlice('\n')
		d.buf = append(d.buf, chunk...)
		content := len(d.buf)
		if err == nil {
			content-- // the newline
		}
		if content > d.maxLine {
			return nil, &DecodeError{Line: d.line + 1, Reason: fmt.Sprintf("line is longer than %d bytes", d.maxLine)}
		}
		switch {
		case err == nil:
			d.line++
			line := d.buf[:len(d.buf)-1]
			return bytes.TrimSuffix(line, []byte("\r")), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(d.buf) == 0 {
				return nil, io.EOF
			}
			d.line++
			return bytes.TrimSuffix(d.buf, []byte("\r")), nil
		default:
			return nil, fmt.Errorf("watch: reading line %d: %w", d.line+1, err)
		}
	}
}

// wireLine is the shape of one line.
type wireLine struct {
	Type   *string         `json:"type"`
	Object json.RawMessage `json:"object"`
}

func parseLine(line []byte, n int) (WireEvent, error) {
	trimmed := bytes.TrimSpace(line)
	if len(trimmed) == 0 {
		return WireEvent{}, &DecodeError{Line: n, Reason: "empty line"}
	}
	if trimmed[0] != '{' {
		return WireEvent{}, &DecodeError{Line: n, Reason: "not a JSON object", Err: syntaxOf(trimmed)}
	}
	var wl wireLine
	if err := json.Unmarshal(trimmed, &wl); err != nil {
		return WireEvent{}, &DecodeError{Line: n, Reason: "bad JSON", Err: err}
	}
	if wl.Type == nil {
		return WireEvent{}, &DecodeError{Line: n, Reason: `missing "type"`}
	}
	t := EventType(*wl.Type)
	if !t.Valid() {
		return WireEvent{}, &DecodeError{Line: n, Reason: fmt.Sprintf("unknown event type %q", *wl.Type)}
	}
	obj := bytes.TrimSpace(wl.Object)
	if len(obj) == 0 || string(obj) == "null" {
		return WireEvent{}, &DecodeError{Line: n, Reason: fmt.Sprintf(`%s event is missing "object"`, t)}
	}
	if obj[0] != '{' {
		return WireEvent{}, &DecodeError{Line: n, Reason: fmt.Sprintf(`%s event: "object" must be a JSON object, got %s`, t, jsonKind(obj[0]))}
	}
	we := WireEvent{Type: t, Object: obj, Line: n}
	if t == Bookmark {
		var b struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		}
		// A malformed bookmark object is DecodeEvent's to report.
		if json.Unmarshal(obj, &b) == nil {
			we.InitialEventsEnd = b.Metadata.Annotations[InitialEventsEndAnnotation] == "true"
		}
	}
	return we, nil
}

// syntaxOf returns the JSON syntax error of b, if it has one.
func syntaxOf(b []byte) error {
	var v any
	return json.Unmarshal(b, &v)
}

// jsonKind names the kind of JSON value that starts with c.
func jsonKind(c byte) string {
	switch c {
	case '"':
		return "a string"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

// objectMeta is the part of an object DecodeEvent reads the revision from.
type objectMeta struct {
	Metadata *struct {
		ResourceVersion *string `json:"resourceVersion"`
	} `json:"metadata"`
}

// DecodeEvent decodes a wire event into a typed event. ADDED, MODIFIED and
// DELETED objects are decoded into T; their Revision, and a BOOKMARK's, is the
// object's metadata.resourceVersion, which must be a positive decimal string.
// An ERROR's Status becomes Err as a *StatusError (a 410 status wraps
// ErrGone). A bookmark's initial-events-end annotation is in the WireEvent
// (InitialEventsEnd). Errors are *DecodeError.
func DecodeEvent[T any](we WireEvent) (Event[T], error) {
	bad := func(reason string, err error) (Event[T], error) {
		return Event[T]{}, &DecodeError{Line: we.Line, Reason: reason, Err: err}
	}
	if !we.Type.Valid() {
		return bad(fmt.Sprintf("unknown event type %q", string(we.Type)), nil)
	}
	obj := bytes.TrimSpace(we.Object)
	if len(obj) == 0 || obj[0] != '{' {
		return bad(fmt.Sprintf(`%s event: "object" must be a JSON object`, we.Type), nil)
	}
	if we.Type == Error {
		var st Status
		if err := json.Unmarshal(obj, &st); err != nil {
			return bad("ERROR event: object is not a Status", err)
		}
		if st.Kind != "Status" {
			return bad(fmt.Sprintf("ERROR event: object kind is %q, want \"Status\"", st.Kind), nil)
		}
		return Event[T]{Type: Error, Err: &StatusError{Status: st}}, nil
	}
	// Checked once here, the object is then decoded twice (its revision,
	// then the whole) with the faster decoder; anything else is left to
	// encoding/json, its errors and its replacement of invalid UTF-8.
	decode := json.Unmarshal
	if utf8.Valid(obj) && json.Valid(obj) {
		decode = fastjson.UnmarshalValid
	}
	rev, err := resourceVersion(obj, decode)
	if err != nil {
		return bad(fmt.Sprintf("%s event: %s", we.Type, err.Error()), nil)
	}
	e := Event[T]{Type: we.Type, Revision: rev}
	if we.Type == Bookmark {
		return e, nil
	}
	if err := decode(obj, &e.Object); err != nil {
		return bad(fmt.Sprintf("%s event: object does not decode", we.Type), err)
	}
	return e, nil
}

// resourceVersion returns, with decode, the object's metadata.resourceVersion as a number.
func resourceVersion(obj []byte, decode func([]byte, any) error) (int64, error) {
	var m objectMeta
	if err := decode(obj, &m); err != nil {
		return 0, fmt.Errorf("object.metadata.resourceVersion: %v", err)
	}
	if m.Metadata == nil || m.Metadata.ResourceVersion == nil {
		return 0, errors.New("object.metadata.resourceVersion is missing")
	}
	s := *m.Metadata.ResourceVersion
	if s == "" || len(s) > 19 {
		return 0, fmt.Errorf("object.metadata.resourceVersion %q is not a positive decimal revision", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("object.metadata.resourceVersion %q is not a positive decimal revision", s)
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("object.metadata.resourceVersion %q is not a positive decimal revision", s)
	}
	return v, nil
}
