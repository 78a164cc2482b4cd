// Package endpointslice is the example cluster's EndpointSlice controller
// (discovery.k8s.io/v1): for every Service with a selector it keeps the
// slices that list the service's pods, as Kubernetes' endpointslice
// controller does.
//
// Rules followed (Kubernetes' pkg/controller/endpointslice and its
// reconciler, behaviour re-implemented here):
//
//   - A pod is listed when it has an address and has not finished
//     (phase Succeeded or Failed), including while it terminates.
//   - Conditions: serving is the pod's Ready condition, terminating is its
//     deletion mark, ready is serving and not terminating — or always true
//     when the service sets publishNotReadyAddresses.
//   - Ports: each service port is resolved per pod (a named targetPort
//     through the pod's container port of that name and protocol); pods
//     with different resolved port sets go into different slices, and a
//     port that does not resolve on a pod is left out for that pod.
//   - hostname is set when the pod names a hostname and the service as
//     its subdomain; nodeName and zone (the node's
//     topology.kubernetes.io/zone label) are set from the pod's node.
//   - At most Config.MaxEndpointsPerSlice (100) endpoints per slice, with
//     the reuse rules of Kubernetes' reconciler: an endpoint stays in the
//     slice it is in; slices changed anyway are filled first; new slices
//     hold up to the maximum; a last partial chunk goes into the fullest
//     unchanged slice it fits rather than a new slice; empty slices are
//     deleted; a service without endpoints keeps one empty placeholder.
//   - Slices carry kubernetes.io/service-name, the
//     endpointslice.kubernetes.io/managed-by label (Config.ManagedBy;
//     slices managed by others are never touched), the service's labels,
//     service.kubernetes.io/headless for headless services, and a
//     controller ownerReference to the service, so the garbage collector
//     deletes them with it.
//   - A pod change is synced after Config.BatchPeriod (default 0, as
//     Kubernetes), so changes inside the window are written together.
//
// Guarantees: writes are compare-and-swap on the cached slice's
// resourceVersion (a conflict is retried), and a service whose slice
// cache has not yet seen this controller's own last writes is not synced
// until it has (so a stale cache never makes duplicate slices). Under the
// controller-manager every write carries the leader's fence.
//
// Metrics (Config.Registerer): setpoint_endpointslice_endpoints_lag_seconds,
// a histogram of the time from the controller observing a pod change to
// the write of the slice that carries it, and
// setpoint_endpointslice_changes_total by operation, plus the reconcile
// controller's queue and latency metrics.
//
// Differences from Kubernetes: no topology hints (trafficDistribution),
// no dual-stack address-type selection by the service's ipFamilies
// (each pod address goes into a slice of its own family), and the lag is
// measured from when the controller sees the change, not from the
// EndpointsLastChangeTriggerTime annotation.
package endpointslice
