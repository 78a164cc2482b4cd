// Package store is setpoint's object model and typed object store.
//
// Objects are Go structs that embed TypeMeta and ObjectMeta and serialize as
// Kubernetes objects do. A Store[T] keeps one Resource of them in a
// byte-level Backend: etcd (package store/etcd) in production, or the
// in-memory backend (package store/memory) in tests and simulations. Both
// pass the same contract suite (package store/storetest). Timestamps are
// Time (RFC 3339, seconds, as metav1.Time) and MicroTime (six fractional
// digits, as metav1.MicroTime); the store reads creation and deletion
// timestamps from a clockwork.Clock (WithClock), the real clock by default.
//
// # Contract
//
// Reads are linearizable: Get, and List without a Revision, see every write
// that completed before they started. A List is consistent at one store
// revision (List.Revision), across all of its pages.
//
// Writes are compare-and-swap on resourceVersion, the etcd modification
// revision of the object's state as a decimal string. Every write is one
// atomic backend step together with all of its preconditions: Update with a
// stale ResourceVersion fails with a *ConflictError instead of overwriting a
// change it has not seen. GuaranteedUpdate retries read-modify-write until it
// wins. Revisions are global and strictly increasing.
//
// Watches deliver every change after a revision in revision order, none
// skipped and none repeated, or end with an error: ErrGone when the start
// revision has been compacted, in which case the caller relists;
// watch.ErrTooSlow when the consumer falls behind its byte budget, in which
// case it watches again after the last revision it processed. A watch with a
// selector reports an object that starts matching as Added and one that
// stops matching as Deleted; a stored value that does not decode is skipped
// and reported (logged, counted), never fatal to a list or a watch. The
// rules are written out on WatchCache.
//
// Watch cache: WatchCache (or WithWatchCache) serves every watch of a
// resource from one backend watch, decodes each event once, and hands each
// HTTP watcher the event's JSON encoded once (WatchEncoded). Its memory is
// bounded in events and bytes whatever the clients do, and it never dies for
// good: after its backend watch is compacted past (or cannot deliver in
// order, see store/etcd), it starts again at the current revision. Each
// start opens the backend watch first, on backends that implement
// CurrentWatcher, and loads the state at the revision that watch starts
// after, so the watch has nothing to catch up on. It also keeps the resource's current state and serves
// lists from it (WatchCache.List), as Kubernetes' cacher does:
// resourceVersion "0" at once, NotOlderThan once the cache is that new, and
// consistent lists (the default) once the cache has seen the backend's
// current revision, read with one small request (backends that implement
// ProgressRequester then send a progress notification, so that a quiet
// resource needs no write to catch up). Paged lists continue at their first
// page's revision from snapshots the cache keeps; what it cannot serve
// (Exact at another revision, a token whose snapshot is gone, a cache that
// has not caught up within ListWait) is read from the backend, with List's
// results and errors, ErrGone for compacted revisions included.
//
// Fences: WithFence puts election fences into a context; every write made
// with it succeeds only while each fence key still exists with its create
// revision (the leader's term), checked in the same transaction as the write.
// A deposed leader's writes fail with ErrFenced and change nothing.
//
// Dry runs: WithDryRun makes every write of a context a dry run, as
// Kubernetes' dryRun=All: the write makes all of its checks (validation,
// preconditions, existence, compare-and-swap, fences, read instead of
// transacted) and returns the would-be object, and stores nothing.
//
// Deletion: an object with finalizers (metadata.finalizers, and a
// resource's own pending ones given with WithFinalizing, such as a
// namespace's spec.finalizers) is only marked by Delete (deletionTimestamp,
// plus the resource's own mark) and goes when an update leaves it none.
// WithPropagationPolicy makes the delete set the policy's finalizer
// (orphan, foregroundDeletion) in that same write, as Kubernetes'
// apiserver does; a garbage collector then owes the object its
// dependents.
//
// Ownership: every object the store returns is freshly decoded (or deep
// copied) and belongs to the caller, except those of WatchEncoded, which
// watchers share read-only; objects passed to Create and Update are never
// modified. An Update or GuaranteedUpdate that changes nothing writes
// nothing.
//
// Concurrency: a Store is safe for concurrent use. GuaranteedUpdates of one
// object through one Store take turns (so a process does not fail its own
// compare-and-swaps); between processes, the compare-and-swap decides and the
// loser retries with jittered backoff. With WithWatchCache, all watches of a
// Store share one backend watch; Close stops it.
//
// Selectors: ParseSelector parses Kubernetes label selector syntax and
// ParseFieldSelector field selector syntax (both reject bad input with
// errors that wrap ErrInvalid and name the problem). Which field labels a
// resource supports is up to the resource: a Fields table maps each label
// to a function of the object and compiles a selector into a List or Watch
// Filter.
//
// # Errors
//
// Every error wraps one of the sentinels (check with errors.Is), a context
// error, or a transport error from the backend:
//
//   - ErrNotFound: the object does not exist.
//   - ErrAlreadyExists: Create found an object with that name.
//   - ErrConflict (as *ConflictError for revisions): a precondition failed;
//     re-read and retry.
//   - ErrInvalid (often as *FieldError or FieldErrors naming the field): the
//     request or object is malformed; nothing was written.
//   - ErrTooLarge: the encoded object is over the limit; also ErrInvalid.
//   - ErrGone: a revision (watch start, list continue token, old read) has
//     been compacted; relist.
//   - ErrFenced: a fence failed; the writer's term is over; nothing written.
package store
