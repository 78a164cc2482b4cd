// Package podgc is the pod garbage collector, as Kubernetes' podgc
// controller (pkg/controller/podgc):
//
//   - Terminated pods: when more pods than TerminatedPodThreshold have
//     phase Succeeded or Failed, the oldest (by creation time) are deleted
//     down to the threshold (kube-controller-manager
//     --terminated-pod-gc-threshold, default 12500).
//   - Orphaned pods: a pod bound to a node that does not exist (not in the
//     node cache, and a live read finds no such node) is deleted.
//
// It works every Period (Kubernetes' gcCheckPeriod, 20s) on the
// injectable clock; each delete has a UID precondition, so a re-created
// pod of the same name is never touched, and uses the Run context, so
// under a controller manager it carries the leader's fence.
//
// Not done: Kubernetes marks an orphaned pod Failed with a DisruptionTarget
// condition before deleting it, and force-deletes unscheduled terminating
// pods; the example apiserver deletes pods at once (no graceful
// termination), so the latter never arise.
package podgc
