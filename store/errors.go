package store

import (
	"errors"
	"fmt"

	"github.com/setpoint-dev/setpoint/watch"
)

// Sentinel errors. Every error the store returns wraps one of these (or a
// context error, or a transport error from the backend); check with errors.Is.
var (
	// ErrNotFound: the object does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: Create found an object with that name.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: a compare-and-swap precondition failed (resourceVersion or
	// UID changed). Re-read and retry, or use GuaranteedUpdate.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the object or request is malformed; nothing was written.
	ErrInvalid = errors.New("invalid")
	// ErrTooLarge: the encoded object exceeds the size limit; nothing was
	// written. It also wraps ErrInvalid.
	ErrTooLarge = errors.New("object too large")
	// ErrGone: the requested revision (a watch start or a list continue
	// token) has been compacted. Relist. It is the same value as watch.ErrGone.
	ErrGone = watch.ErrGone
	// ErrNoSpace: the backend has run out of space (etcd's "database
	// space exceeded": its database reached its size quota). Reads still
	// work; an operator must compact, defragment and disarm the alarm
	// before writes do. Once the alarm is raised nothing is written, but
	// the one write that crossed the quota may have been applied (etcd
	// applies it, then answers NOSPACE): read before retrying it.
	ErrNoSpace = errors.New("storage is out of space")
	// ErrFenced: a fencing precondition failed: the writer's term is no
	// longer current. Nothing was written. A deposed leader gets this.
	ErrFenced = errors.New("fenced: write rejected for a stale term")
)

// ConflictError is returned when a revision precondition fails. It wraps
// ErrConflict and carries the revision the object has now.
type ConflictError struct {
	// Key is the backend key of the object.
	Key string
	// Expected is the revision the caller passed.
	Expected int64
	// Current is the object's current modification revision (0 if it no
	// longer exists).
	Current int64
	// Latest is the object's current state when the backend read it in the
	// same step as the failed write (both setpoint backends do), so that a
	// retry needs no extra read; nil otherwise. The caller owns it.
	Latest *KV
}

// Error describes the conflict with the key and both revisions.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("%v: %s: expected revision %d, current revision %d", ErrConflict, e.Key, e.Expected, e.Current)
}

// Unwrap returns ErrConflict.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// PreconditionError is a delete precondition (WithPreconditionUID,
// WithPreconditionResourceVersion) the stored object does not meet. Its
// message is Kubernetes' ("Precondition failed: UID in precondition: a,
// UID in object meta: b"), so an apiserver can pass it on without naming
// a storage key.
type PreconditionError struct {
	// Field is "UID" or "ResourceVersion".
	Field string
	// Precondition is the value the caller required; Stored the object's.
	Precondition, Stored string
	// Err is what the error wraps: a *ConflictError for ResourceVersion,
	// ErrConflict for UID.
	Err error
}

// Error is Kubernetes' wording of the failed precondition.
func (e *PreconditionError) Error() string {
	return fmt.Sprintf("Precondition failed: %s in precondition: %s, %s in object meta: %s", e.Field, e.Precondition, e.Field, e.Stored)
}

// Unwrap returns Err (so errors.Is(err, ErrConflict) holds).
func (e *PreconditionError) Unwrap() error { return e.Err }

// FieldError names an invalid field and why. It wraps ErrInvalid.
type FieldError struct {
	// Field is a path such as "metadata.name" or "spec.containers[0].image".
	Field string
	// Value is the offending value, printed in the message (may be empty).
	Value string
	// Reason says what is wrong.
	Reason string
}

// Error names the field, the value and the reason.
func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%v: %s: %s", ErrInvalid, e.Field, e.Reason)
	}
	return fmt.Sprintf("%v: %s %q: %s", ErrInvalid, e.Field, e.Value, e.Reason)
}

// Unwrap returns ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// FieldErrors is a list of field errors returned together. It wraps ErrInvalid.
type FieldErrors []*FieldError

// Error joins the errors' messages.
func (l FieldErrors) Error() string {
	switch len(l) {
	case 0:
		return ErrInvalid.Error()
	case 1:
		return l[0].Error()
	}
	s := l[0].Error()
	for _, e := range l[1:] {
		s += "; " + e.Field + ": " + e.Reason
	}
	return s
}

// Unwrap returns ErrInvalid.
func (l FieldErrors) Unwrap() error { return ErrInvalid }

// ErrOrNil returns nil for an empty list and the list otherwise.
func (l FieldErrors) ErrOrNil() error {
	if len(l) == 0 {
		return nil
	}
	return l
}
