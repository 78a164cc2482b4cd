// Package framework is the scheduler's plugin framework: the extension
// points of Kubernetes' scheduling framework (PreFilter, Filter,
// PostFilter, PreScore, Score with NormalizeScore, Reserve, Permit,
// PreBind, Bind, PostBind) as small interfaces, the per-cycle
// CycleState, the Status a plugin returns, and the NodeInfo and PodInfo
// views of the cluster the plugins read, with the resource arithmetic,
// host port bookkeeping and label/node selector matching they share.
//
// Contract:
//   - A nil *Status is Success. Unschedulable means preemption might
//     help; UnschedulableAndUnresolvable means it would not.
//   - NodeInfo and PodInfo handed to plugins are read-only and valid only
//     during the cycle; Clone gives a private copy.
//   - Resources follow Kubernetes: CPU in millicores rounded up, a pod's
//     request is max(sum of containers + sidecars, largest init container
//   - sidecars started before it), plus overhead; pod-level requests
//     replace CPU and memory.
//   - A nil label selector selects nothing, an empty one everything, as
//     in Kubernetes.
package framework
