package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/setpoint-dev/setpoint/internal/pbwire"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// ProtobufCodec encodes objects of T in Kubernetes' protobuf encoding (the
// object's own message, without the envelope, which the handler adds),
// for a type that cannot carry the generated methods itself (a type of
// another package). A type whose pointer has them (Size() int,
// MarshalToSizedBuffer([]byte) (int, error), Unmarshal([]byte) error, as
// Kubernetes' and setpoint's generated code writes) needs none: the
// handler finds them. All three functions are required.
type ProtobufCodec[T store.Object] struct {
	// Size returns the length of obj's encoding.
	Size func(obj T) int
	// MarshalToSizedBuffer writes obj's encoding to the end of b (at least
	// Size(obj) long) and returns the number of bytes written.
	MarshalToSizedBuffer func(b []byte, obj T) (int, error)
	// Unmarshal decodes b into obj, a new empty object, skipping unknown
	// fields; malformed input is an error.
	Unmarshal func(b []byte, obj T) error
}

// protoMethods are the generated protobuf methods the handler looks for
// on T.
type protoMethods interface {
	watch.ProtoMessage
	Unmarshal(b []byte) error
}

// protobufCodecOf returns T's codec: cfg's, or T's own methods, or nil
// (then the resource speaks JSON only, as Kubernetes' custom resources do).
func protobufCodecOf[T store.Object](cfg *ProtobufCodec[T]) *ProtobufCodec[T] {
	if cfg != nil {
		return cfg
	}
	var zero T
	if _, ok := any(zero).(protoMethods); !ok {
		return nil
	}
	return &ProtobufCodec[T]{
		Size:                 func(obj T) int { return any(obj).(protoMethods).Size() },
		MarshalToSizedBuffer: func(b []byte, obj T) (int, error) { return any(obj).(protoMethods).MarshalToSizedBuffer(b) },
		Unmarshal:            func(b []byte, obj T) error { return any(obj).(protoMethods).Unmarshal(b) },
	}
}

func (c *ProtobufCodec[T]) validate() error {
	if c != nil && (c.Size == nil || c.MarshalToSizedBuffer == nil || c.Unmarshal == nil) {
		return errors.New("rest: Config.Protobuf needs Size, MarshalToSizedBuffer and Unmarshal")
	}
	return nil
}

// protoObject is one object as a watch.ProtoMessage.
type protoObject[T store.Object] struct {
	c   *ProtobufCodec[T]
	obj T
}

func (p protoObject[T]) Size() int { return p.c.Size(p.obj) }
func (p protoObject[T]) MarshalToSizedBuffer(b []byte) (int, error) {
	return p.c.MarshalToSizedBuffer(b, p.obj)
}

// marshalProtobuf returns obj in the envelope, as this resource's kind.
func (h *Handler[T]) marshalProtobuf(obj T) ([]byte, error) {
	return watch.MarshalEnvelope(h.res.APIVersion, h.res.Kind, protoObject[T]{h.proto, obj})
}

// protoList is a list message: every Kubernetes list kind is
//
//	message XList { ListMeta metadata = 1; repeated X items = 2; }
type protoList[T store.Object] struct {
	c     *ProtobufCodec[T]
	meta  pbwire.ListMeta
	items []T
	sizes []int
	size  int
}

func newProtoList[T store.Object](c *ProtobufCodec[T], meta pbwire.ListMeta, items []T) *protoList[T] {
	l := &protoList[T]{c: c, meta: meta, items: items, sizes: make([]int, len(items))}
	l.size = pbwire.SizeBytes(1, pbwire.SizeListMeta(meta))
	for i, it := range items {
		l.sizes[i] = c.Size(it)
		l.size += pbwire.SizeBytes(2, l.sizes[i])
	}
	return l
}

func (l *protoList[T]) Size() int { return l.size }

