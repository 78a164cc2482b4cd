package pbwire

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// ErrMalformed is wrapped by every error about malformed protobuf input.
var ErrMalformed = errors.New("malformed protobuf")

// Field is one field of a message as Range hands it over. For a varint
// field Varint holds the value; for a fixed32 or fixed64 field too; for a
// length-delimited field Bytes holds the payload (a view of the input, not
// a copy). Groups are skipped and never handed over.
type Field struct {
	Num    protowire.Number
	Type   protowire.Type
	Varint uint64
	Bytes  []byte
}

// Int64 returns a varint field's value as an int64 (two's complement, as
// proto int64 is encoded).
func (f Field) Int64() int64 { return int64(f.Varint) }

// Int32 returns a varint field's value as an int32; ok is false if it does
// not fit (proto int32 values are sign-extended to 64 bits on the wire).
func (f Field) Int32() (int32, bool) {
	v := int64(f.Varint)
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, false
	}
	return int32(v), true
}

// Range calls fn for every field of msg in order, skipping groups. It
// stops at the first error, from the input or from fn.
func Range(msg []byte, fn func(f Field) error) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return fmt.Errorf("%w: field tag: %v", ErrMalformed, protowire.ParseError(n))
		}
		msg = msg[n:]
		f := Field{Num: num, Type: typ}
		switch typ {
		case protowire.VarintType:
			f.Varint, n = protowire.ConsumeVarint(msg)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(msg)
			f.Varint = uint64(v)
		case protowire.Fixed64Type:
			f.Varint, n = protowire.ConsumeFixed64(msg)
		case protowire.BytesType:
			f.Bytes, n = protowire.ConsumeBytes(msg)
		default:
			n = protowire.ConsumeFieldValue(num, typ, msg)
			if n < 0 {
				return fmt.Errorf("%w: field %d: %v", ErrMalformed, num, protowire.ParseError(n))
			}
			msg = msg[n:]
			continue // a group, or an end-group tag ConsumeFieldValue rejected
		}
		if n < 0 {
			return fmt.Errorf("%w: field %d: %v", ErrMalformed, num, protowire.ParseError(n))
		}
		msg = msg[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// WrongType is the error for a known field sent with another wire type.
func WrongType(name string, f Field) error {
	return fmt.Errorf("%w: field %s (%d) has wire type %d", ErrMalformed, name, f.Num, f.Type)
}

// String returns a length-delimited field as a string, or WrongType.
func String(name string, f Field) (string, error) {
	if f.Type != protowire.BytesType {
		return "", WrongType(name, f)
	}
	return string(f.Bytes), nil
}

// Message returns a length-delimited field's payload, or WrongType.
func Message(name string, f Field) ([]byte, error) {
	if f.Type != protowire.BytesType {
		return nil, WrongType(name, f)
	}
	return f.Bytes, nil
}

// Varint returns a varint field's value, or WrongType.
func Varint(name string, f Field) (uint64, error) {
	if f.Type != protowire.VarintType {
		return 0, WrongType(name, f)
	}
	return f.Varint, nil
}

// AppendString appends field num with s, unless s is empty.
func AppendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	return AppendStringAlways(b, num, s)
}

// AppendStringAlways appends field num with s, even when empty (as
// Kubernetes' generated code writes non-pointer strings).
func AppendStringAlways(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// AppendBytes appends field num with the payload p (a nested message or
// bytes), even when empty.
func AppendBytes(b []byte, num protowire.Number, p []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, p)
}

// AppendVarint appends field num with v.
func AppendVarint(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// SizeBytes is the size of field num holding a payload of n bytes.
func SizeBytes(num protowire.Number, n int) int {
	return protowire.SizeTag(num) + protowire.SizeBytes(n)
}

// ListMeta is Kubernetes' meta/v1 ListMeta:
//
//	message ListMeta { string selfLink = 1; string resourceVersion = 2; string continue = 3; int64 remainingItemCount = 4; }
type ListMeta struct {
	ResourceVersion, Continue string
	RemainingItemCount        *int64
}

// AppendListMeta appends m as field num, its strings always written (as
// Kubernetes' generated code does).
func AppendListMeta(b []byte, num protowire.Number, m ListMeta) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(SizeListMeta(m)))
	b = AppendStringAlways(b, 1, "")
	b = AppendStringAlways(b, 2, m.ResourceVersion)
	b = AppendStringAlways(b, 3, m.Continue)
	if m.RemainingItemCount != nil {
		b = AppendVarint(b, 4, uint64(*m.RemainingItemCount))
	}
	return b
}

// SizeListMeta is the length of m's encoding (without its field tag).
func SizeListMeta(m ListMeta) int {
	n := SizeBytes(1, 0) + SizeBytes(2, len(m.ResourceVersion)) + SizeBytes(3, len(m.Continue))
	if m.RemainingItemCount != nil {
		n += protowire.SizeTag(4) + protowire.SizeVarint(uint64(*m.RemainingItemCount))
	}
	return n
}

// ParseListMeta parses a ListMeta message.
func ParseListMeta(msg []byte) (ListMeta, error) {
	var m ListMeta
	err := Range(msg, func(f Field) error {
		var err error
		switch f.Num {
		case 2:
			m.ResourceVersion, err = String("metadata.resourceVersion", f)
		case 3:
			m.Continue, err = String("metadata.continue", f)
		case 4:
			var v uint64
			if v, err = Varint("metadata.remainingItemCount", f); err == nil {
				n := int64(v)
				m.RemainingItemCount = &n
			}
		}
		return err
	})
	return m, err
}
