package watch

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/setpoint-dev/setpoint/internal/pbwire"
)

// InitialEventsEndAnnotation marks the bookmark that ends the initial events
// of a watch that asked for them (Kubernetes' sendInitialEvents=true): its
// object carries the annotation with the value "true".
const InitialEventsEndAnnotation = "k8s.io/initial-events-end"

// Encoder writes watch events in the JSON-lines wire encoding, one event per
// line:
//
//	{"type":"ADDED","object":{...}}
//
// or, WithProtobuf, in Kubernetes' protobuf watch encoding
// (MediaTypeProtobufWatch): each event is a frame of a 4-byte big-endian
// length and a meta/v1 WatchEvent message (no envelope of its own),
//
//	message WatchEvent { string type = 1; RawExtension object = 2; }
//	message RawExtension { bytes raw = 1; }
//
// whose object is in the protobuf envelope (see Envelope): a
// ProtobufObject as given, a Status, or a bookmark object.
//
// ERROR events carry a Status object (StatusFor, or WithStatusFunc's
// mapping); BOOKMARK events carry an object with only
// metadata.resourceVersion (and kind and apiVersion when WithBookmarkKind is
// given, and the InitialEventsEndAnnotation for Encoder.Bookmark's initial
// events end). An object that is already encoded (a PreEncoded such as
// *Encoded, or a json.RawMessage) is written as is, without re-marshalling.
// Each event is written with a single Write, so a failed encode writes
// nothing. If the writer is an http.Flusher it is flushed after every event,
// unless WithoutFlush is given. In protobuf mode, objects must be
// ProtobufObject values (already enveloped, such as a shared
// Encoded.As result); anything else fails, writing nothing.
//
// An Encoder is not safe for concurrent use.
type Encoder struct {
	w       io.Writer
	flusher http.Flusher
	opts    encoderOptions
	buf     bytes.Buffer
	obj     bytes.Buffer
	json    *json.Encoder
	frame   []byte // protobuf mode
}

// EncoderOption configures an Encoder.
type EncoderOption func(*encoderOptions)

type encoderOptions struct {
	apiVersion, kind string
	status           func(error) Status
	noFlush          bool
	protobuf         bool
}

// WithBookmarkKind sets the apiVersion and kind written in bookmark objects,
// as Kubernetes does (a bookmark object is the watched type with only its
// resourceVersion set).
func WithBookmarkKind(apiVersion, kind string) EncoderOption {
	return func(o *encoderOptions) { o.apiVersion, o.kind = apiVersion, kind }
}

// WithStatusFunc sets how an ERROR event's error becomes its Status (default
// StatusFor), for a server that maps its own errors (such as the store's) to
// codes.
func WithStatusFunc(fn func(error) Status) EncoderOption {
	return func(o *encoderOptions) { o.status = fn }
}

// WithoutFlush leaves flushing to the caller (see Encoder.Flush), so that a
// burst of events goes out in one write to the network.
func WithoutFlush() EncoderOption {
	return func(o *encoderOptions) { o.noFlush = true }
}

// WithProtobuf writes Kubernetes' protobuf watch encoding (length-prefixed
// WatchEvent frames, MediaTypeProtobufWatch) instead of JSON lines.
func WithProtobuf() EncoderOption {
	return func(o *encoderOptions) { o.protobuf = true }
}

// ProtobufObject is an event object already in Kubernetes' protobuf
// encoding, envelope included (see Envelope), which an Encoder in protobuf
// mode writes as is.
type ProtobufObject []byte

