// Package localvolume is the example cluster's local volume provisioner:
// it provisions hostPath PersistentVolumes under each node's data
// directory for claims of its StorageClasses (provisioner
// ProvisionerName, "setpoint.dev/local-path"), binds them, and reclaims
// them — in the manner of Rancher's local-path-provisioner and of
// Kubernetes' external provisioners and volume binder.
//
// Provisioning. A claim of one of its classes that is not bound waits for
// its first consumer (volumeBindingMode WaitForFirstConsumer; an Immediate
// class waits too, since a local volume lives on one node): the node a
// scheduler wrote in the claim's volume.kubernetes.io/selected-node
// annotation, or else the node of a scheduled pod that uses the claim.
// It then creates the PersistentVolume pvc-<claim UID>: capacity and
// access modes of the claim, the class's reclaimPolicy (default Delete),
// hostPath <dir>/pvc-<claim UID> of type DirectoryOrCreate, where <dir> is
// the node's setpoint.dev/local-volume-dir annotation or Config.BaseDir,
// node affinity kubernetes.io/hostname=<node>, and a claimRef to the claim
// (pre-bound, so no other claim can take it). It sets the volume's phase
// Bound, the claim's spec.volumeName, and the claim's phase Bound with
// capacity and access modes.
//
// Who makes the directory: the kubelet, when it mounts the volume
// (hostPath type DirectoryOrCreate). The provisioner is a control-plane
// controller and, like every component, reaches nodes only through the
// apiserver; the kubelet is the one process on the node.
//
// Reclaim. When the claim a volume of ours was bound to is gone (checked
// against the apiserver, not only the cache): reclaimPolicy Delete deletes
// the volume object; Retain marks it Released. The directory's contents
// are not removed by this controller (local-path-provisioner runs a helper
// pod on the node for that; here it is not done yet).
//
// Writes are compare-and-swap on the cached objects; volume creation is
// idempotent (the name derives from the claim's UID).
package localvolume
