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
// Contract: Run returns only when its context ends; an unreachable hub or
// child is logged and retried, and shows at the hub as a missed heartbeat
// or a dropped tunnel, never as a stale "ready".
package agent
