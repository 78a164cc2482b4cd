// Package namespace is the example cluster's namespace controller: it
// empties namespaces that are being deleted and then lets them go, as
// Kubernetes' namespace controller does.
//
// Deleting a namespace (any way: DELETE of it, of the namespaces
// collection, through any client) only marks it: the apiserver sets its
// deletionTimestamp and phase Terminating and keeps it while its
// spec.finalizers hold "kubernetes"; meanwhile nothing new may be created
// in it. The controller watches namespaces (through the apiserver, with an
// informer) and, for each one marked so:
//
//  1. discovers every namespaced resource that supports deletecollection
//     (GET /api, /apis and their versions);
//  2. deletes the collection of each in the namespace;
//  3. lists what remains, and which finalizers hold it;
//  4. reports all of that as the namespace's status conditions
//     NamespaceDeletionDiscoveryFailure, NamespaceDeletionContentFailure,
//     NamespaceContentRemaining and NamespaceFinalizersRemaining (type,
//     status True while the problem lasts, reason and message as
//     Kubernetes writes them);
//  5. once nothing remains, removes "kubernetes" from spec.finalizers
//     through the namespaces/<name>/finalize subresource, upon which the
//     apiserver deletes the namespace.
//
// While content remains (objects whose own finalizers hold them, for
// example), the namespace is checked again every Config.RecheckInterval;
// failures are retried with the controller's backoff. Shape: Config
// (Validate, documented defaults), New, Run(ctx). It reaches the cluster
// only through the apiserver (examples/client).
//
// Differences from Kubernetes: no metadata-only client (lists decode only
// metadata, which is the same on the wire), no per-group-version parsing
// failure condition (the discovery documents name their group-versions),
// and no estimate of the time graceful deletions need (a fixed recheck
// interval instead).
package namespace
