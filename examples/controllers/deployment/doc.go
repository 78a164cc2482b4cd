// Package deployment is the Deployment controller: it rolls each apps/v1
// Deployment out through replica sets, as Kubernetes' deployment
// controller (pkg/controller/deployment) does. The replica set controller
// (package replicaset) then keeps each replica set's pods.
//
// What it guarantees, and the Kubernetes rule behind each point:
//
//   - One replica set per template: the replica set whose template equals
//     the deployment's (ignoring the pod-template-hash label) is the new
//     one; if there is none it creates "<deployment>-<hash>", with the
//     hash of the template (and status.collisionCount) as the
//     pod-template-hash label on its selector, template and labels, and a
//     controller reference. Orphan replica sets matching the selector are
//     adopted, and ones that stop matching are released.
//   - RollingUpdate: all replica sets together never want more than
//     replicas + maxSurge pods (percentages round up), nor are scaled up
//     while their pods (status.replicas of a set still scaling down)
//     exceed it, so the pods stay within it too; old ones are
//     scaled down only while at least replicas - maxUnavailable pods
//     (rounded down; 1 if both are 0) stay available, unhealthy old
//     replicas first. Recreate: old replica sets go to zero, and the new
//     one is created and scaled up only once no old pod remains.
//   - Revisions: each replica set carries deployment.kubernetes.io/revision;
//     a new template gets the highest revision + 1, and a template that
//     returns (kubectl rollout undo) makes its old replica set new again
//     with the next revision, remembering the earlier one in
//     deployment.kubernetes.io/revision-history. The deployment carries
//     its current revision. Once a rollout is complete, fully scaled-down
//     old replica sets beyond revisionHistoryLimit are deleted, oldest
//     first. So kubectl rollout history, undo and restart work.
//   - Pause: a paused deployment gets no new replica set (a single active
//     one still follows replicas), and Progressing is Unknown
//     (DeploymentPaused); kubectl rollout pause and resume work.
//   - Status (status subresource): replicas, updatedReplicas,
//     readyReplicas, availableReplicas, unavailableReplicas,
//     terminatingReplicas, observedGeneration, collisionCount, and the
//     conditions Available (MinimumReplicasAvailable or
//     MinimumReplicasUnavailable) and Progressing (NewReplicaSetCreated,
//     FoundNewReplicaSet, ReplicaSetUpdated, NewReplicaSetAvailable,
//     ProgressDeadlineExceeded after progressDeadlineSeconds without
//     progress), which kubectl rollout status reads.
//   - Events ScalingReplicaSet on every scale, as Kubernetes emits them.
//   - Fencing: every write uses the reconcile context, so under a
//     controller manager a deposed leader's writes fail.
//
// Not done: proportional scaling of every replica set when replicas
// change in the middle of a rollout (the rolling update absorbs the
// change instead), and the deprecated spec.rollbackTo.
package deployment
