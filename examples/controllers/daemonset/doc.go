// Package daemonset is the DaemonSet controller: it runs one pod of each
// apps/v1 DaemonSet on every eligible node, as Kubernetes' daemon set
// controller (pkg/controller/daemon) does.
//
// What it guarantees, and the Kubernetes rule behind each point:
//
//   - Eligibility (NodeShouldRunDaemonPod): the template's nodeSelector and
//     required node affinity must match the node, and every NoSchedule or
//     NoExecute taint must be tolerated. Daemon pods get these tolerations
//     automatically: node.kubernetes.io/not-ready and unreachable
//     (NoExecute, no time limit), disk-pressure, memory-pressure,
//     pid-pressure and unschedulable (NoSchedule), and network-unavailable
//     for host-network pods. A pod already running stays on a node that
//     gains an untolerated NoSchedule taint; an untolerated NoExecute taint
//     or a selector that stops matching removes it.
//   - Placement like Kubernetes: pods are not bound by the controller;
//     each carries a required node affinity on metadata.name of its node,
//     and the scheduler binds it there.
//   - One pod per node: a missing pod is created, a failed one deleted (and
//     recreated), duplicates beyond the oldest deleted, pods on nodes that
//     no longer exist deleted. Creations and deletions are recorded as
//     expectations first, so a stale cache never doubles them; orphans
//     matching the selector are adopted after a fresh read of the set.
//   - Revisions: the template is stored as a ControllerRevision (data
//     {"spec":{"template":{...,"$patch":"replace"}}}, so kubectl rollout
//     history and undo work); pods carry its controller-revision-hash;
//     revisions beyond revisionHistoryLimit (default 10) that no pod uses
//     are deleted.
//   - RollingUpdate: with maxSurge 0, old pods that are unavailable are
//     replaced at once and available ones only while fewer than
//     maxUnavailable (default 1) eligible nodes lack an available pod; with
//     maxSurge, a new pod starts next to the old one on up to maxSurge nodes
//     and the old one is deleted once the new one is available
//     (minReadySeconds). OnDelete replaces pods only when users delete them.
//   - Status: desiredNumberScheduled, currentNumberScheduled,
//     numberMisscheduled, numberReady, numberAvailable, numberUnavailable,
//     updatedNumberScheduled, observedGeneration, collisionCount.
//   - Every write uses the reconcile context, so under a controller
//     manager a deposed leader's writes fail with store.ErrFenced.
//
// The controller reads daemon sets, pods, nodes and controller revisions
// through the client's shared informers: run the informer factory
// (cs.Informers().Run) next to Run.
package daemonset
