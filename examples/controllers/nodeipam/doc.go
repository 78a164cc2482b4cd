// Package nodeipam is the example cluster's node IPAM controller: it
// gives every Node a pod CIDR (spec.podCIDR and spec.podCIDRs) cut from a
// configured cluster CIDR with a configured node mask, as Kubernetes'
// nodeipam controller with the RangeAllocator does (--cluster-cidr,
// --node-cidr-mask-size, --allocate-node-cidrs), and releases it when the
// node is deleted.
//
// Record and uniqueness. The node object is the record of what a node
// holds: once its spec.podCIDR is written (compare-and-swap on the node's
// resourceVersion) it is never changed. What makes two allocators —
// two controller-managers, or a deposed leader and its successor — never
// hand out the same CIDR is a claim per CIDR: a coordination Lease named
// podcidr-<cidr> in Config.ClaimNamespace (kube-system), created before
// the node is written. Creating an object of a given name succeeds once,
// so exactly one allocator wins each CIDR; a loser tries the next free
// one. The claim's holderIdentity is the node's UID and it is owned by
// the node (so the garbage collector removes it too).
//
// Allocation takes the lowest CIDR that neither a claim nor a node holds
// (Kubernetes rotates a next-candidate pointer instead). A claim already
// made for the node (a crash between claim and node write) is reused.
// When every subnet is taken the node gets a CIDRNotAvailable event and
// stays without a CIDR until one is released.
//
// Repair at startup (and whenever a node or claim changes): every node
// and claim is synced once; claims of nodes that no longer exist, or of
// an earlier node of the same name, are deleted; a CIDR a node holds
// without a claim is claimed for it (a clash is reported as a
// CIDRAssignmentFailed event, never resolved by changing a node's CIDR).
//
// Limits: one address family per cluster CIDR (no dual stack), at most
// 16 bits between the cluster and node masks (as Kubernetes).
package nodeipam
