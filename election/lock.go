package election

import (
	"context"
	"errors"

	"github.com/setpoint-dev/setpoint/store"
)

// Sentinel errors. Errors returned by this package wrap one of these (or a
// context or transport error); check with errors.Is.
var (
	// ErrInvalidConfig: a Config or lock argument is malformed. Nothing was
	// started.
	ErrInvalidConfig = errors.New("election: invalid configuration")
	// ErrHeld: the lock is held by someone else (and, for the object lock,
	// not yet expired by the caller's observation). Nothing was written.
	ErrHeld = errors.New("election: lock is held by another candidate")
	// ErrLost: the caller's term is over: its record was deleted, expired
	// on the server or replaced. Nothing was written.
	ErrLost = errors.New("election: lock lost")
	// ErrNotHeld: Renew or Release was called on a lock the caller never
	// acquired (or already released).
	ErrNotHeld = errors.New("election: lock not held by this caller")
	// ErrAlreadyRunning: Run was called while the same Elector was already
	// running.
	ErrAlreadyRunning = errors.New("election: elector is already running")
)

// Observation is one read of a lock.
type Observation struct {
	// Held reports that a record exists, that is, someone holds the lock.
	Held bool
	// Spec is the lock record; zero when !Held.
	Spec LeaseSpec
	// Term is the holder's term: the record key's create revision. Zero
	// when !Held.
	Term int64
	// Version is the record's modification revision; it changes with every
	// write to the record. Zero when !Held.
	Version int64
	// Revision is the store revision the read was made at. Wait(ctx,
	// Revision) returns once anything has changed after this read.
	Revision int64
}

// Reader reads a lock and waits for it to change. Observe needs only a
// Reader.
type Reader interface {
	// Get reads the lock's current state.
	Get(ctx context.Context) (Observation, error)
	// Wait blocks until the lock's holder may have changed after store
	// revision rev (a record was created or deleted, or, for locks whose
	// expiry is judged by observation, any write), or ctx ends. It may
	// return early; callers re-read with Get. It returns ctx's error when
	// ctx ends.
	Wait(ctx context.Context, rev int64) error
}

// Lock is the storage behind an election: a record that at most one
// candidate holds at a time. A Lock value serves one Elector: it remembers
// the term it acquired (and, for the etcd lock, its etcd lease).
//
// Implementations: etcdlock.Lock (package election/etcdlock; expiry timed
// by the etcd server) and ObjectLock (a Lease object in the typed store;
// expiry judged by the candidate's own observation time).
type Lock interface {
	Reader
	// Acquire tries once to take the lock with record spec. prev is the
	// caller's latest observation: if prev.Held, the caller has judged that
	// record expired, and a lock whose expiry is judged by observation may
	// replace it if it is still exactly prev (same Version); a lock whose
	// expiry is timed by the server only takes a free lock. On success it
	// returns the fence for the new term; otherwise ErrHeld, and nothing
	// was written.
	Acquire(ctx context.Context, spec LeaseSpec, prev Observation) (store.Fence, error)
	// Renew extends the caller's term and writes spec (its RenewTime) to
	// the record. ErrLost when the term is over. It should return when ctx
	// ends; one that does not cannot hold up the end of leadership (see
	// Elector.Run) but holds up the next call on the lock.
	Renew(ctx context.Context, spec LeaseSpec) error
	// Release ends the caller's term at once: it deletes the record, if
	// it is still the caller's, so waiting candidates take over without
	// waiting for expiry. ErrNotHeld if the caller holds no term.
	Release(ctx context.Context) error
}

// ExpiryJudge is implemented by locks whose expiry candidates judge by their
// own observation time (the object lock). A lock that does not implement it,
// or returns false, is expired by its server (the etcd lock), and candidates
// only ever take it when it is free.
type ExpiryJudge interface {
	// ExpiresByObservation reports whether candidates judge expiry.
	ExpiresByObservation() bool
}

// Preparer is implemented by locks that can make a later Acquire faster by
// preparing while the caller waits for the lock (the etcd lock keeps a
// granted etcd lease ready, so taking a free lock is one transaction). The
// elector calls Prepare, best effort, each time it starts waiting on a lock
// held by another candidate.
type Preparer interface {
	// Prepare readies an acquisition with spec's lease duration.
	Prepare(ctx context.Context, spec LeaseSpec)
}
