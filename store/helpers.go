package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
)

type fenceKey struct{}

// WithFence returns a context that carries fences in addition to any ctx
// already carries. Every typed-store write made with the context passes all
// of them to the backend, which checks them in the same transaction as the
// write, so a leader whose term has ended gets ErrFenced and writes nothing.
func WithFence(ctx context.Context, f ...Fence) context.Context {
	if len(f) == 0 {
		return ctx
	}
	prev := FencesFrom(ctx)
	all := make([]Fence, 0, len(prev)+len(f))
	all = append(append(all, prev...), f...)
	return context.WithValue(ctx, fenceKey{}, all)
}

// FencesFrom returns the fences ctx carries (nil if none). The caller must
// not modify the returned slice.
func FencesFrom(ctx context.Context) []Fence {
	f, _ := ctx.Value(fenceKey{}).([]Fence)
	return f
}

// ParseRevision parses a resourceVersion: a decimal revision. The empty
// string gives 0. Errors wrap ErrInvalid.
func ParseRevision(rv string) (int64, error) {
	if rv == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil || n < 0 {
		return 0, &FieldError{Field: "metadata.resourceVersion", Value: rv, Reason: "must be a non-negative decimal integer"}
	}
	return n, nil
}

// FormatRevision formats a revision as a resourceVersion; 0 gives "".
func FormatRevision(rev int64) string {
	if rev == 0 {
		return ""
	}
	return strconv.FormatInt(rev, 10)
}

// Clone returns a deep private copy of obj: obj.DeepCopy() if T has such a
// method, a JSON round trip otherwise. A nil obj gives nil. Clone panics if
// obj cannot be encoded as JSON, which the store would also reject.
func Clone[T Object](obj T) T {
	v := reflect.ValueOf(obj)
	if !v.IsValid() || (v.Kind() == reflect.Pointer && v.IsNil()) {
		return obj
	}
	if d, ok := any(obj).(interface{ DeepCopy() T }); ok {
		return d.DeepCopy()
	}
	b, err := json.Marshal(obj)
	if err != nil {
		panic(fmt.Sprintf("store.Clone: encoding %T: %v", obj, err))
	}
	out := newObject[T]()
	if err := json.Unmarshal(b, out); err != nil {
		panic(fmt.Sprintf("store.Clone: decoding %T: %v", obj, err))
	}
	return out
}

// newObject allocates a zero T; T must be a pointer to a struct.
func newObject[T Object]() T {
	var zero T
	t := reflect.TypeOf(zero)
	if t == nil || t.Kind() != reflect.Pointer {
		panic(fmt.Sprintf("store: object type %T must be a pointer to a struct", zero))
	}
	return reflect.New(t.Elem()).Interface().(T)
}

// KeyOf returns the cache key of obj: "namespace/name", or "name" for an
// object without a namespace. Informers index their caches by it.
func KeyOf(obj Object) string {
	m := obj.GetObjectMeta()
	if m.Namespace == "" {
		return m.Name
	}
	return m.Namespace + "/" + m.Name
}

// newUID returns a random RFC 4122 version 4 UUID.
func newUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("store: crypto/rand failed: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

const nameSuffixChars = "bcdfghjklmnpqrstvwxz2456789"

// randomSuffix returns n random characters from [a-z0-9] (without vowels
// and look-alike digits, as Kubernetes does, so no words form).
func randomSuffix(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("store: crypto/rand failed: " + err.Error())
	}
	for i := range b {
		b[i] = nameSuffixChars[int(b[i])%len(nameSuffixChars)]
	}
	return string(b)
}

type uidKey struct{}

// WithUID returns a context with which Create gives the new object uid
// instead of a UID of its own: an apiserver that must know the UID before
// the object is created (Kubernetes' Job selectors name it) makes one with
// NewUID, sets it, and creates with this context. An empty uid changes
// nothing.
func WithUID(ctx context.Context, uid string) context.Context {
	return context.WithValue(ctx, uidKey{}, uid)
}

// NewUID returns a new random UID, as Create assigns them.
func NewUID() string { return newUID() }
