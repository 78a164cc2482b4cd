// Package election is lease-based leader election with fencing: the way a
// replicated scheduler or controller manager makes sure only one replica
// acts.
//
// # Pieces
//
// A Lock holds a LeaseSpec (holder identity, lease duration, acquire and
// renew times, lease transitions) stored as a Lease object shaped field for
// field like Kubernetes' coordination.k8s.io/v1 Lease, so Kubernetes tools
// read it. Two implementations:
//
//   - the etcd lock, etcdlock.Lock in package
//     github.com/setpoint-dev/setpoint/election/etcdlock: the record lives
//     under an etcd key bound to an etcd lease. The etcd server times
//     expiry; waiting candidates watch the key and take it the moment it is
//     deleted (released or expired), not at the next poll. It is a package
//     of its own so that this package does not import the etcd client, and
//     programs that use only the Lease types or the object lock do not link
//     it.
//   - ObjectLock: a Lease object in a typed store, through any LeaseStore
//     (store.Interface[*Lease] plus Key: the typed store over etcd or
//     memory, or a remote client that honours fences). Renewals are fenced
//     updates; candidates judge expiry by how long they have seen the
//     record unchanged on their own clock, and take over by deleting
//     exactly the record they saw (resourceVersion precondition) and
//     creating a new one. The holder records its term in the Lease's
//     TermAnnotation before it leads.
//
// An Elector (New, Config, Run) campaigns, calls OnStartedLeading with a
// context that ends the moment leadership is lost or given up, renews every
// RetryPeriod, and stops leading RenewDeadline after the start of its last
// successful renewal even if a renewal is still in flight, whether or not
// the Lock honours its context (the lock is not called again until that
// renewal returns). Every duration is measured on Config.Clock, a
// clockwork.Clock, so tests drive expiry, skew and drift with
// clockwork.NewFakeClock() instead of sleeping. Observe follows
// an election without taking part. Check is a health check that fails while
// a deposed leader's OnStartedLeading is still running.
//
// # Terms and fencing
//
// Every acquisition creates the lock key anew, so the term, the key's
// create revision, only grows, and at most one term is current at any
// revision. OnStartedLeading's context carries the term's store.Fence
// (store.WithFence); Elector.Fence and Elector.Term expose it too. A store
// write made with that context succeeds only if the lock key still has that
// create revision, checked in the same etcd transaction as the write;
// otherwise it fails with store.ErrFenced and writes nothing.
//
// # What is guaranteed
//
// With fencing (every write that matters is a store write made with the
// leader's context), regardless of process pauses, clock skew, clock drift
// and network partitions: accepted fenced writes of an older term never
// follow, in store revision order, an accepted write of a newer term, and
// writes of two terms never interleave. This rests only on etcd's
// linearizable transactions (or the memory backend's single lock). A leader
// that was paused or cut off and did not notice that it lost gets
// store.ErrFenced on every fenced write. Effects outside the store (calls to
// other systems, files, containers) are not fenced; make them idempotent or
// guard them with a fenced store write first.
//
// Without fencing, "only one acts" holds only under timing assumptions, as
// in every lease-based scheme:
//
//   - Process pauses: a leader stops acting (its context is canceled) on its
//     own clock, RenewDeadline after its last successful renewal began. A
//     process paused past that point (GC, SIGSTOP, VM migration, a blocked
//     callback that ignores its context) cannot cancel anything; when it
//     resumes it may act for a moment on a term that is already over. Check
//     reports a leader whose callback outlives its deadline.
//   - Clock skew (clocks set to different times) does not matter: no
//     timestamp is ever compared across processes. RenewTime is
//     informational.
//   - Clock drift (clocks running at different rates) matters through the
//     margin LeaseDuration - RenewDeadline: with the etcd lock the server
//     expires the lease LeaseDuration (rounded up to whole seconds, and at
//     least the server's minimum TTL) after it received the last renewal;
//     with the object lock candidates wait LeaseDuration after they saw the
//     last renewal. The leader is safe if its clock does not run slower than
//     the server's (etcd lock) or the candidates' (object lock) by more than
//     that margin over one lease. With the object lock, a candidate whose
//     clock runs faster than LeaseDuration/RetryPeriod times the leader's
//     takes over from a live leader.
//   - Partitions: a leader cut off from etcd stops at its renew deadline;
//     candidates that still reach a quorum take over after expiry. A
//     candidate that cannot reach a quorum never acquires. A leader whose
//     etcd member loses quorum cannot renew and steps down the same way.
//
// # Failover
//
// After a release (ReleaseOnCancel, or a lost renewal deadline) the next
// candidate takes over at once. After a crash: with the etcd lock, when the
// server expires the lease, at most LeaseDuration (rounded up as above) plus
// etcd's expiry check interval (500 ms) after the last renewal; with the
// object lock, LeaseDuration after a candidate last saw the record change,
// within one RetryPeriod.
//
// # Callbacks
//
// Run calls OnStartedLeading in its own goroutine and waits for it to return
// before it calls OnStoppedLeading, releases the lock (when appropriate) and
// campaigns again, so one Elector never runs two terms' callbacks at once.
// OnNewLeader runs on the elector's goroutine and must return quickly.
package election
