// Package scheduler is the example cluster's scheduler: it watches pods
// without spec.nodeName and the nodes through informers over
// examples/client, picks a node for each pod with a plugin framework
// (package framework, default plugins in package plugins) and binds it
// through the pods/<name>/binding subresource, as kube-scheduler does.
//
// Use: Config (Client required, every other field has a documented
// default), Validate, New, then Run(ctx) until ctx ends. Handler serves
// /healthz, /readyz and /debug/pods/<namespace>/<name>.
//
// Kubernetes behaviour followed:
//   - Profiles are chosen by spec.schedulerName; pods naming a scheduler
//     without a profile are left alone (no event, no condition).
//   - The queue orders pods by spec.priority, then arrival. A pod that
//     fails with an error is retried after a backoff of 1 s doubling per
//     attempt up to 10 s; an unschedulable pod waits in an unschedulable
//     set until a cluster event (a node added or changed, a bound pod
//     deleted or finished, a binding that failed) moves it back, within
//     its backoff. An update to the pod's own spec, labels or annotations
//     also moves it; a status-only update does not.
//   - A chosen pod is assumed on its node at once (the next pods see its
//     requests and ports) and bound asynchronously; a failed binding
//     forgets it and retries it.
//   - Filters run in parallel over the nodes, starting where the last
//     search stopped, until percentageOfNodesToScore's share of feasible
//     nodes is found (adaptive default: 50% minus 1% per 125 nodes, at
//     least 5%, at least 100 nodes). Scores are normalized to 0-100,
//     weighted (TaintToleration 3, NodeAffinity 2, others 1) and summed;
//     ties are broken at random.
//   - Opportunistic batching (as Kubernetes 1.35+): when every PreFilter,
//     Filter, PreScore and Score plugin of the profile reads only the pod
//     and one node (framework.SignPlugin; the basic plugins do, while
//     InterPodAffinity, PodTopologySpread, VolumeBinding and ImageLocality
//     do not), a pod whose signature equals the previous pod's reuses
//     that cycle's feasible nodes and raw scores: only the nodes that
//     changed since are filtered and scored again, every plugin's scores
//     are normalized afresh, and the best node is picked as a full cycle
//     would among those candidates. A batch serves consecutive cycles
//     only and for at most 500 ms (then a full search gives other nodes
//     their turn); scheduler_batched_cycles_total counts the reuses.
//   - InterPodAffinity, which counts pods over the whole cluster, keeps
//     each node's share of its counts across cycles
//     (plugins.NewInterPodAffinity, the default): a pod with the same
//     namespace, labels and pod affinity as one of the last four counted
//     counts again only the nodes that changed since, so the replicas of
//     one workload cost a few nodes' work each instead of every pod's.
//   - When no node fits, the FailedScheduling event and the PodScheduled
//     condition (False, reason Unschedulable) say "0/N nodes are available:
//     <count> <reason>, ..." with the reasons counted over nodes and sorted,
//     in the plugins' Kubernetes wording. A bound pod gets a Scheduled
//     event "Successfully assigned <ns>/<name> to <node>".
//   - DefaultPreemption (PostFilter, see DefaultPreemption): when no node
//     fits, the pod may evict lower-priority pods on the one node where
//     that helps most (PodDisruptionBudgets respected where possible,
//     preemptionPolicy Never honoured); the explanation then ends in
//     "preemption: 0/N nodes are available: ..." as Kubernetes' does.
//   - Default plugins and weights: NodeUnschedulable, NodeName,
//     TaintToleration (3), NodeAffinity (2), NodePorts, NodeResourcesFit
//     (1), VolumeBinding, PodTopologySpread (2), InterPodAffinity (2),
//     NodeResourcesBalancedAllocation (1), ImageLocality (1),
//     DefaultPreemption.
//   - Priority: the queue and preemption read spec.priority, which the
//     apiserver's Priority admission sets from priorityClassName (or the
//     globalDefault class), as in Kubernetes.
//   - VolumeBinding (plugins.VolumeBinding) for local PersistentVolumes:
//     a pod's bound claims pin it to their volumes' nodes; its unbound
//     WaitForFirstConsumer claims need a fitting available volume on the
//     node or a class that provisions; before binding the pod, the
//     scheduler binds the chosen static volumes (claimRef, volumeName and
//     both phases Bound, since the example cluster has no volume binder
//     controller) or writes volume.kubernetes.io/selected-node for the
//     provisioner (examples/controllers/localvolume), and waits (through
//     its claim and volume informers, at most DefaultVolumeBindTimeout)
//     until every claim is Bound.
//   - PodTopologySpread's system default constraints (zone maxSkew 5,
//     hostname maxSkew 3, ScheduleAnyway) apply to pods without
//     constraints of their own, over the pods selected by the Services that
//     select the pod merged with its ReplicationController, ReplicaSet or
//     StatefulSet controller's selector (Kubernetes' DefaultSelector); a
//     pod nothing selects gets none.
//   - Permit plugins may answer Wait with a timeout (at most 15 minutes):
//     the pod is assumed and its binding waits until every waiting plugin
//     allows it (Scheduler.WaitingPod(uid).Allow), one rejects it, or a
//     timeout passes ("rejected due to timeout after waiting <d> at plugin
//     <name>"); a rejected pod goes back to the unschedulable set. A held
//     pod occupies one of Config.BindWorkers.
//   - With Config.LeaderElection, replicas elect a leader through a Lease
//     (kube-system/kube-scheduler by default) as kube-scheduler does; only
//     the leader schedules, its writes carry the term's fence (a deposed
//     leader's binding gets 409 Fenced), and Run returns
//     ErrLeadershipLost when a term ends.
//
// Beyond Kubernetes: /debug/pods/<ns>/<name> serves the pod's last attempt
// with each rejected node's verdict (plugin, code, reasons) and each
// plugin's weighted score on the best-scored feasible nodes (the chosen
// one and at most nine runners-up, so a record's size does not grow with
// the cluster).
//
// Events (Scheduled, FailedScheduling) are core/v1 Events written by a
// controllerutil.Recorder, as Kubernetes' event broadcaster writes them:
// asynchronously, so no cycle waits on an event write; a repeat within ten
// minutes raises the first one's count; past a buffer of 1000 waiting
// events, more are dropped.
//
// Different from Kubernetes: new PersistentVolumes count as
// available while still Pending (no controller moves them on).
package scheduler
