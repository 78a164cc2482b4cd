package runtime

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error a Runtime returns wraps one of these (or a
// context error); check with errors.Is.
var (
	// ErrNotFound: no sandbox or container has that ID.
	ErrNotFound = errors.New("runtime: not found")
	// ErrImageNotFound: the image is not present and could not be pulled.
	ErrImageNotFound = errors.New("runtime: image not found")
	// ErrInvalid: the request is malformed (bad field, bad resource value,
	// a command that cannot run); nothing was created.
	ErrInvalid = errors.New("runtime: invalid argument")
	// ErrAlreadyExists: a sandbox or container with that identity exists.
	ErrAlreadyExists = errors.New("runtime: already exists")
	// ErrFailedPrecondition: the object is in the wrong state for the
	// operation (for example starting a container twice, or creating a
	// container in a stopped sandbox).
	ErrFailedPrecondition = errors.New("runtime: failed precondition")
	// ErrUnavailable: a dependency (the containerd daemon, a registry, a CNI
	// plugin) could not be reached.
	ErrUnavailable = errors.New("runtime: unavailable")
)

// FieldError names an invalid field and why. It wraps ErrInvalid.
type FieldError struct {
	// Field is a path such as "resources.memoryLimit".
	Field string
	// Value is the offending value (may be empty).
	Value string
	// Reason says what is wrong.
	Reason string
}

// Error says which field is invalid and why.
func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%v: %s: %s", ErrInvalid, e.Field, e.Reason)
	}
	return fmt.Sprintf("%v: %s %q: %s", ErrInvalid, e.Field, e.Value, e.Reason)
}

// Unwrap returns ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func fieldErr(field, value, reason string) error {
	return &FieldError{Field: field, Value: value, Reason: reason}
}
