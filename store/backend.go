package store

import (
	"context"

	"github.com/setpoint-dev/setpoint/watch"
)

// KV is one key and its value as the backend stores it.
type KV struct {
	// Key is the full backend key.
	Key string
	// Value is the stored bytes (for a watch Deleted event: the last state).
	Value []byte
	// CreateRevision is the revision at which the key was last created.
	CreateRevision int64
	// ModRevision is the revision of the last write to the key. It is the
	// object's resourceVersion. On a watch Deleted event it is the revision
	// of the deletion.
	ModRevision int64
	// PrevValue is set only on watch events: the value before this change,
	// when the backend knows it; nil otherwise.
	PrevValue []byte
}

// Size returns the bytes kv holds (key, value and previous value): its
// weight against watch byte budgets (see watch.Sizer).
func (kv KV) Size() int64 {
	n := len(kv.Key) + len(kv.Value)
	if len(kv.PrevValue) > 0 && (len(kv.Value) == 0 || &kv.PrevValue[0] != &kv.Value[0]) {
		n += len(kv.PrevValue)
	}
	return int64(n)
}

// Fence is a write precondition that an election term turns into: the write
// succeeds only if Key currently exists with exactly CreateRevision. Each new
// leader creates its lock key anew, so a deposed leader's fence no longer
// matches and its writes fail with ErrFenced, in the same transaction as the
// write itself.
type Fence struct {
	// Key is the backend key of the lock record.
	Key string
	// CreateRevision is the lock key's create revision at acquisition: the term.
	CreateRevision int64
}

// RangeOptions select part of a prefix.
type RangeOptions struct {
	// Limit caps the number of keys returned; 0 means no limit.
	Limit int64
	// StartKey, when set, starts the range at this key (inclusive) instead of
	// at the prefix. It must lie inside the prefix.
	StartKey string
	// Revision reads the range as it was at this revision; 0 means the
	// current revision. A compacted revision gives ErrGone.
	Revision int64
}

// RangeResult is one page of a range read.
type RangeResult struct {
	// KVs are the keys in ascending key order.
	KVs []KV
	// Revision is the store revision the page was read at.
	Revision int64
	// More reports that keys remain after the last one returned.
	More bool
}

// Backend is a byte-level, revisioned key-value store: the one interface both
// etcd and the in-memory backend implement. Every write happens in one atomic
// step with all of its preconditions; every read is linearizable.
//
// Revisions are global and strictly increasing: each successful write gets a
// new revision larger than every earlier one.
type Backend interface {
	// Get returns the current value of key, or ErrNotFound.
	Get(ctx context.Context, key string) (KV, error)
	// Range returns keys with the given prefix, in key order, at one revision.
	Range(ctx context.Context, prefix string, opts RangeOptions) (RangeResult, error)
	// Create writes key only if it does not exist (ErrAlreadyExists) and all
	// fences hold (ErrFenced). It returns the new revision.
	Create(ctx context.Context, key string, value []byte, fences ...Fence) (int64, error)
	// Update writes key only if its ModRevision equals rev (*ConflictError,
	// or ErrNotFound if it is gone) and all fences hold. It returns the new
	// revision.
	Update(ctx context.Context, key string, value []byte, rev int64, fences ...Fence) (int64, error)
	// Delete removes key if its ModRevision equals rev (rev 0: any revision)
	// and all fences hold. It returns the deleted key's last state and the
	// revision of the deletion.
	Delete(ctx context.Context, key string, rev int64, fences ...Fence) (KV, int64, error)
	// Watch streams every change under prefix with a revision greater than
	// afterRev (0: after the current revision), in revision order. Added and
	// Modified events carry the new value; Modified events also carry the
	// previous value in KV.PrevValue when the backend knows it. Deleted
	// events carry the key's last state in KV.Value (and in KV.PrevValue),
	// with ModRevision set to the revision of the deletion. The stream may
	// also deliver watch.Bookmark events (progress notifications; KV is zero)
	// when the backend has them. A compacted afterRev gives ErrGone, either
	// as the returned error or as the stream's end.
	Watch(ctx context.Context, prefix string, afterRev int64) (watch.Watcher[KV], error)
	// Revision returns the store's current revision.
	Revision(ctx context.Context) (int64, error)
	// Compact discards history at and before rev; reads and watches at
	// older revisions then fail with ErrGone.
	Compact(ctx context.Context, rev int64) error
	// Close releases the backend's resources (not a shared client's).
	Close() error
}
