// Package nodelifecycle is the example cluster's node lifecycle
// controller with taint-based eviction: it follows Kubernetes'
// node-lifecycle-controller and taint-eviction-controller.
//
// Every Config.NodeMonitorPeriod (5 s) one pass (Monitor):
//
//  1. Health. A node's heartbeats are its Lease in kube-node-lease (renewTime)
//     and its Ready condition's lastHeartbeatTime. The controller notes, on
//     its own clock, when it last saw either change (so the kubelets'
//     clocks do not matter). When that is longer ago than
//     NodeMonitorGracePeriod (50 s, Kubernetes' default since 1.32;
//     NodeStartupGracePeriod, 60 s, for a node that never posted Ready), the
//     node's Ready, MemoryPressure, DiskPressure and PIDPressure conditions
//     become Unknown (reason NodeStatusUnknown, "Kubelet stopped posting node
//     status."), and the Ready condition of its pods becomes False.
//  2. Zones (labels topology.kubernetes.io/region and zone). A zone is
//     FullDisruption when none of its nodes is Ready, PartialDisruption when
//     more than two and at least UnhealthyZoneThreshold (55 %) are not, and
//     Normal otherwise.
//  3. Taints. node.kubernetes.io/not-ready (Ready False) or
//     node.kubernetes.io/unreachable (Ready Unknown) with effect NoSchedule
//     at once, and with effect NoExecute (timeAdded set) through a per-zone
//     token bucket of burst 1: EvictionLimiterQPS (0.1/s) in Normal and
//     FullDisruption zones, SecondaryEvictionLimiterQPS (0.01/s) in a
//     PartialDisruption zone of more than LargeClusterSizeThreshold (50)
//     nodes, none in a smaller one; when every zone is FullDisruption no
//     NoExecute taint is added and existing ones are removed (the fault is
//     likely the control plane's). not-ready and unreachable are swapped
//     without the limiter; both go when the node is Ready again.
//  4. Taint-based eviction. A pod on a node with NoExecute taints that it
//     does not all tolerate is deleted at once; otherwise once the least
//     tolerationSeconds of the tolerations used have passed since the
//     earliest NoExecute taint's timeAdded (never, if none sets seconds).
//     The deletion is graceful, with the pod's UID as precondition, and a
//     TaintManagerEviction event; workload controllers then replace the pod.
//
// Timing is on Config.Clock (clockwork), so tests drive it with a fake
// clock. Eviction deadlines are checked each pass, so an eviction happens
// up to NodeMonitorPeriod after its deadline (Kubernetes' taint manager
// uses a timer per pod). The DefaultTolerationSeconds admission plugin of
// the apiserver gives pods the usual 300 s tolerations of both taints.
//
// Writes are compare-and-swap on the cached objects' resourceVersion; a
// conflict leaves the work to the next pass. Under the controller-manager
// every write carries the leader's fence.
package nodelifecycle