// MarshalToSizedBuffer writes the list front to back into the last Size
// bytes of b; each item writes itself straight into place.
func (l *protoList[T]) MarshalToSizedBuffer(b []byte) (int, error) {
	if len(b) < l.size {
		return 0, fmt.Errorf("rest: list buffer of %d bytes, need %d", len(b), l.size)
	}
	out := b[len(b)-l.size : len(b)-l.size]
	out = pbwire.AppendListMeta(out, 1, l.meta)
	for i, it := range l.items {
		out = protowire.AppendTag(out, 2, protowire.BytesType)
		out = protowire.AppendVarint(out, uint64(l.sizes[i]))
		out = out[:len(out)+l.sizes[i]]
		n, err := l.c.MarshalToSizedBuffer(out, it)
		if err != nil {
			return 0, err
		}
		if n != l.sizes[i] {
			return 0, fmt.Errorf("rest: item %d of the list: wrote %d bytes, Size said %d", i, n, l.sizes[i])
		}
	}
	return len(out), nil
}

// decodeProtobuf decodes a protobuf request body (envelope included) into a
// new object: the envelope's kind and apiVersion, when set, must be this
// resource's.
func (h *Handler[T]) decodeProtobuf(data []byte) (T, error) {
	var zero T
	env, err := watch.ParseEnvelope(data)
	if err != nil {
		return zero, badRequest("decoding %s from protobuf: %v", h.res.Kind, err)
	}
	if err := h.checkEnvelope(env, h.res.APIVersion, h.res.Kind); err != nil {
		return zero, err
	}
	obj := h.newObject()
	if err := h.proto.Unmarshal(env.Raw, obj); err != nil {
		return zero, badRequest("decoding %s from protobuf: %v", h.res.Kind, err)
	}
	tm := obj.GetTypeMeta()
	tm.Kind, tm.APIVersion = h.res.Kind, h.res.APIVersion
	return obj, nil
}

// checkEnvelope checks a request envelope's type (empty means the
// expected one) and encoding.
func (h *Handler[T]) checkEnvelope(env watch.Envelope, apiVersion, kind string) error {
	if env.Kind != "" && env.Kind != kind {
		return badRequest("the object's kind %q does not match the expected kind %q", env.Kind, kind)
	}
	if env.APIVersion != "" && env.APIVersion != apiVersion && kind != "DeleteOptions" {
		return badRequest("the object's apiVersion %q does not match the expected %q", env.APIVersion, apiVersion)
	}
	return checkEnvelopeEncoding(env)
}

// parseDeleteOptions is parseDeleteOptions with a body in JSON or
// protobuf, as its Content-Type says.
func (h *Handler[T]) parseDeleteOptions(ctx context.Context, w http.ResponseWriter, r *http.Request) (context.Context, []store.DeleteOption, *int64, error) {
	return parseDeleteOptions(ctx, w, r, h.maxBody, func(data []byte, do *DeleteOptions) error {
		f, err := inputFormat(r, true)
		if err != nil {
			return err
		}
		if f == formatProtobuf {
			return h.decodeDeleteOptionsProtobuf(data, do)
		}
		if err := json.Unmarshal(data, do); err != nil {
			return badRequest("decoding DeleteOptions: %v", err)
		}
		return nil
	})
}

