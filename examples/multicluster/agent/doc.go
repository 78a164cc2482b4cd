// Package agent is the multi-cluster agent that runs in (or beside) a
// child cluster: it keeps one outbound tunnel to the hub
// (examples/multicluster/hub) open, reopening it with a doubling wait when
// it drops, so a child behind NAT needs no inbound port; it serves the
// hub's streams by connecting them to the child apiserver with its own
// client certificate (see examples/multicluster/tunnel); and every
// HeartbeatPeriod it reports the child's health: apiserver readiness and
// version, node count and ready nodes, the ready nodes' allocatable
// resources, and what the requests of the pods bound to them leave
// available, as Clusternet's agent does.
//
// Pull mode: with Config.ParentKubeconfig (its registration token in the
// parent) the agent watches the Descriptions of its cluster's namespace
// in the parent and applies each object in the child by server-side apply
// (field manager FieldManager, forced; its namespace created if missing),
// marking it with the annotation AnnotationDescription. It writes each
// object's result (applied, or the child's error) and status into the
// Description's status, with phase Success, or Failure and a reason naming
// every object at fault. What an earlier version of a Description held and
// the new one does not is deleted from the child; the agent's Finalizer
// keeps a deleted Description until its objects are gone from the child.
// Statuses are refreshed every HeartbeatPeriod. What the agent applies is
// also written ahead, before it applies it, into its record in the child
// (a ConfigMap named as the Description in RecordNamespace), so an object
// applied by a pass whose status write was lost to a conflict, or applied
// just before the agent stopped, is still removed when the Description
// drops it, by this run of the agent or the next. Removal deletes only
// objects still marked with AnnotationDescription for that Description:
// one someone else took over is left. Deleting the Description removes
// its record too.
//
// Contract: Run returns only when its context ends; an unreachable hub or
// child is logged and retried, and shows at the hub as a missed heartbeat
// or a dropped tunnel, never as a stale "ready".
package agent
