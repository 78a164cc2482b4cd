package watch

import (
	"encoding/json"
	"sync"
)

// Encoded is an event object together with its JSON encoding, computed on
// first use and then shared: a watch cache hands the same *Encoded to every
// watcher of an event, so the bytes a server writes are marshalled once per
// event, not once per watcher. The Encoder writes them as is (Encoded is
// PreEncoded). Object must not be modified once the Encoded is shared. It is
// safe for concurrent use.
type Encoded[T any] struct {
	// Object is the decoded object; read-only.
	Object T

	once sync.Once
	raw  []byte
	err  error
}

var _ PreEncoded = (*Encoded[int])(nil)

// NewEncoded returns obj with its encoding still to be computed.
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
