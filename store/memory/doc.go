// Package memory is an in-memory store.Backend with the same semantics as
// the etcd backend: global strictly increasing revisions, multi-version
// history so a Range at an older revision sees the old state, compaction
// after which older reads and watches fail with watch.ErrGone, fences
// checked atomically with each write, and watches from any retained
// revision whose Deleted events carry the key's last state.
//
// It passes the same contract suite (store/storetest) as the etcd backend and
// is meant for tests, examples and simulations of large clusters. Keys are
// kept in a sorted slice and each key's versions in a slice, so reads are
// O(log n) per key and writes O(n) in the worst case for new keys; history
// grows until Compact is called.
package memory
