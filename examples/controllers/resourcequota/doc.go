// Package resourcequota is the ResourceQuota status controller, as
// Kubernetes' resourcequota controller (pkg/controller/resourcequota)
// keeps status: for every ResourceQuota it writes status.hard (a copy of
// spec.hard) and status.used, recomputed from the namespace's objects
// whenever they change, for exactly the resources spec.hard names.
//
// Usage counted: pods and their compute requests and limits as the
// apiserver's quota admission counts them (registry.PodUsage: "pods",
// "requests.cpu"/"cpu", "requests.memory"/"memory", "limits.cpu",
// "limits.memory"; finished pods count nothing), and "services" and
// "count/pods", "count/services". A resource spec.hard names that none of
// these count is reported as used 0. Admission (in the apiserver) is what
// enforces the quota; this controller only reports.
//
// Status writes go through the status subresource with the reconcile
// context, so under a controller manager they carry the leader's fence.
//
// Not done: scopes and scopeSelector (a quota with them is counted as if
// it had none), and counts of kinds the example apiserver does not serve.
package resourcequota
