// Package etcdlock is the etcd-lease lock for package election: an
// election.Lock whose record lives under one etcd key bound to an etcd
// lease, so that the etcd server, not a candidate's clock, decides when a
// silent leader's term ends.
//
// It is a package of its own so that package election, and every program
// that only needs its Lease types or its store-object lock (a kubelet, a
// proxy, a client), does not link the etcd client and gRPC.
//
// # Contract
//
// The record is an election.Lease object (JSON, shaped like Kubernetes'
// coordination.k8s.io/v1 Lease) stored under the lock's key.
//
//   - Expiry is timed by the etcd server. Acquire grants an etcd lease of
//     the spec's LeaseDurationSeconds (the server rounds it up to its
//     minimum TTL) and creates the key bound to it; Renew refreshes it. When
//     the holder stops renewing, the server revokes the lease and deletes
//     the key, at most TTL plus its expiry check interval (500 ms) after
//     the last renewal it received; an etcd leader change restarts every
//     lease's countdown, so expiry can come later than that, never earlier.
//     Candidates watch the key and try to take it the moment it is
//     deleted. No client clock is compared with another, and Acquire never
//     replaces an existing record, even one the caller judges expired.
//   - The term is the key's create revision. Every acquisition creates the
//     key anew, so terms only grow, and at any store revision at most one
//     term is current.
//   - Fencing: Acquire returns store.Fence{Key: key, CreateRevision: term}.
//     A store write made with that fence (store.WithFence; the Elector puts
//     it in its leader's context) succeeds only while the key still has
//     that create revision, checked in the same etcd transaction as the
//     write, so a deposed leader's writes fail with store.ErrFenced and
//     change nothing. This holds whatever the clocks and the network do.
//   - Renew refreshes the lease and rewrites the record (its RenewTime) in
//     a transaction guarded by the term; it fails with election.ErrLost,
//     writing nothing, once the lease has expired or the key was deleted or
//     re-created.
//   - Release revokes the term's lease: one write that deletes the record
//     if it is still the caller's (a later holder's key is bound to another
//     lease and is untouched), so the next candidate takes over at once.
//   - Prepare, called by the Elector while it waits on a held lock, keeps
//     one granted lease ready, so that taking a free lock is a single
//     transaction. A prepared lease holds no key; unused, it expires.
//
// What the lock does not guarantee: a holder learns that its term is over
// only when a renewal fails, or by its own clock (the Elector's renew
// deadline). A leader whose clock runs slower than the server's by more
// than LeaseDuration - RenewDeadline over one lease, or that is paused,
// may act for a moment after the server has expired its term; only fenced
// store writes are safe then. Package election states these limits in
// full.
//
// Errors wrap election's sentinels: election.ErrInvalidConfig (a bad key,
// a nil client, a lease duration under one second; nothing written),
// election.ErrHeld, election.ErrLost and election.ErrNotHeld; other errors
// come from the etcd client or the context.
//
// A Lock serves one election.Elector; election.Observe may share it. The
// caller keeps ownership of the etcd client.
package etcdlock