// decodeDeleteOptionsProtobuf decodes a meta/v1 DeleteOptions:
//
//	message DeleteOptions { int64 gracePeriodSeconds = 1; Preconditions preconditions = 2; bool orphanDependents = 3; string propagationPolicy = 4; repeated string dryRun = 5; }
//	message Preconditions { string uid = 1; string resourceVersion = 2; }
func (h *Handler[T]) decodeDeleteOptionsProtobuf(data []byte, do *DeleteOptions) error {
	env, err := watch.ParseEnvelope(data)
	if err != nil {
		return badRequest("decoding DeleteOptions from protobuf: %v", err)
	}
	if err := h.checkEnvelope(env, "", "DeleteOptions"); err != nil {
		return err
	}
	err = pbwire.Range(env.Raw, func(f pbwire.Field) error {
		var err error
		switch f.Num {
		case 1:
			var v uint64
			if v, err = pbwire.Varint("gracePeriodSeconds", f); err == nil {
				n := int64(v)
				do.GracePeriodSeconds = &n
			}
		case 2:
			var m []byte
			if m, err = pbwire.Message("preconditions", f); err != nil {
				return err
			}
			if do.Preconditions == nil {
				do.Preconditions = &Preconditions{}
			}
			err = pbwire.Range(m, func(f pbwire.Field) error {
				var err error
				var s string
				switch f.Num {
				case 1:
					if s, err = pbwire.String("preconditions.uid", f); err == nil {
						do.Preconditions.UID = &s
					}
				case 2:
					if s, err = pbwire.String("preconditions.resourceVersion", f); err == nil {
						do.Preconditions.ResourceVersion = &s
					}
				}
				return err
			})
		case 3:
			var v uint64
			if v, err = pbwire.Varint("orphanDependents", f); err == nil {
				b := v != 0
				do.OrphanDependents = &b
			}
		case 4:
			var s string
			if s, err = pbwire.String("propagationPolicy", f); err == nil {
				do.PropagationPolicy = &s
			}
		case 5:
			var s string
			if s, err = pbwire.String("dryRun", f); err == nil {
				do.DryRun = append(do.DryRun, s)
			}
		}
		return err
	})
	if err != nil {
		return badRequest("decoding DeleteOptions from protobuf: %v", err)
	}
	return nil
}

// decodeScaleProtobuf decodes the part of an autoscaling/v1 Scale that a
// write reads:
//
//	message Scale { ObjectMeta metadata = 1; ScaleSpec spec = 2; ScaleStatus status = 3; }
//	message ObjectMeta { string name = 1; string namespace = 3; string resourceVersion = 6; ... }
//	message ScaleSpec { int32 replicas = 1; }
func (h *Handler[T]) decodeScaleProtobuf(data []byte) (scaleWire, error) {
	var s scaleWire
	env, err := watch.ParseEnvelope(data)
	if err != nil {
		return s, badRequest("decoding Scale from protobuf: %v", err)
	}
	if err := h.checkEnvelope(env, "autoscaling/v1", "Scale"); err != nil {
		return s, err
	}
	err = pbwire.Range(env.Raw, func(f pbwire.Field) error {
		switch f.Num {
		case 1:
			m, err := pbwire.Message("metadata", f)
			if err != nil {
				return err
			}
			return pbwire.Range(m, func(f pbwire.Field) error {
				var err error
				switch f.Num {
				case 1:
					s.Metadata.Name, err = pbwire.String("metadata.name", f)
				case 3:
					s.Metadata.Namespace, err = pbwire.String("metadata.namespace", f)
				case 6:
					s.Metadata.ResourceVersion, err = pbwire.String("metadata.resourceVersion", f)
				}
				return err
			})
		case 2:
			m, err := pbwire.Message("spec", f)
			if err != nil {
				return err
			}
			return pbwire.Range(m, func(f pbwire.Field) error {
				if f.Num != 1 {
					return nil
				}
				if f.Type != protowire.VarintType {
					return pbwire.WrongType("spec.replicas", f)
				}
				n, ok := f.Int32()
				if !ok {
					return fmt.Errorf("%w: spec.replicas %d does not fit in an int32", pbwire.ErrMalformed, int64(f.Varint))
				}
				s.Spec.Replicas = &n
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return s, badRequest("decoding Scale from protobuf: %v", err)
	}
	return s, nil
}

// marshalAnyProtobuf encodes a value that is not T (a Scale) if it has
// generated protobuf methods.
func marshalAnyProtobuf(v any, apiVersion, kind string) ([]byte, bool, error) {
	m, ok := v.(watch.ProtoMessage)
	if !ok {
		return nil, false, nil
	}
	b, err := watch.MarshalEnvelope(apiVersion, kind, m)
	return b, true, err
}

// writeProtobuf answers with b, a protobuf object.
func writeProtobuf(w http.ResponseWriter, code int, b []byte) {
	w.Header().Set("Content-Type", watch.MediaTypeProtobuf)
	w.WriteHeader(code)
	w.Write(b)
}