// NewEncoder returns an encoder that writes to w.
func NewEncoder(w io.Writer, opts ...EncoderOption) *Encoder {
	enc := &Encoder{w: w}
	for _, opt := range opts {
		opt(&enc.opts)
	}
	if !enc.opts.noFlush {
		enc.flusher, _ = w.(http.Flusher)
	}
	if enc.opts.status == nil {
		enc.opts.status = StatusFor
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

// PreEncoded is implemented by event objects that carry their own JSON
// encoding (see Encoded): the Encoder writes EncodedJSON's bytes as the
// event's object without marshalling it again. The bytes must be one JSON
// object.
type PreEncoded interface {
	EncodedJSON() ([]byte, error)
}

// bookmarkObject is the object of a BOOKMARK event on the wire.
type bookmarkObject struct {
	Kind       string       `json:"kind,omitempty"`
	APIVersion string       `json:"apiVersion,omitempty"`
	Metadata   bookmarkMeta `json:"metadata"`
}

type bookmarkMeta struct {
	ResourceVersion string            `json:"resourceVersion"`
	Annotations     map[string]string `json:"annotations,omitempty"`
}

// EncodeEvent writes e as one line. It fails, writing nothing, if e's type is
// not valid, an ADDED, MODIFIED or DELETED object does not encode as a JSON
// object, a BOOKMARK has no positive Revision, or an ERROR has no Err.
func EncodeEvent[T any](enc *Encoder, e Event[T]) error {
	switch e.Type {
	case Added, Modified, Deleted:
		return enc.object(e.Type, e.Revision, any(e.Object))
	case Bookmark:
		return enc.Bookmark(e.Revision, false)
	case Error:
		if e.Err == nil {
			return fmt.Errorf("watch: encode: ERROR event has no error")
		}
		st := enc.opts.status(e.Err)
		return enc.object(Error, 0, &st)
	}
	return fmt.Errorf("watch: encode: unknown event type %q", string(e.Type))
}

// Bookmark writes a BOOKMARK event at rev; with initialEventsEnd, its object
// carries InitialEventsEndAnnotation: "true", which ends the initial events
// of a watch that asked for them. It fails, writing nothing, unless rev is
// positive.
func (enc *Encoder) Bookmark(rev int64, initialEventsEnd bool) error {
	if rev <= 0 {
		return fmt.Errorf("watch: encode: BOOKMARK event needs a positive revision, got %d", rev)
	}
	b := bookmarkObject{Kind: enc.opts.kind, APIVersion: enc.opts.apiVersion}
	b.Metadata.ResourceVersion = strconv.FormatInt(rev, 10)
	if initialEventsEnd {
		b.Metadata.Annotations = map[string]string{InitialEventsEndAnnotation: "true"}
	}
	return enc.object(Bookmark, rev, &b)
}

// object writes one event whose object is v.
func (enc *Encoder) object(typ EventType, rev int64, v any) error {
	if enc.opts.protobuf {
		return enc.protoObject(typ, rev, v)
	}
	var obj []byte
	switch o := v.(type) {
	case PreEncoded:
		raw, err := o.EncodedJSON()
		if err != nil {
			return fmt.Errorf("watch: encode %s event at revision %d: %w", typ, rev, err)
		}
		obj = raw
	case json.RawMessage:
		obj = bytes.TrimSpace(o)
	default:
		enc.obj.Reset()
		if err := enc.json.Encode(v); err != nil {
			return fmt.Errorf("watch: encode %s event at revision %d: %w", typ, rev, err)
		}
		obj = bytes.TrimRight(enc.obj.Bytes(), "\n")
	}
	if len(obj) == 0 || obj[0] != '{' {
		return fmt.Errorf("watch: encode %s event at revision %d: object must encode as a JSON object, got %.20s", typ, rev, obj)
	}
	enc.buf.Reset()
	enc.buf.WriteString(`{"type":"`)
	enc.buf.WriteString(string(typ))
	enc.buf.WriteString(`","object":`)
	enc.buf.Write(obj)
	enc.buf.WriteString("}\n")
	if _, err := enc.w.Write(enc.buf.Bytes()); err != nil {
		return fmt.Errorf("watch: write %s event at revision %d: %w", typ, rev, err)
	}
	if enc.flusher != nil {
		enc.flusher.Flush()
	}
	return nil
}

// protoObject writes one protobuf frame whose object is v.
func (enc *Encoder) protoObject(typ EventType, rev int64, v any) error {
	var obj []byte
	switch o := v.(type) {
	case ProtobufObject:
		obj = o
	case *Status:
		obj = o.MarshalProtobuf()
	case *bookmarkObject:
		obj = AppendRawEnvelope(nil, o.APIVersion, o.Kind, appendBookmarkRaw(nil, rev, o.Metadata.Annotations))
	default:
		return fmt.Errorf("watch: encode %s event at revision %d: %T has no protobuf encoding", typ, rev, v)
	}
	if !bytes.HasPrefix(obj, []byte(ProtobufPrefix)) {
		return fmt.Errorf("watch: encode %s event at revision %d: object is not in the protobuf envelope", typ, rev)
	}
	ext := pbwire.SizeBytes(1, len(obj))
	size := pbwire.SizeBytes(1, len(typ)) + pbwire.SizeBytes(2, ext)
	if size > math.MaxUint32 {
		return fmt.Errorf("watch: encode %s event at revision %d: %d bytes is too large for a frame", typ, rev, size)
	}
	b := binary.BigEndian.AppendUint32(enc.frame[:0], uint32(size))
	b = pbwire.AppendStringAlways(b, 1, string(typ))
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(ext))
	b = pbwire.AppendBytes(b, 1, obj)
	if cap(b) <= 64<<10 {
		enc.frame = b // keep small buffers for the next event
	}
	if _, err := enc.w.Write(b); err != nil {
		return fmt.Errorf("watch: write %s event at revision %d: %w", typ, rev, err)
	}
	if enc.flusher != nil {
		enc.flusher.Flush()
	}
	return nil
}
