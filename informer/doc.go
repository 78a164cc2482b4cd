// Package informer keeps an in-memory, indexed cache of one resource in step
// with a store, and tells handlers about every change: the list-watch cache
// that controllers, schedulers and node agents read from.
//
// # Contract
//
//   - Source. An informer reads from a ListerWatcher (the typed store
//     satisfies it): a list consistent at one revision, then a watch of every
//     change after that revision, in revision order.
//   - Consistency. After HasSynced, the cache reflects a single store revision
//     (Revision) at least as new as the first list; every later change the
//     watch delivers moves it forward atomically. A relist replaces the
//     contents in one step. WaitForRevision(ctx, rev) returns once the cache
//     reflects revision rev, so a controller that wrote revision rev never
//     acts on an older cache (read-your-writes). Bookmarks from the source
//     advance the revision without changing objects.
//   - Recovery. The initial list is paged (Config.PageSize) at one
//     revision; if compaction expires it midway, the informer lists again
//     in one request. When the watch breaks, the informer resumes it from
//     the cache's revision (no event is lost: the source replays everything
//     after it); when that revision is gone (compacted: ErrGone) it
//     relists, replaces the cache in one step, and tells handlers what
//     changed while it was away: adds, updates, and deletes with
//     finalStateUnknown set, carrying the last state the cache saw. Retries back off with jitter from 800ms to 30s,
//     and the backoff resets after a watch has been healthy for two minutes.
//     WaitForSync and LastError report the real cause of a failure.
//   - Handlers. Each handler has its own goroutine and an unbounded queue, so
//     a slow handler delays only itself. Calls to one handler are sequential,
//     and in order per object (and in revision order overall). A handler is
//     called only after the cache and Revision hold the change it is told
//     of (they may hold later ones too), so it may rebuild a view from the
//     cache and record Revision without missing that change. A handler
//     added after the informer synced first receives the current contents as
//     OnAdd(obj, true); Registration.HasSynced reports when it has processed
//     them. Handlers can be removed at any time.
//   - Sharing. Objects in the cache and passed to handlers are shared by all
//     readers and are read-only: never modify one. Take a private copy with
//     store.Clone before changing it. The Transform hook can strip fields
//     before objects are cached, to save memory.
//   - Shared informers. A Factory hands out one informer per resource,
//     namespace and selector, reference counted: when the last user
//     releases it, it stops.
//   - Lifecycle. Informer.Run and Factory.Run block until their context
//     ends, then stop everything they started and return nil; both run
//     once, and a second Run returns ErrAlreadyRunning. Run them under an
//     errgroup with the rest of a component. Time (backoff, resync) comes
//     from Config.Clock, a clockwork.Clock, so tests drive it with
//     clockwork.NewFakeClock() instead of sleeping.
//   - Metrics (on a caller-supplied prometheus.Registerer): lists, list
//     errors, watches, relists, last synced revision, cached objects, handler
//     queue depth, all labelled by informer name.
package informer
