package pb

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// Sentinels wrapped by every decoding error.
var (
	// ErrTruncated: the data ends inside a field.
	ErrTruncated = errors.New("unexpected end of data")
	// ErrLength: a length is negative or longer than the data that remains.
	ErrLength = errors.New("invalid length")
	// ErrOverflow: a varint is longer than ten bytes.
	ErrOverflow = errors.New("varint overflows 64 bits")
	// ErrWireType: a known field arrives with a wire type it cannot have, or
	// the data holds an illegal wire type.
	ErrWireType = errors.New("wrong wire type")
	// ErrFieldNumber: a field number is zero or negative.
	ErrFieldNumber = errors.New("illegal field number")
	// ErrValue: a field's bytes do not hold a valid value (for example a
	// Quantity that does not parse).
	ErrValue = errors.New("invalid value")
)

// Wire types.
const (
	WireVarint  = 0
	WireFixed64 = 1
	WireBytes   = 2
	WireStart   = 3
	WireEnd     = 4
	WireFixed32 = 5
)

// FieldError says where decoding failed: the outermost message and the path
// of field names down to the failing one.
type FieldError struct {
	// Message is the outermost message being decoded, for example "Pod".
	Message string
	// Path holds the JSON names of the fields, outermost first.
	Path []string
	// Err is the cause; it wraps one of the package sentinels.
	Err error
}

// Error formats the message, path and cause.
func (e *FieldError) Error() string {
	return fmt.Sprintf("protobuf: decoding %s field %s: %v", e.Message, strings.Join(e.Path, "."), e.Err)
}

// Unwrap returns the cause.
func (e *FieldError) Unwrap() error { return e.Err }

// Wrap records that err happened in field of message. If err already is a
// *FieldError from a nested message, field is put in front of its path.
func Wrap(message, field string, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		fe.Message = message
		fe.Path = append([]string{field}, fe.Path...)
		return fe
	}
	return &FieldError{Message: message, Path: []string{field}, Err: err}
}

// WireTypeError is the error for a known field seen with wire type got.
func WireTypeError(got int) error {
	return fmt.Errorf("%w %d", ErrWireType, got)
}

// SizeVarint is the number of bytes v takes as a varint.
func SizeVarint(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

// PutVarint writes v so that it ends just before dAtA[i] and returns the
// index of its first byte.
func PutVarint(dAtA []byte, i int, v uint64) int {
	i -= SizeVarint(v)
	j := i
	for v >= 1<<7 {
		dAtA[j] = uint8(v&0x7f | 0x80)
		v >>= 7
		j++
	}
	dAtA[j] = uint8(v)
	return i
}

// PutBytes writes b, preceded by its length, to end just before dAtA[i],
// and returns the index of the first byte written.
func PutBytes(dAtA []byte, i int, b []byte) int {
	i -= len(b)
	copy(dAtA[i:], b)
	return PutVarint(dAtA, i, uint64(len(b)))
}

// PutString is PutBytes for a string.
func PutString(dAtA []byte, i int, s string) int {
	i -= len(s)
	copy(dAtA[i:], s)
	return PutVarint(dAtA, i, uint64(len(s)))
}

// PutBool writes a bool varint.
func PutBool(dAtA []byte, i int, v bool) int {
	i--
	if v {
		dAtA[i] = 1
	} else {
		dAtA[i] = 0
	}
	return i
}

// PutTag writes a field key of one or more bytes.
func PutTag(dAtA []byte, i int, key uint64) int {
	if key < 0x80 {
		i--
		dAtA[i] = byte(key)
		return i
	}
	return PutVarint(dAtA, i, key)
}

// Varint reads the varint at b[i:] and returns it and the index after it.
func Varint(b []byte, i int) (uint64, int, error) {
	if i < len(b) && b[i] < 0x80 {
		return uint64(b[i]), i + 1, nil
	}
	return varintSlow(b, i)
}

func varintSlow(b []byte, i int) (uint64, int, error) {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= 64 {
			return 0, 0, ErrOverflow
		}
		if i >= len(b) {
			return 0, 0, ErrTruncated
		}
		c := b[i]
		i++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, i, nil
		}
	}
}

// Bytes reads the length-delimited field at b[i:] and returns the bounds of
// its content. The length is checked against the data that remains.
func Bytes(b []byte, i int) (int, int, error) {
	if i < len(b) {
		// fast path, inlined: a one-byte length that fits
		if n := int(b[i]); n < 0x80 && n < len(b)-i {
			return i + 1, i + 1 + n, nil
		}
	}
	return bytesSlow(b, i)
}

func bytesSlow(b []byte, i int) (int, int, error) {
	n, i, err := Varint(b, i)
	if err != nil {
		return 0, 0, err
	}
	if n > uint64(len(b)-i) {
		if int64(n) < 0 {
			return 0, 0, fmt.Errorf("%w: negative length", ErrLength)
		}
		return 0, 0, fmt.Errorf("%w: %d bytes declared, %d remain", ErrLength, n, len(b)-i)
	}
	return i, i + int(n), nil
}

// Key reads a field key and returns the field number, the wire type and the
// index after the key.
func Key(b []byte, i int) (int32, int, int, error) {
	if i < len(b) {
		// fast path, inlined: a one-byte key of field 1 to 15 with a
		// wire type that is not end-group or illegal
		if c := b[i]; c < 0x80 && c >= 8 && c&7 != WireEnd && c&7 <= WireFixed32 {
			return int32(c >> 3), int(c & 7), i + 1, nil
		}
	}
	return keySlow(b, i)
}

func keySlow(b []byte, i int) (int32, int, int, error) {
	k, i, err := Varint(b, i)
	if err != nil {
		return 0, 0, 0, err
	}
	num := int64(k >> 3)
	if num <= 0 || num > 1<<29-1 {
		return 0, 0, 0, fmt.Errorf("%w %d", ErrFieldNumber, num)
	}
	w := int(k & 7)
	if w == WireEnd || w > WireFixed32 {
		return 0, 0, 0, fmt.Errorf("%w %d", ErrWireType, w)
	}
	return int32(num), w, i, nil
}

// Skip skips the value of an unknown field of wire type w that starts at
// b[i:], and returns the index after it. Groups are skipped whole.
func Skip(b []byte, i int, w int) (int, error) {
	depth := 0
	for {
		switch w {
		case WireVarint:
			var err error
			if _, i, err = Varint(b, i); err != nil {
				return 0, err
			}
		case WireFixed64, WireFixed32:
			n := 8
			if w == WireFixed32 {
				n = 4
			}
			if len(b)-i < n {
				return 0, ErrTruncated
			}
			i += n
		case WireBytes:
			_, end, err := Bytes(b, i)
			if err != nil {
				return 0, err
			}
			i = end
		case WireStart:
			depth++
		case WireEnd:
			if depth == 0 {
				return 0, fmt.Errorf("%w: end of a group that was not started", ErrWireType)
			}
			depth--
		default:
			return 0, fmt.Errorf("%w %d", ErrWireType, w)
		}
		if depth == 0 {
			return i, nil
		}
		k, next, err := Varint(b, i)
		if err != nil {
			return 0, err
		}
		i, w = next, int(k&7)
	}
}

// FieldName names an unknown field by its number, for errors.
func FieldName(num int32) string { return "#" + strconv.Itoa(int(num)) }
