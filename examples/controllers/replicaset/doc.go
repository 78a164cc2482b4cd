// Package replicaset is the ReplicaSet controller: it keeps the number of
// running pods of each apps/v1 ReplicaSet at spec.replicas, as Kubernetes'
// replica set controller (pkg/controller/replicaset) does.
//
// What it guarantees, and the Kubernetes rule behind each point:
//
//   - Ownership. A replica set controls the active pods (not terminal, not
//     being deleted) that carry its controller reference. A pod whose labels
//     stop matching the selector is released; an orphan in its namespace
//     that matches is adopted, after a fresh read of the replica set shows
//     it is the same object (same UID) and not being deleted
//     (ControllerRefManager, RecheckDeletionTimestamp). A pod controlled by
//     something else is never touched.
//   - No double creates. Before creating n pods or deleting chosen pods the
//     controller records expectations, and it creates or deletes again only
//     once its informer has shown all of them (or five minutes passed), so a
//     cache that lags behind its own writes never makes it create or delete
//     twice (UIDTrackingControllerExpectations).
//   - Bounded work. One sync creates or deletes at most BurstReplicas pods;
//     creates slow-start (1, then two more per success, as Kubernetes'
//     batches 1, 2, 4, ... allow, at most 64 in flight) and stop at the
//     first failure, so a template the server refuses costs one request.
//     Unlike Kubernetes, a create does not wait for the slowest one of
//     the batch before it (controllerutil.SlowStart).
//   - Which pods go first. On scale-down it deletes the pods Kubernetes'
//     ActivePodsWithRanks ranks first: unscheduled, then pending, then not
//     ready, lower pod-deletion-cost, more pods of the same owner family on
//     the node, ready for less time, more restarts, newer.
//   - Status (through the status subresource, compare-and-swap): replicas,
//     fullyLabeledReplicas, readyReplicas, availableReplicas (ready for at
//     least minReadySeconds), terminatingReplicas, observedGeneration, and
//     the ReplicaFailure condition while creating or deleting pods fails
//     (reason FailedCreate or FailedDelete).
//   - Events SuccessfulCreate, FailedCreate, SuccessfulDelete and
//     FailedDelete on the replica set, as Kubernetes emits them.
//   - Fencing. Every write uses the reconcile context; under a controller
//     manager that is the leader's context, so a deposed leader's writes
//     fail with store.ErrFenced. Each Run starts with no expectations.
//
// The same controller runs v1 ReplicationControllers
// (NewReplicationController, ReplicationControllerKind), converting each
// to a replica set and its status back, as Kubernetes' replication
// controller does: a map selector (empty: the template's labels), and
// every guarantee above.
//
// The controller reads replica sets and pods through the client's shared
// informers: run the informer factory (cs.Informers().Run) next to Run.
package replicaset
