package watch

import (
	"bytes"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/setpoint-dev/setpoint/internal/pbwire"
)

// Media types of the two Kubernetes wire encodings.
const (
	// MediaTypeJSON is JSON: objects, lists and Status as JSON objects,
	// watch streams as one JSON event per line.
	MediaTypeJSON = "application/json"
	// MediaTypeProtobuf is Kubernetes' protobuf encoding: every object in
	// the envelope (ProtobufPrefix, then a runtime.Unknown message).
	MediaTypeProtobuf = "application/vnd.kubernetes.protobuf"
	// MediaTypeProtobufWatch is the Content-Type of a protobuf watch
	// stream: length-prefixed WatchEvent frames (see Encoder).
	MediaTypeProtobufWatch = MediaTypeProtobuf + ";stream=watch"
)

// ProtobufPrefix starts every object in Kubernetes' protobuf encoding:
// "k8s" and a zero byte.
const ProtobufPrefix = "k8s\x00"

// ProtoMessage is a type with Kubernetes-style generated protobuf methods
// (the gogo-protobuf shape): Size returns the length of the encoding and
// MarshalToSizedBuffer writes it to the end of a buffer of at least that
// length, returning how many bytes it wrote.
type ProtoMessage interface {
	Size() int
	MarshalToSizedBuffer(b []byte) (int, error)
}

// Envelope is the message that wraps every object in Kubernetes' protobuf
// encoding (runtime.Unknown): the object's apiVersion and kind, then its
// own protobuf encoding (which carries no type information).
//
//	message Unknown { TypeMeta typeMeta = 1; bytes raw = 2; string contentEncoding = 3; string contentType = 4; }
//	message TypeMeta { string apiVersion = 1; string kind = 2; }
type Envelope struct {
	// APIVersion and Kind name the object's type, e.g. "apps/v1" and
	// "Deployment".
	APIVersion, Kind string
	// Raw is the object's protobuf encoding.
	Raw []byte
	// ContentEncoding and ContentType are empty for objects (Kubernetes
	// writes them as empty strings).
	ContentEncoding, ContentType string
}

// AppendEnvelope appends the envelope of the message m (prefix included)
// to b, in one pass: m writes its encoding straight into place.
func AppendEnvelope(b []byte, apiVersion, kind string, m ProtoMessage) ([]byte, error) {
	return appendEnvelope(b, apiVersion, kind, m.Size(), m)
}

// MarshalEnvelope returns the envelope of m in a buffer of exactly the
// right size.
func MarshalEnvelope(apiVersion, kind string, m ProtoMessage) ([]byte, error) {
	size := m.Size()
	return appendEnvelope(make([]byte, 0, EnvelopeSize(apiVersion, kind, size)), apiVersion, kind, size, m)
}

func appendEnvelope(b []byte, apiVersion, kind string, size int, m ProtoMessage) ([]byte, error) {
	b = append(b, ProtobufPrefix...)
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(typeMetaSize(apiVersion, kind)))
	b = appendTypeMeta(b, apiVersion, kind)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	start := len(b)
	b = append(b, make([]byte, size)...)
	n, err := m.MarshalToSizedBuffer(b[start:])
	if err != nil {
		return nil, fmt.Errorf("watch: protobuf encoding of %s %s: %w", apiVersion, kind, err)
	}
	if n != size {
		return nil, fmt.Errorf("watch: protobuf encoding of %s %s: wrote %d bytes, Size said %d", apiVersion, kind, n, size)
	}
	b = pbwire.AppendStringAlways(b, 3, "")
	return pbwire.AppendStringAlways(b, 4, ""), nil
}

// EnvelopeSize is the length of the envelope (prefix included) of an
// object whose own encoding has size bytes.
func EnvelopeSize(apiVersion, kind string, size int) int {
	return len(ProtobufPrefix) + pbwire.SizeBytes(1, typeMetaSize(apiVersion, kind)) + pbwire.SizeBytes(2, size) + 4
}

// AppendRawEnvelope appends the envelope of an object whose own encoding
// is raw.
func AppendRawEnvelope(b []byte, apiVersion, kind string, raw []byte) []byte {
	b = append(b, ProtobufPrefix...)
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(typeMetaSize(apiVersion, kind)))
	b = appendTypeMeta(b, apiVersion, kind)
	b = pbwire.AppendBytes(b, 2, raw)
	b = pbwire.AppendStringAlways(b, 3, "")
	return pbwire.AppendStringAlways(b, 4, "")
}

