// Package rest serves typed store resources over HTTP in the Kubernetes
// REST shape, and is a typed HTTP client of them.
//
// A Handler serves one resource (a *store.Store[T]) at the Kubernetes paths
// /api/v1/[namespaces/<ns>/]<resource>[/<name>[/<subresource>]] and
// /apis/<group>/<version>/...: get, list (labelSelector, fieldSelector,
// limit/continue, resourceVersion), create (generateName), update (PUT with
// a resourceVersion precondition), patch (JSON merge, JSON and strategic
// merge patch, and server-side apply), delete (preconditions, finalizers), the status and scale
// subresources, and watch (?watch=true or /watch/ paths; resourceVersion,
// allowWatchBookmarks, and sendInitialEvents=true, whose initial events end
// with a bookmark annotated k8s.io/initial-events-end: "true"). Lists and
// single objects are rendered as a meta.k8s.io/v1 Table when the Accept
// header asks for one.
//
// Bodies, responses, lists, watch streams and Status errors are JSON or
// Kubernetes' protobuf (application/vnd.kubernetes.protobuf: the k8s\x00
// envelope; watches as length-prefixed WatchEvent frames), chosen from
// Content-Type and Accept as Kubernetes' apiserver chooses (q-values,
// wildcards, Tables in JSON only; 406 and 415 as Status). Protobuf is
// offered when T's pointer has the generated methods (Size,
// MarshalToSizedBuffer, Unmarshal) or Config.Protobuf supplies them; each
// watch event is encoded once per format and shared by every watcher.
// Lists are served from the handler's watch cache (store.WatchCache.List:
// resourceVersion "0", NotOlderThan and consistent lists, and the pages of
// the lists it served; Exact at another revision and compacted tokens go
// to the store, which answers 410 Expired once the revision is compacted),
// and each listed object's JSON or protobuf is encoded once per revision
// and shared by every list and watch that sends it.
// Negotiate applies the same rules for other endpoints (discovery).
//
// Each resource's rules come from one value, its Strategy: defaulting and
// validation, and optional pieces the Handler finds by type assertion
// (create, update and status preparation, field selectors, tables, scale,
// the patch schema), each with a documented default. Writes then pass the
// admission chain (Config.Admission): MutatingAdmission plugins may change
// the object before validation; ValidatingAdmission plugins decide after
// it, each wrapping the write, so a plugin can hold a lock across it.
//
// Every write keeps metadata.managedFields as Kubernetes does (package
// fieldmanager): creates, updates, patches and subresource writes record
// an Update entry for the fieldManager parameter, or else the
// User-Agent's product ("kubectl" for "kubectl/v1.32.0 ..."); a PATCH
// with Content-Type application/apply-patch+yaml (a YAML or JSON object;
// fieldManager required, force=true optional) is a server-side apply,
// merged by the field manager with the strategy's ApplyType and creating
// the object when there is none.
//
// Client implements store.Interface[T] over HTTP, so that informers and
// election locks work against a Handler as they do against etcd.
//
// # Contract
//
//   - Errors are Kubernetes Status objects (watch.Status, the one Status
//     type) with the matching code: 400
//     malformed requests (naming the parameter or field), 404, 409
//     (AlreadyExists, Conflict, and Fenced for a stale fence), 410 for a
//     compacted revision, 413 for a body over the limit, 415, 422 for
//     invalid objects (one cause per field), and what admission chooses
//     (for example 403 or 429). A rejected request writes nothing.
//   - Order of a create or update: decode, preparation (PrepareForCreate,
//     PrepareForUpdate or PrepareForStatusUpdate), Default, mutating
//     admission, Validate or ValidateUpdate, validating admission around
//     the store write. A delete passes validating admission only.
//   - Lists and watches follow the resourceVersion table of the Kubernetes
//     API concepts documentation and its ListOptions validation: a
//     resourceVersion N with a limit (or resourceVersionMatch=Exact) is the
//     consistent snapshot at N (410 once compacted), without a limit the
//     latest state not older than N; a revision newer than the store's is
//     504 (ResourceVersionTooLarge); forbidden combinations are 422 Invalid
//     on ListOptions, malformed numbers 400. A watch's initial state is
//     read in pages at one revision, and timeoutSeconds (clamped to
//     MaxTimeoutSeconds) bounds the stream after it, on Config.Clock.
//   - Every write (create, update, patch, delete, deletecollection, the
//     status and scale subresources) takes dryRun=All (in the query, or a
//     delete's DeleteOptions body): admission and validation run and the
//     answer is the would-be object, but nothing is stored
//     (store.WithDryRun); any other dryRun value is 400. DeleteOptions
//     are validated as Kubernetes does (422 Invalid DeleteOptions for an
//     unknown propagationPolicy; a negative grace period counts as 1).
//   - Fences: at most MaxFences per request (400); a failed fence is 409
//     Fenced saying nothing of what the fence key holds. Which keys a
//     caller may use as fences is the server's to decide (the example
//     apiserver allows the keys of objects the caller may get).
//   - Writes are compare-and-swap on resourceVersion; an update or patch
//     without one is applied to the current version and retried on
//     conflict (a patch that changes metadata.resourceVersion makes the
//     new value a precondition). Fences in FenceHeader are checked in the
//     same transaction.
//   - Server-side apply: 409 Conflict with one FieldManagerConflict cause
//     per field when the configuration changes fields other managers own
//     (unless force=true), in Kubernetes' message format; 400 for a body
//     that is not one object of the resource's apiVersion and kind, names
//     another object, sets managedFields or does not fit the schema; 422
//     without fieldManager. An unchanged configuration writes nothing.
//     A failure to record managedFields never fails an ordinary write (the
//     stored entries are kept and the failure logged).
//   - Watches are served from the store's watch cache (store.WatchCache:
//     one store watch per resource, each event decoded once and its JSON
//     encoded once for every watcher, written by the one wire encoder,
//     watch.Encoder); a watch from a revision older than its window is
//     replayed from the store's history instead, so a client resuming
//     after a restart misses nothing. Events arrive in revision order, none
//     skipped or repeated; an object that stops matching a selector is
//     reported as DELETED, one that starts matching as ADDED (the rules are
//     store.WatchCache's, the same as Store.Watch's). A watcher that falls
//     behind its byte budget ends with an ERROR 429 (its client watches
//     again after the last revision it processed); one whose revision the
//     cache lost ends with 410 Expired (relist). When Run's context ends,
//     every watch response ends cleanly (no ERROR event) so clients
//     re-watch from the last revision they saw.
package rest
