// Package statefulset is the StatefulSet controller: it keeps each apps/v1
// StatefulSet's pods, one per ordinal with a stable identity and stable
// storage, as Kubernetes' stateful set controller (pkg/controller/statefulset)
// does.
//
// What it guarantees, and the Kubernetes rule behind each point:
//
//   - Identity. The pod of ordinal i (from spec.ordinals.start, default
//     0) is named "<set>-<i>", has hostname "<set>-<i>" and subdomain
//     spec.serviceName (the headless service's DNS name), and carries the
//     labels statefulset.kubernetes.io/pod-name, apps.kubernetes.io/pod-index
//     and controller-revision-hash (its revision's name). Pods matching the
//     selector with such a name are adopted, others are left alone.
//   - Storage. Before a pod is created, each volumeClaimTemplate becomes the
//     claim "<template>-<set>-<i>" (labelled with the selector's labels) if
//     it does not exist, and the pod mounts it in place of any volume of the
//     same name. persistentVolumeClaimRetentionPolicy: whenDeleted=Delete
//     makes the set the claims' owner (the garbage collector removes them
//     with it); whenScaled=Delete deletes a removed ordinal's claims when
//     its pod is deleted; Retain (the default) keeps them.
//   - OrderedReady (default): pods are created lowest ordinal first, each
//     only once every lower one is Running and Ready (and available for
//     minReadySeconds); a failed pod is deleted and recreated with the same
//     name; scale-down deletes the highest ordinal first, one at a time,
//     only while every other pod is healthy. Parallel creates and deletes
//     without waiting.
//   - Revisions. The template is stored as a ControllerRevision
//     "<set>-<hash>" whose data is the strategic merge patch
//     {"spec":{"template":{...,"$patch":"replace"}}} (so kubectl rollout
//     history and undo work); an equal older revision is renumbered instead
//     of duplicated; hash collisions raise status.collisionCount; revisions
//     beyond revisionHistoryLimit (default 10) that no pod uses are deleted.
//   - RollingUpdate replaces pods of another revision from the highest
//     ordinal down to the partition, keeping at most maxUnavailable
//     (default 1) replicas unavailable; ordinals below the partition are
//     (re)created at the current revision. OnDelete replaces nothing: pods
//     pick up the update revision when the user deletes them.
//   - Status: replicas, readyReplicas, availableReplicas, currentReplicas,
//     updatedReplicas, currentRevision, updateRevision (the current
//     revision becomes the update revision once every replica is updated
//     and ready), observedGeneration and collisionCount.
//   - No expectations are needed: names are fixed, so a stale cache makes
//     a create fail with AlreadyExists instead of duplicating a pod, and
//     deletes carry a UID precondition.
//   - Every write uses the reconcile context, so under a controller
//     manager a deposed leader's writes fail with store.ErrFenced.
//
// Differences from Kubernetes: the claims of a removed ordinal are
// deleted directly (Kubernetes makes the pod their owner and lets the
// garbage collector act); status conditions are not written.
//
// The controller reads stateful sets, pods and controller revisions
// through the client's shared informers: run the informer factory
// (cs.Informers().Run) next to Run.
package statefulset
