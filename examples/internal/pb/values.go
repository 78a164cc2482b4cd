package pb

import (
	"fmt"
	"time"
)

// Kubernetes sends meta/v1 Time, MicroTime and Duration, resource.Quantity,
// intstr.IntOrString and runtime.RawExtension as small messages of their
// own. The functions here write and read those messages' bodies; the
// generated code adds the field key and length around them.

// SizeTimestamp is the body size of a Timestamp message {seconds=1,
// nanos=2}, the shape of Time and MicroTime; zero for the zero time.
func SizeTimestamp(t time.Time, nanos bool) int {
	if t.IsZero() {
		return 0
	}
	n := 0
	if nanos {
		n = t.Nanosecond() / 1000 * 1000
	}
	return 2 + SizeVarint(uint64(t.Unix())) + SizeVarint(uint64(int64(int32(n))))
}

// PutTimestamp writes the Timestamp body of t backwards from i. Time sends
// whole seconds (nanos are always 0, as Kubernetes does); MicroTime (nanos
// true) sends nanoseconds truncated to microseconds. The zero time writes
// nothing.
func PutTimestamp(dAtA []byte, i int, t time.Time, nanos bool) int {
	if t.IsZero() {
		return i
	}
	n := 0
	if nanos {
		n = t.Nanosecond() / 1000 * 1000
	}
	i = PutVarint(dAtA, i, uint64(int64(int32(n))))
	i = PutTag(dAtA, i, 2<<3|WireVarint)
	i = PutVarint(dAtA, i, uint64(t.Unix()))
	return PutTag(dAtA, i, 1<<3|WireVarint)
}

// Timestamp reads a Timestamp body. An empty body is the zero time. Time
// drops the nanoseconds (nanos false); MicroTime keeps them to the
// microsecond. The result is in UTC. A time outside years 0000 to 9999
// (UTC), or nanos outside 0..999999999, is an error.
func Timestamp(b []byte, nanos bool) (time.Time, error) {
	if len(b) == 0 {
		return time.Time{}, nil
	}
	var sec int64
	var ns int32
	i := 0
	for i < len(b) {
		num, w, next, err := Key(b, i)
		if err != nil {
			return time.Time{}, err
		}
		i = next
		switch {
		case num == 1 && w == WireVarint:
			v, next, err := Varint(b, i)
			if err != nil {
				return time.Time{}, fmt.Errorf("seconds: %w", err)
			}
			sec, i = int64(v), next
		case num == 2 && w == WireVarint:
			v, next, err := Varint(b, i)
			if err != nil {
				return time.Time{}, fmt.Errorf("nanos: %w", err)
			}
			ns, i = int32(v), next
		case num == 1 || num == 2:
			return time.Time{}, WireTypeError(w)
		default:
			if i, err = Skip(b, i, w); err != nil {
				return time.Time{}, err
			}
		}
	}
	if ns < 0 || ns > 999_999_999 {
		return time.Time{}, fmt.Errorf("nanos %d: must be in 0..999999999", ns)
	}
	// Only years 0000 to 9999 (UTC) have an RFC 3339 form; a time outside
	// them could be stored but never written as JSON again.
	if sec < minTimestampSeconds || sec > maxTimestampSeconds {
		return time.Time{}, fmt.Errorf("seconds %d: the time is outside years 0000-9999 (UTC)", sec)
	}
	if !nanos {
		ns = 0
	}
	return time.Unix(sec, int64(ns)/1000*1000).UTC(), nil
}

// The Unix seconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
var (
	minTimestampSeconds = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxTimestampSeconds = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
)

// SizeInt64Message is the body size of a message whose only field 1 is an
// int64, the shape of Duration.
func SizeInt64Message(v int64) int { return 1 + SizeVarint(uint64(v)) }

// PutInt64Message writes the body of a message {1: int64}.
func PutInt64Message(dAtA []byte, i int, v int64) int {
	i = PutVarint(dAtA, i, uint64(v))
	return PutTag(dAtA, i, 1<<3|WireVarint)
}

// Int64Message reads the body of a message {1: int64}.
func Int64Message(b []byte) (int64, error) {
	var v int64
	i := 0
	for i < len(b) {
		num, w, next, err := Key(b, i)
		if err != nil {
			return 0, err
		}
		i = next
		switch {
		case num == 1 && w == WireVarint:
			x, next, err := Varint(b, i)
			if err != nil {
				return 0, err
			}
			v, i = int64(x), next
		case num == 1:
			return 0, WireTypeError(w)
		default:
			if i, err = Skip(b, i, w); err != nil {
				return 0, err
			}
		}
	}
	return v, nil
}

