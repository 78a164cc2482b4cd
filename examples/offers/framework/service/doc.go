// Package service is an example framework on examples/offers/framework:
// it keeps a number of long-running replicas of one task, spread across
// nodes, one per node at most.
//
// Of each offer it takes one replica if no replica runs on the offer's
// node and replicas are missing; otherwise it declines the offer with a
// refuse filter, so the allocator offers that node to others for a while.
// A replica that ends (fails, is lost, even finishes: a service is meant
// to run) is replaced, on a node without one. Spreading this way is what
// Kubernetes' PodTopologySpread with maxSkew 1 over hostnames, or
// anti-affinity of the replicas, asks of its scheduler.
package service
