package watch

import (
	"encoding/json"
	"errors"
	"sync"
)

// Encoded is an event object together with its encodings, each computed on
// first use and then shared: a watch cache hands the same *Encoded to every
// watcher of an event, so the bytes a server writes are encoded once per
// event and wire format (JSON, and each Encoding such as protobuf), not
// once per watcher. The Encoder writes the JSON as is (Encoded is
// PreEncoded). Object must not be modified once the Encoded is shared. It
// is safe for concurrent use.
type Encoded[T any] struct {
	// Object is the decoded object; read-only.
	Object T

	once sync.Once
	raw  []byte
	err  error

	mu sync.Mutex
	as []*encodedAs[T] // one per Encoding used, in the order first used
}

// encodedAs is the encoding of an Encoded by one Encoding.
type encodedAs[T any] struct {
	enc  *Encoding[T]
	once sync.Once
	raw  []byte
	err  error
}

var _ PreEncoded = (*Encoded[int])(nil)

// NewEncoded returns obj with its encodings still to be computed.
func NewEncoded[T any](obj T) *Encoded[T] { return &Encoded[T]{Object: obj} }

// EncodedJSON returns json.Marshal(Object), computed on the first call. The
// bytes are shared and must not be modified.
func (e *Encoded[T]) EncodedJSON() ([]byte, error) {
	if e == nil {
		return []byte("null"), nil
	}
	e.once.Do(func() { e.raw, e.err = json.Marshal(e.Object) })
	return e.raw, e.err
}

// MarshalJSON returns EncodedJSON's bytes, so an *Encoded marshals as its
// object.
func (e *Encoded[T]) MarshalJSON() ([]byte, error) { return e.EncodedJSON() }

// Encoding is a way of encoding objects of type T, such as Kubernetes'
// protobuf encoding of one resource, whose result an Encoded computes at
// most once per object and shares (Encoded.As). Encodings are told apart
// by identity: make one per format and resource and keep it.
type Encoding[T any] struct {
	name   string
	encode func(T) ([]byte, error)
}

// NewEncoding returns an Encoding named name (for errors) that encodes
// with encode. encode must not modify its argument and must be safe for
// concurrent use.
func NewEncoding[T any](name string, encode func(T) ([]byte, error)) *Encoding[T] {
	return &Encoding[T]{name: name, encode: encode}
}

// Name returns the encoding's name.
func (enc *Encoding[T]) Name() string { return enc.name }

// As returns Object encoded by enc: computed on the first call with enc,
// shared by every later call. The bytes must not be modified.
func (e *Encoded[T]) As(enc *Encoding[T]) ([]byte, error) {
	if e == nil || enc == nil {
		return nil, errors.New("watch: Encoded.As: nil Encoded or Encoding")
	}
	e.mu.Lock()
	var slot *encodedAs[T]
	for _, s := range e.as {
		if s.enc == enc {
			slot = s
			break
		}
	}
	if slot == nil {
		slot = &encodedAs[T]{enc: enc}
		e.as = append(e.as, slot)
	}
	e.mu.Unlock()
	slot.once.Do(func() { slot.raw, slot.err = enc.encode(e.Object) })
	return slot.raw, slot.err
}
