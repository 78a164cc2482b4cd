package patch

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ErrInvalidPatch is wrapped by every error this package returns: the patch
// is malformed, does not apply to the document, or a test operation failed.
var ErrInvalidPatch = errors.New("invalid patch")

// ErrNotApplicable is wrapped by the errors of a well-formed patch that
// does not apply to the document: a JSON patch path that does not exist or
// an index out of range, a failed test, a patch that would grow the
// document past its bound (ErrTooLarge). It also wraps ErrInvalidPatch.
// An apiserver answers it with 422 (Unprocessable Entity) and a malformed
// patch with 400, as Kubernetes does.
var ErrNotApplicable = fmt.Errorf("%w: does not apply", ErrInvalidPatch)

// ErrTestFailed is wrapped by the error of a JSON patch "test" operation
// whose value does not match. It also wraps ErrNotApplicable.
var ErrTestFailed = fmt.Errorf("%w: test operation failed", ErrNotApplicable)

// ErrTooLarge is wrapped by the error of a JSON patch whose operations
// would add more than the bound on added bytes (WithMaxAddedBytes) to the
// document: checked before each operation does its work, so a patch
// cannot make the server build a huge document. It also wraps
// ErrNotApplicable.
var ErrTooLarge = fmt.Errorf("%w: too large", ErrNotApplicable)

// ErrTooManyOperations is wrapped by the error of a JSON patch with more
// than MaxOperations operations (an apiserver answers 413). It also wraps
// ErrInvalidPatch.
var ErrTooManyOperations = fmt.Errorf("%w: too many operations", ErrInvalidPatch)

// MaxOperations is the most operations a JSON patch may have, as in
// Kubernetes.
const MaxOperations = 10000

// DefaultMaxAddedBytes bounds what a JSON patch may add to a document
// (copies and added values, encoded) unless WithMaxAddedBytes says
// otherwise. It is Kubernetes' default (--max-request-body-bytes, which
// bounds JSON patch copies too).
const DefaultMaxAddedBytes = 3 << 20

// Option configures JSONPatch and Apply.
type Option func(*options)

type options struct {
	maxAdded int64
}

func newOptions(opts []Option) options {
	o := options{maxAdded: DefaultMaxAddedBytes}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithMaxAddedBytes bounds the bytes a JSON patch may add to the document,
// counting the encoded size of every value an add, replace or copy
// operation puts in (removals give nothing back): a patch that would go
// over fails with ErrTooLarge before the operation that would do it is
// applied. n <= 0 means DefaultMaxAddedBytes.
func WithMaxAddedBytes(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.maxAdded = n
		}
	}
}

// decode parses one JSON value, keeping numbers exact (json.Number).
func decode(what string, data []byte) (any, error) {
	v, err := parseJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not valid JSON: %v", ErrInvalidPatch, what, err)
	}
	return v, nil
}

// encode writes v as JSON with sorted object keys.
func encode(v any) ([]byte, error) {
	b, err := appendJSON(make([]byte, 0, 512), v)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot encode result: %v", ErrInvalidPatch, err)
	}
	return b, nil
}

// DeepCopyJSON copies a decoded JSON value (maps, slices, scalars).
func DeepCopyJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = DeepCopyJSON(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = DeepCopyJSON(e)
		}
		return s
	}
	return v
}

// Equal reports whether two decoded JSON values are equal: objects by their
// members, arrays element by element, numbers by numeric value.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !Equal(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	na, oka := canonNumber(a)
	nb, okb := canonNumber(b)
	return oka && okb && na == nb
}

// number is a JSON number in canonical form: sign, significant digits
// without leading or trailing zeros, and a decimal exponent. Comparing the
// forms compares values exactly without arithmetic, so a huge exponent
// costs nothing.
type number struct {
	neg    bool
	digits string
	exp    int64
}

func canonNumber(v any) (number, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case int:
		s = strconv.Itoa(x)
	case int64:
		s = strconv.FormatInt(x, 10)
	default:
		return number{}, false
	}
	var n number
	if strings.HasPrefix(s, "-") {
		n.neg, s = true, s[1:]
	}
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	if hasExp {
		e, err := strconv.ParseInt(expText, 10, 64)
		if err != nil || e > 1<<60 || e < -(1<<60) {
			return number{}, false
		}
		n.exp = e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	n.exp -= int64(len(frac))
	for _, c := range digits {
		if c < '0' || c > '9' {
			return number{}, false
		}
	}
	digits = strings.TrimLeft(digits, "0")
	trimmed := strings.TrimRight(digits, "0")
	n.exp += int64(len(digits) - len(trimmed))
	n.digits = trimmed
	if n.digits == "" {
		return number{}, true // zero, whatever its sign or exponent
	}
	return n, true
}

// typeName names a JSON value's type for error messages.
func typeName(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return "number"
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
