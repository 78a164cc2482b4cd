// Package etcd is the etcd implementation of store.Backend, on an etcd v3
// client (go.etcd.io/etcd/client/v3).
//
// Every write is exactly one etcd transaction: the write's precondition
// (the key is absent for Create, its mod revision equals the expected one
// for Update and Delete) and one compare per fence
// (CreateRevision(fence.Key) == fence.CreateRevision) in the If branch, the
// write in the Then branch, and reads of the fence keys and the key in the
// Else branch, so that a failed transaction tells without another round trip
// whether a fence failed (store.ErrFenced, checked first), the key exists
// (store.ErrAlreadyExists), is missing (store.ErrNotFound) or has another
// revision (*store.ConflictError with the current revision).
//
// Reads are linearizable; a Range at a compacted revision gives
// store.ErrGone. Watches use one etcd watch with previous key-values, so
// Modified events carry PrevValue and Deleted events carry the last state.
// Progress notifications become watch.Bookmark events; events and
// bookmarks reach the consumer in revision order. When etcd breaks that
// order (it can send a progress notification to a watch that is still
// catching up on older revisions), the watch ends with a *watch.GoneError
// instead of skipping the late events, and the consumer relists as after
// a compaction (TestCatchUpKeepsEveryEvent). A watch from the current
// revision (WatchCurrent, or Watch from 0) has nothing to catch up on, and
// a watch cache opens its watch that way before it loads the state
// (store.CurrentWatcher), so its generations start in order.
//
// The backend does not own its client; Close ends its watches only.
package etcd
