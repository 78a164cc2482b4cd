// Package reconcile turns change notifications into level-based reconciles:
// a generic work queue, rate limiters, and the controller runner that feeds queued keys to a Reconciler on a pool of
// workers.
//
// # Contract
//
// Queue[K] keeps client-go's workqueue guarantees:
//
//   - A key added many times before a worker takes it is handed out once.
//   - One key is never handed to two workers at once: from Get until Done it
//     is processing, and adds in that time are held back.
//   - A key added while it is processing is handed out again after Done.
//   - Nothing added before ShutDownWithDrain is lost: it returns only when
//     every such key has been handed out and is Done. (Keys still waiting on
//     AddAfter's delay are discarded by both ShutDown and ShutDownWithDrain;
//     ShutDown also discards pending keys and stops handing out at once.)
//
// Keys are handed out first by priority (AddWithPriority; informer handlers
// put the initial list at PriorityLow so it does not hold up fresh changes),
// then in the order they became pending. Every delay (AddAfter,
// AddRateLimited, timeouts, token buckets) is timed on the clockwork.Clock
// given in the config (the real clock by default), which tests replace with
// clockwork.NewFakeClock() so that they never sleep.
//
// A Controller[K] reconciles with the same guarantees: one key is never
// reconciled by two workers at once, and a key added while it is being
// reconciled is reconciled again afterwards. A failed reconcile is retried
// with the rate limiter's backoff, capped by Config.MaxRetryDelay; an error
// wrapped with TerminalError is not retried; a panic is recovered, logged
// with its stack as an error wrapping ErrPanic, and retried. Run runs the
// controller until its context ends and waits for in-flight reconciles
// (pending keys stay queued); it can be run again after it returns, which is
// how a controller runs only while its process leads: call Run from the
// election's on-started-leading callback
// with the context that ends when leadership ends. Reconciles run with
// that context's values, so a fence it carries (store.WithFence) guards
// their writes.
//
// EnqueueKey, EnqueueOwner and EnqueueMapped return handlers with the
// methods of informer.Handler[T] (OnAdd(obj, initial), OnUpdate(old, new),
// OnDelete(obj, finalStateUnknown)) that add keys to a queue; predicates
// such as GenerationChanged filter the events first.
//
// Metrics go to a caller-supplied prometheus.Registerer (see NewMetrics);
// logs go to a caller-supplied *slog.Logger, with the key on every line.
package reconcile
