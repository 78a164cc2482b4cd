package watch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// Encoder writes watch events in the JSON-lines wire encoding, one event per
// line:
//
//	{"type":"ADDED","object":{...}}
//
// ERROR events carry a Status object (see StatusFor); BOOKMARK events carry
// an object with only metadata.resourceVersion (and kind and apiVersion when
// WithBookmarkKind is given). Each event is written with a single Write, so a
// failed encode writes nothing. If the writer is an http.Flusher it is flushed
// after every event, so a watching client sees each event at once.
//
// An Encoder is not safe for concurrent use.
type Encoder struct {
	w       io.Writer
	flusher http.Flusher
	opts    encoderOptions
	buf     bytes.Buffer
	obj     bytes.Buffer
	json    *json.Encoder
}

// EncoderOption configures an Encoder.
type EncoderOption func(*encoderOptions)

type encoderOptions struct {
	apiVersion, kind string
}

// WithBookmarkKind sets the apiVersion and kind written in bookmark objects,
// as Kubernetes does (a bookmark object is the watched type with only its
// resourceVersion set).
func WithBookmarkKind(apiVersion, kind string) EncoderOption {
	return func(o *encoderOptions) { o.apiVersion, o.kind = apiVersion, kind }
}

// NewEncoder returns an encoder that writes to w.
func NewEncoder(w io.Writer, opts ...EncoderOption) *Encoder {
	enc := &Encoder{w: w}
	enc.flusher, _ = w.(http.Flusher)
	for _, opt := range opts {
		opt(&enc.opts)
	}
	enc.json = json.NewEncoder(&enc.obj)
	return enc
}

// Flush flushes the underlying writer if it is an http.Flusher or has a
// Flush() error method (such as *bufio.Writer); otherwise it does nothing.
func (enc *Encoder) Flush() error {
	switch f := enc.w.(type) {
	case http.Flusher:
		f.Flush()
	case interface{ Flush() error }:
		return f.Flush()
	}
	return nil
}

// bookmarkObject is the object of a BOOKMARK event on the wire.
type bookmarkObject struct {
	Kind       string `json:"kind,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
	Metadata   struct {
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
}

// EncodeEvent writes e as one line. It fails, writing nothing, if e's type is
// not valid, an ADDED, MODIFIED or DELETED object does not encode as a JSON
// object, a BOOKMARK has no positive Revision, or an ERROR has no Err.
func EncodeEvent[T any](enc *Encoder, e Event[T]) error {
	if !e.Type.Valid() {
		return fmt.Errorf("watch: encode: unknown event type %q", string(e.Type))
	}
	enc.obj.Reset()
	var v any
	switch e.Type {
	case Added, Modified, Deleted:
		v = e.Object
	case Bookmark:
		if e.Revision <= 0 {
			return fmt.Errorf("watch: encode: BOOKMARK event needs a positive revision, got %d", e.Revision)
		}
		b := bookmarkObject{Kind: enc.opts.kind, APIVersion: enc.opts.apiVersion}
		b.Metadata.ResourceVersion = strconv.FormatInt(e.Revision, 10)
		v = &b
	case Error:
		if e.Err == nil {
			return fmt.Errorf("watch: encode: ERROR event has no error")
		}
		st := StatusFor(e.Err)
		v = &st
	}
	if err := enc.json.Encode(v); err != nil {
		return fmt.Errorf("watch: encode %s event at revision %d: %w", e.Type, e.Revision, err)
	}
	obj := bytes.TrimRight(enc.obj.Bytes(), "\n")
	if len(obj) == 0 || obj[0] != '{' {
		return fmt.Errorf("watch: encode %s event at revision %d: object must encode as a JSON object, got %.20s", e.Type, e.Revision, obj)
	}
	enc.buf.Reset()
	enc.buf.WriteString(`{"type":"`)
	enc.buf.WriteString(string(e.Type))
	enc.buf.WriteString(`","object":`)
	enc.buf.Write(obj)
	enc.buf.WriteString("}\n")
	if _, err := enc.w.Write(enc.buf.Bytes()); err != nil {
		return fmt.Errorf("watch: write %s event at revision %d: %w", e.Type, e.Revision, err)
	}
	if enc.flusher != nil {
		enc.flusher.Flush()
	}
	return nil
}
