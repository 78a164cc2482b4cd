// Package garbagecollector is the garbage collector controller: it deletes
// objects whose owners are all gone, following Kubernetes' garbage
// collector (pkg/controller/garbagecollector) for background cascading
// deletion.
//
// It keeps a graph of owner references over the resources it tracks
// (Resources: those the example apiserver serves whose objects have owners:
// pods, replica sets, replication controllers, deployments, stateful sets,
// daemon sets, services and endpoints), built from shared informers.
// When an owner is deleted, or an object appears whose owner is not known,
// each dependent is checked:
//
//   - an owner reference is solid when an object with that UID exists: in
//     the graph, or else by a live read of the owner (its kind mapped to a
//     tracked resource; a namespaced owner is looked up in the dependent's
//     namespace, as Kubernetes requires); a read that finds the name with
//     another UID, or nothing, makes it dangling;
//   - a dependent whose owner references are all dangling is deleted, with
//     a UID precondition so a re-created object of the same name is never
//     touched (background deletion: what kubectl delete does by default);
//   - a dependent with at least one solid owner stays; so does one whose
//     owner is of a kind the collector does not track (it cannot tell), and
//     one already being deleted.
//
// Deletes go through the reconcile context, so under a controller manager
// they carry the leader's fence.
//
// Foreground and orphan deletion follow Kubernetes too. The apiserver's
// delete sets the policy's finalizer (store.WithPropagationPolicy); the
// collector then owes the owner its dependents:
//
//   - orphan: every dependent loses its reference to the owner and stays;
//     then the owner loses its orphan finalizer (and goes).
//   - foregroundDeletion: a dependent with another owner still present
//     only loses its reference to this one; every other dependent is
//     deleted, in the foreground itself when its reference has
//     blockOwnerDeletion (its own dependents first), in the background
//     otherwise; the owner loses its foregroundDeletion finalizer once no
//     dependent with a blocking reference remains. A dependent's change
//     or removal brings its waiting owners back to that check.
//
// Dangling references beside solid ones are left in place (Kubernetes
// removes them).
package garbagecollector
