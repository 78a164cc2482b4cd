package store

import (
	"context"
	"fmt"
)

// SideWrite is a compare-and-swap write of another key that a Create makes
// in its own transaction (WithSideWrites): it happens only if Key's
// modification revision is still ModRevision (0: Key must not exist), and
// the create happens only if it does. An apiserver charges a quota this
// way: the quota's new usage is written together with the object it counts,
// so no number of servers can overcommit it.
type SideWrite struct {
	// Key is the backend key to write.
	Key string
	// Value is the bytes to store there.
	Value []byte
	// ModRevision is the revision Key must still have; 0 means it must
	// not exist.
	ModRevision int64
	// CheckOnly makes it a condition and no write: the create happens
	// only if Key's modification revision is still ModRevision, and Key
	// is left as it is (Value is ignored). An admission check that read
	// Key from a cache makes its decision hold this way, with no extra
	// read.
	CheckOnly bool
	// Prefix, with CheckOnly, makes the condition cover every key under
	// Key: none may have a modification revision above ModRevision (no
	// key under it was created or changed after that revision; a delete
	// is not seen). A failure is a *ConflictError for Key whose Current
	// is the newest revision found.
	Prefix bool
}

// SideWriter is implemented by backends that can make side writes (both
// setpoint backends do).
type SideWriter interface {
	// CreateWithSideWrites is Backend.Create that, in the same atomic step,
	// also requires every side write's key to have its ModRevision and
	// then writes it. A side key that has moved fails the whole step with
	// a *ConflictError for that key; nothing is written.
	CreateWithSideWrites(ctx context.Context, key string, value []byte, side []SideWrite, fences ...Fence) (int64, error)
}

type sideWritesKey struct{}

// WithSideWrites returns a context whose typed-store Creates also make the
// given side writes, in the same transaction (see SideWrite). Other writes
// ignore them, and so does a dry run. A backend that is no SideWriter
// fails such a Create with ErrInvalid.
func WithSideWrites(ctx context.Context, w ...SideWrite) context.Context {
	if len(w) == 0 {
		return ctx
	}
	prev := SideWritesFrom(ctx)
	all := make([]SideWrite, 0, len(prev)+len(w))
	return context.WithValue(ctx, sideWritesKey{}, append(append(all, prev...), w...))
}

// SideWritesFrom returns the side writes ctx carries (nil if none). The
// caller must not modify the returned slice.
func SideWritesFrom(ctx context.Context) []SideWrite {
	w, _ := ctx.Value(sideWritesKey{}).([]SideWrite)
	return w
}

// SideWrite returns a side write that stores obj at its key, as Update
// would encode it (without resourceVersion), compare-and-swap on
// obj.ResourceVersion (empty: the object must not exist yet). It runs the
// store's validator and size limit, not Update's metadata rules: obj should
// be a stored object with changes of its own, such as a status.
func (s *Store[T]) SideWrite(obj T) (SideWrite, error) {
	if err := checkNonNil(obj); err != nil {
		return SideWrite{}, err
	}
	m := obj.GetObjectMeta()
	if err := s.checkKeyArgs(m.Namespace, m.Name); err != nil {
		return SideWrite{}, fmt.Errorf("side write: %w", err)
	}
	key := s.Key(m.Namespace, m.Name)
	rev, err := ParseRevision(m.ResourceVersion)
	if err != nil {
		return SideWrite{}, fmt.Errorf("side write %s: %w", key, err)
	}
	if s.validate != nil {
		if err := s.validate(obj); err != nil {
			return SideWrite{}, fmt.Errorf("side write %s: %w", key, err)
		}
	}
	data, err := s.encode(obj, key)
	if err != nil {
		return SideWrite{}, fmt.Errorf("side write: %w", err)
	}
	return SideWrite{Key: key, Value: data, ModRevision: rev}, nil
}
