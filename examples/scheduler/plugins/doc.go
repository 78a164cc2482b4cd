// Package plugins holds the scheduler's default plugins, each following
// the semantics of the Kubernetes plugin of the same name:
//
//   - NodeName: a pod with spec.nodeName fits only that node.
//   - NodeUnschedulable: nodes with spec.unschedulable are rejected unless
//     the pod tolerates the node.kubernetes.io/unschedulable:NoSchedule
//     taint.
//   - NodeResourcesFit: the pod's requests (init containers, sidecars and
//     overhead included; see framework.PodRequests) and one pod slot must
//     fit the node's allocatable minus what its pods request; scored
//     LeastAllocated (default), MostAllocated or RequestedToCapacityRatio
//     over the non-zero requests.
//   - NodeResourcesBalancedAllocation: prefers nodes where the fractions of
//     CPU and memory in use stay close (100 × (1 − standard deviation)).
//   - NodePorts: a host port (IP, protocol, port) may be used once per
//     node; 0.0.0.0 overlaps every address.
//   - TaintToleration: NoSchedule and NoExecute taints must be tolerated;
//     untolerated PreferNoSchedule taints lower the score.
//   - NodeAffinity: spec.nodeSelector and required node affinity filter;
//     preferred terms add their weights to the score.
//   - InterPodAffinity: required pod affinity and anti-affinity by
//     topologyKey (with the existing pods' anti-affinity applied
//     symmetrically) filter; preferred terms of both sides score. See
//     InterPodAffinity.
//   - PodTopologySpread: DoNotSchedule constraints filter by skew,
//     ScheduleAnyway ones (and default constraints) score. See
//     PodTopologySpread.
//   - ImageLocality: nodes that already hold the pod's images score
//     higher, scaled by how widely each image is spread.
//   - VolumeBinding: the pod's PersistentVolumeClaims, bound ones by their
//     volumes' node affinity, WaitForFirstConsumer ones by a fitting
//     volume or a provisioner for the node; Reserve and PreBind bind them
//     through a VolumeClient. See VolumeBinding.
//
// The PreFilter and PreScore plugins count over the whole cluster once
// per cycle (framework.AllNodes) so that Filter and Score are lookups.
//
// Filter messages are Kubernetes' own, so that the "0/N nodes are
// available" explanations read the same.
package plugins
