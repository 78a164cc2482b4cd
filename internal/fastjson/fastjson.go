// Package fastjson decodes JSON about three times faster than
// encoding/json, with encoding/json's results.
//
// It is for the hot decoding paths of setpoint: objects read back from
// storage (which encoding/json wrote), and watch events and responses a
// client reads from its apiserver. Decoding goes through
// github.com/goccy/go-json, a well-kept decoder that honours the same
// struct tags and json.Unmarshaler methods; whenever it reports an error
// (or panics), the target is reset to its zero value and decoded again
// with encoding/json, so an error, and its text, is always encoding/json's.
//
// UnmarshalValid skips the validity checks, for bytes known to be valid.
//
// Contract: for input that encoding/json accepts, Unmarshal leaves v equal
// (reflect.DeepEqual) to what json.Unmarshal leaves; this is tested for
// every kind of the example API (fully populated and randomly filled) and
// fuzzed against encoding/json. Input that encoding/json rejects is
// rejected too, with encoding/json's error. Request bodies from clients
// are not decoded here: they need encoding/json's strict options
// (unknown fields, duplicate fields), which the REST layer applies.
package fastjson

import (
	"encoding/json"
	"reflect"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"
)

// Unmarshal decodes data into v, a non-nil pointer, as json.Unmarshal
// does. The error, if any, is json.Unmarshal's.
func Unmarshal(data []byte, v any) (err error) {
	// encoding/json replaces invalid UTF-8 in strings with U+FFFD, go-json
	// keeps the bytes: such input (which encoding/json never writes) is
	// left to encoding/json, as is anything it would reject.
	if !utf8.Valid(data) || !json.Valid(data) {
		return json.Unmarshal(data, v)
	}
	defer func() {
		if recover() != nil {
			err = fallback(data, v)
		}
	}()
	if gojson.Unmarshal(data, v) != nil {
		return fallback(data, v)
	}
	return nil
}

// UnmarshalValid is Unmarshal for data known to be valid UTF-8 JSON: bytes
// encoding/json wrote (such as the store's own encodings) or that were
// already checked. It skips the validity checks, which are a fifth of
// Unmarshal's time on a typical Pod. On such data it decodes exactly as
// Unmarshal does; on data that breaks the precondition it may decode part
// of it without an error (it never panics).
func UnmarshalValid(data []byte, v any) (err error) {
	defer func() {
		if recover() != nil {
			err = fallback(data, v)
		}
	}()
	if gojson.Unmarshal(data, v) != nil {
		return fallback(data, v)
	}
	return nil
}

// fallback resets *v and decodes data with encoding/json.
func fallback(data []byte, v any) error {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv.Elem().SetZero()
	}
	return json.Unmarshal(data, v)
}