// SizeStringMessage is the body size of a message whose only field 1 is a
// string, the shape of Quantity (always sent, even when empty).
func SizeStringMessage(s string) int { return 1 + len(s) + SizeVarint(uint64(len(s))) }

// PutStringMessage writes the body of a message {1: string}.
func PutStringMessage(dAtA []byte, i int, s string) int {
	i = PutString(dAtA, i, s)
	return PutTag(dAtA, i, 1<<3|WireBytes)
}

// StringMessage reads the body of a message {1: string}; ok is false when
// the field is absent.
func StringMessage(b []byte) (s string, ok bool, err error) {
	i := 0
	for i < len(b) {
		num, w, next, err := Key(b, i)
		if err != nil {
			return "", false, err
		}
		i = next
		switch {
		case num == 1 && w == WireBytes:
			start, end, err := Bytes(b, i)
			if err != nil {
				return "", false, err
			}
			s, ok, i = string(b[start:end]), true, end
		case num == 1:
			return "", false, WireTypeError(w)
		default:
			if i, err = Skip(b, i, w); err != nil {
				return "", false, err
			}
		}
	}
	return s, ok, nil
}

// SizeBytesMessage is the body size of a message whose only field 1 is
// bytes, the shape of RawExtension and FieldsV1; nil sends nothing.
func SizeBytesMessage(raw []byte) int {
	if raw == nil {
		return 0
	}
	return 1 + len(raw) + SizeVarint(uint64(len(raw)))
}

// PutBytesMessage writes the body of a message {1: bytes}.
func PutBytesMessage(dAtA []byte, i int, raw []byte) int {
	if raw == nil {
		return i
	}
	i = PutBytes(dAtA, i, raw)
	return PutTag(dAtA, i, 1<<3|WireBytes)
}

// BytesMessage reads the body of a message {1: bytes}; the result is a copy.
func BytesMessage(b []byte) ([]byte, error) {
	var raw []byte
	i := 0
	for i < len(b) {
		num, w, next, err := Key(b, i)
		if err != nil {
			return nil, err
		}
		i = next
		switch {
		case num == 1 && w == WireBytes:
			start, end, err := Bytes(b, i)
			if err != nil {
				return nil, err
			}
			raw, i = append(raw[:0], b[start:end]...), end
			if raw == nil {
				raw = []byte{}
			}
		case num == 1:
			return nil, WireTypeError(w)
		default:
			if i, err = Skip(b, i, w); err != nil {
				return nil, err
			}
		}
	}
	return raw, nil
}

// SizeIntOrString is the body size of an IntOrString message {type=1,
// intVal=2, strVal=3}; all three fields are always sent.
func SizeIntOrString(isString bool, iv int32, sv string) int {
	t := uint64(0)
	if isString {
		t = 1
	}
	return 3 + SizeVarint(t) + SizeVarint(uint64(int64(iv))) + len(sv) + SizeVarint(uint64(len(sv)))
}

// PutIntOrString writes an IntOrString body.
func PutIntOrString(dAtA []byte, i int, isString bool, iv int32, sv string) int {
	i = PutString(dAtA, i, sv)
	i = PutTag(dAtA, i, 3<<3|WireBytes)
	i = PutVarint(dAtA, i, uint64(int64(iv)))
	i = PutTag(dAtA, i, 2<<3|WireVarint)
	t := uint64(0)
	if isString {
		t = 1
	}
	i = PutVarint(dAtA, i, t)
	return PutTag(dAtA, i, 1<<3|WireVarint)
}

// IntOrString reads an IntOrString body.
func IntOrString(b []byte) (isString bool, iv int32, sv string, err error) {
	i := 0
	for i < len(b) {
		num, w, next, err := Key(b, i)
		if err != nil {
			return false, 0, "", err
		}
		i = next
		switch {
		case (num == 1 || num == 2) && w == WireVarint:
			v, next, err := Varint(b, i)
			if err != nil {
				return false, 0, "", err
			}
			if num == 1 {
				isString = v == 1
			} else {
				iv = int32(v)
			}
			i = next
		case num == 3 && w == WireBytes:
			start, end, err := Bytes(b, i)
			if err != nil {
				return false, 0, "", err
			}
			sv, i = string(b[start:end]), end
		case num >= 1 && num <= 3:
			return false, 0, "", WireTypeError(w)
		default:
			if i, err = Skip(b, i, w); err != nil {
				return false, 0, "", err
			}
		}
	}
	return isString, iv, sv, nil
}