func typeMetaSize(apiVersion, kind string) int {
	return pbwire.SizeBytes(1, len(apiVersion)) + pbwire.SizeBytes(2, len(kind))
}

func appendTypeMeta(b []byte, apiVersion, kind string) []byte {
	b = pbwire.AppendStringAlways(b, 1, apiVersion)
	return pbwire.AppendStringAlways(b, 2, kind)
}

// ParseEnvelope parses an object in Kubernetes' protobuf encoding. The
// input must start with ProtobufPrefix; unknown fields are skipped; Raw is
// a view of data. Errors wrap ErrMalformed and say what was wrong.
func ParseEnvelope(data []byte) (Envelope, error) {
	var env Envelope
	rest, ok := bytes.CutPrefix(data, []byte(ProtobufPrefix))
	if !ok {
		return env, fmt.Errorf("%w: not a Kubernetes protobuf object: it must start with the bytes %q", ErrMalformed, ProtobufPrefix)
	}
	if len(rest) == 0 {
		return env, fmt.Errorf("%w: empty protobuf object: nothing follows the prefix", ErrMalformed)
	}
	err := pbwire.Range(rest, func(f pbwire.Field) error {
		var err error
		switch f.Num {
		case 1:
			var tm []byte
			if tm, err = pbwire.Message("typeMeta", f); err == nil {
				err = pbwire.Range(tm, func(f pbwire.Field) error {
					var err error
					switch f.Num {
					case 1:
						env.APIVersion, err = pbwire.String("typeMeta.apiVersion", f)
					case 2:
						env.Kind, err = pbwire.String("typeMeta.kind", f)
					}
					return err
				})
			}
		case 2:
			env.Raw, err = pbwire.Message("raw", f)
		case 3:
			env.ContentEncoding, err = pbwire.String("contentEncoding", f)
		case 4:
			env.ContentType, err = pbwire.String("contentType", f)
		}
		return err
	})
	if err != nil {
		return Envelope{}, fmt.Errorf("%w: protobuf envelope: %w", ErrMalformed, err)
	}
	return env, nil
}

// appendBookmarkRaw appends the protobuf encoding of a bookmark object: a
// message whose field 1 (metadata, as in every Kubernetes kind) holds only
// resourceVersion (ObjectMeta field 6) and the annotations (field 12).
func appendBookmarkRaw(b []byte, rev int64, annotations map[string]string) []byte {
	var meta []byte
	meta = pbwire.AppendString(meta, 6, strconv.FormatInt(rev, 10))
	for k, v := range annotations { // at most one
		var entry []byte
		entry = pbwire.AppendStringAlways(entry, 1, k)
		entry = pbwire.AppendStringAlways(entry, 2, v)
		meta = pbwire.AppendBytes(meta, 12, entry)
	}
	return pbwire.AppendBytes(b, 1, meta)
}

// objectMetaOf returns the metadata (field 1, an ObjectMeta) of an
// object's protobuf encoding (an Envelope's Raw): its resourceVersion and
// annotations. Every Kubernetes kind keeps its metadata in field 1.
func objectMetaOf(raw []byte) (rv string, annotations map[string]string, err error) {
	err = pbwire.Range(raw, func(f pbwire.Field) error {
		if f.Num != 1 {
			return nil
		}
		meta, err := pbwire.Message("metadata", f)
		if err != nil {
			return err
		}
		return pbwire.Range(meta, func(f pbwire.Field) error {
			var err error
			switch f.Num {
			case 6:
				rv, err = pbwire.String("metadata.resourceVersion", f)
			case 12:
				var entry []byte
				if entry, err = pbwire.Message("metadata.annotations", f); err != nil {
					return err
				}
				var k, v string
				err = pbwire.Range(entry, func(f pbwire.Field) error {
					var err error
					switch f.Num {
					case 1:
						k, err = pbwire.String("metadata.annotations key", f)
					case 2:
						v, err = pbwire.String("metadata.annotations value", f)
					}
					return err
				})
				if annotations == nil {
					annotations = map[string]string{}
				}
				annotations[k] = v
			}
			return err
		})
	})
	return rv, annotations, err
}
