package watch

import (
	"errors"
	"fmt"
)

// EventType says what happened to an object. The values are the strings used on
// the wire, the same as Kubernetes watch events.
type EventType string

// The event types.
const (
	// Added: the object was created (or first seen by this watch).
	Added EventType = "ADDED"
	// Modified: the object was changed.
	Modified EventType = "MODIFIED"
	// Deleted: the object was removed; the event carries its last state.
	Deleted EventType = "DELETED"
	// Bookmark: no object changed, but the stream has seen every change up to
	// the event's Revision. Object is the zero value.
	Bookmark EventType = "BOOKMARK"
	// Error: the stream failed; Err says why. It is the last event of a stream.
	Error EventType = "ERROR"
)

// Valid reports whether t is one of the defined event types.
func (t EventType) Valid() bool {
	switch t {
	case Added, Modified, Deleted, Bookmark, Error:
		return true
	}
	return false
}

// Event is one change in a revision-ordered stream.
type Event[T any] struct {
	// Type says what happened.
	Type EventType
	// Object is the object's state after the change; for Deleted, its last
	// state before deletion. Zero for Bookmark and Error.
	Object T
	// Revision is the store revision at which the change happened (for
	// Bookmark: the revision the stream has caught up to). Zero for Error.
	Revision int64
	// Err is set for Error events only.
	Err error
}

// Sentinel errors. Streams end with one of these (possibly wrapped) or with
// the context's error.
var (
	// ErrGone means the requested start revision has been compacted away or
	// has fallen out of a broadcaster's window. The caller must relist.
	ErrGone = errors.New("watch: requested revision is no longer available")
	// ErrTooSlow means the subscriber did not keep up with the stream and was
	// cut off instead of being buffered without bound. The caller should
	// resume from the last revision it processed.
	ErrTooSlow = errors.New("watch: subscriber fell too far behind")
	// ErrStopped means Stop was called on the watcher.
	ErrStopped = errors.New("watch: stopped")
	// ErrClosed means the source of the stream shut down.
	ErrClosed = errors.New("watch: source closed")
)

// Watcher is a revision-ordered stream of events. Events arrive in strictly
// increasing revision order (bookmarks may repeat the last revision), none
// skipped and none repeated. When the stream ends, the channel returned by
// Events is closed and Err returns the reason, which is never nil.
type Watcher[T any] interface {
	// Events returns the stream's channel. It is closed when the stream ends.
	Events() <-chan Event[T]
	// Err returns why the stream ended; nil while it is still open.
	Err() error
	// Stop ends the stream and releases its resources. The Events channel
	// is closed soon after, with Err returning ErrStopped. Stop is safe to
	// call more than once and from any goroutine.
	Stop()
}

// GoneError reports that a start revision is no longer available. It wraps
// ErrGone.
type GoneError struct {
	// Requested is the revision the caller asked to start after.
	Requested int64
	// Oldest is the oldest revision the source can still start after.
	Oldest int64
}

// Error implements the error interface.
func (e *GoneError) Error() string {
	return fmt.Sprintf("%v: asked for revision %d, oldest available is %d", ErrGone, e.Requested, e.Oldest)
}

// Unwrap returns ErrGone.
func (e *GoneError) Unwrap() error { return ErrGone }
