package apiserver

import (
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/setpoint-dev/setpoint/store/rest"
)

// API priority and fairness (APF), simplified from Kubernetes'
// (k8s.io/apiserver/pkg/util/flowcontrol): every request is classified by
// the first matching flow schema (in precedence order) into a priority
// level. Each level has its own share of the server's concurrency limit
// (Config.MaxInflight), in seats; a request that finds no free seat waits
// in one of the level's queues, chosen by shuffle sharding on its flow
// (the requesting user), and the level serves its queues round robin, so
// that one flow cannot crowd out the others of its level, and no level can
// crowd out another. A request whose queue is full, or which waits longer
// than Config.PriorityAndFairnessQueueWait, gets 429 with Retry-After.
//
// Differences from Kubernetes: the flow schemas and priority levels are Go
// values (defaultAPFLevels, defaultAPFSchemas, after Kubernetes' default
// FlowSchemas and PriorityLevelConfigurations), not objects served under
// flowcontrol.apiserver.k8s.io; levels do not lend or borrow seats; every
// request takes one seat (no list work estimates); and queues are served
// round robin rather than by virtual finish time.

// apfLevelSpec is a priority level's configuration.
type apfLevelSpec struct {
	name string
	// exempt levels take no seat and never queue.
	exempt bool
	// shares is the level's nominal concurrency shares: its seats are
	// ceil(limit * shares / sum of all shares).
	shares int
	// queues is how many queues the level has (0: a request that finds no
	// seat is rejected at once); handSize is how many of them a flow's
	// shuffle-sharding hand holds; queueLength bounds each queue.
	queues, handSize, queueLength int
}

// The priority levels, named and sized as Kubernetes' defaults.
const (
	apfExempt         = "exempt"
	apfSystem         = "system"
	apfNodeHigh       = "node-high"
	apfLeaderElection = "leader-election"
	apfWorkloadHigh   = "workload-high"
	apfWorkloadLow    = "workload-low"
	apfGlobalDefault  = "global-default"
	apfCatchAll       = "catch-all"
)

// defaultAPFLevels returns Kubernetes' default priority levels: their
// nominal concurrency shares, queues, hand sizes and queue lengths.
func defaultAPFLevels() []apfLevelSpec {
	return []apfLevelSpec{
		{name: apfExempt, exempt: true},
		{name: apfSystem, shares: 30, queues: 64, handSize: 6, queueLength: 50},
		{name: apfNodeHigh, shares: 40, queues: 64, handSize: 6, queueLength: 50},
		{name: apfLeaderElection, shares: 10, queues: 16, handSize: 4, queueLength: 50},
		{name: apfWorkloadHigh, shares: 40, queues: 128, handSize: 6, queueLength: 50},
		{name: apfWorkloadLow, shares: 100, queues: 128, handSize: 6, queueLength: 50},
		{name: apfGlobalDefault, shares: 20, queues: 128, handSize: 6, queueLength: 50},
		// catch-all rejects rather than queues, as Kubernetes' does.
		{name: apfCatchAll, shares: 5},
	}
}

// apfRequest is what classification looks at.
type apfRequest struct {
	user *User
	info rest.RequestInfo
	// isResource is false for discovery, /version and other non-resource
	// paths.
	isResource bool
}

// apfSchema is a flow schema: requests it matches go to level, and its
// flows are distinguished by user.
type apfSchema struct {
	name  string
	level string
	match func(r *apfRequest) bool
}

// defaultAPFSchemas returns the flow schemas in precedence order, after
// Kubernetes' defaults (precedence in brackets):
//
//   - exempt [1]: group system:masters, to the exempt level.
//   - system-leader-election [100]: system:kube-controller-manager,
//     system:kube-scheduler and kube-system's service accounts getting,
//     creating or updating Leases, to leader-election.
//   - workload-leader-election [200]: any other service account doing so.
//   - system-node-high [400]: group system:nodes on nodes, nodes/status and
//     Leases (the node heartbeats), to node-high.
//   - system-nodes [500]: anything else from group system:nodes, to system.
//   - kube-controller-manager, kube-scheduler [800] and
//     kube-system-service-accounts [900]: to workload-high.
//   - service-accounts [9000]: group system:serviceaccounts, to
//     workload-low.
//   - global-default [9900]: every other user (authenticated or not), to
//     global-default.
//   - catch-all [10000]: whatever is left (no user), to catch-all.
func defaultAPFSchemas() []apfSchema {
	leaseWrite := func(r *apfRequest) bool {
		return r.isResource && r.info.APIVersion == "coordination.k8s.io/v1" && r.info.Resource == "leases" &&
			slices.Contains([]string{"get", "create", "update"}, r.info.Verb)
	}
	return []apfSchema{
		{"exempt", apfExempt, func(r *apfRequest) bool { return inGroup(r.user, "system:masters") }},
		{"system-leader-election", apfLeaderElection, func(r *apfRequest) bool {
			return leaseWrite(r) && (isUser(r.user, "system:kube-controller-manager", "system:kube-scheduler") || inGroup(r.user, "system:serviceaccounts:kube-system"))
		}},
		{"workload-leader-election", apfLeaderElection, func(r *apfRequest) bool {
			return leaseWrite(r) && inGroup(r.user, "system:serviceaccounts")
		}},
		{"system-node-high", apfNodeHigh, func(r *apfRequest) bool {
			if !inGroup(r.user, "system:nodes") || !r.isResource {
				return false
			}
			return (r.info.APIVersion == "v1" && r.info.Resource == "nodes" && (r.info.Subresource == "" || r.info.Subresource == "status")) ||
				(r.info.APIVersion == "coordination.k8s.io/v1" && r.info.Resource == "leases")
		}},
		{"system-nodes", apfSystem, func(r *apfRequest) bool { return inGroup(r.user, "system:nodes") }},
		{"kube-controller-manager", apfWorkloadHigh, func(r *apfRequest) bool { return isUser(r.user, "system:kube-controller-manager") }},
		{"kube-scheduler", apfWorkloadHigh, func(r *apfRequest) bool { return isUser(r.user, "system:kube-scheduler") }},
		{"kube-system-service-accounts", apfWorkloadHigh, func(r *apfRequest) bool { return inGroup(r.user, "system:serviceaccounts:kube-system") }},
		{"service-accounts", apfWorkloadLow, func(r *apfRequest) bool { return inGroup(r.user, "system:serviceaccounts") }},
		{"global-default", apfGlobalDefault, func(r *apfRequest) bool { return r.user != nil }},
		{"catch-all", apfCatchAll, func(*apfRequest) bool { return true }},
	}
}

// inGroup reports whether u is in group. Every user but system:anonymous
// counts as in system:authenticated, and service accounts in
// system:serviceaccounts and system:serviceaccounts:<namespace>, as
// Kubernetes' authenticators add those groups.
func inGroup(u *User, group string) bool {
	if u == nil {
		return false
	}
	if slices.Contains(u.Groups, group) {
		return true
	}
	switch {
	case group == "system:authenticated":
		return u.Name != "system:anonymous"
	case group == "system:serviceaccounts":
		return strings.HasPrefix(u.Name, "system:serviceaccount:")
	case strings.HasPrefix(group, "system:serviceaccounts:"):
		ns, _, ok := strings.Cut(strings.TrimPrefix(u.Name, "system:serviceaccount:"), ":")
		return ok && strings.HasPrefix(u.Name, "system:serviceaccount:") && ns == strings.TrimPrefix(group, "system:serviceaccounts:")
	}
	return false
}

// isUser reports whether u is one of names.
func isUser(u *User, names ...string) bool {
	return u != nil && slices.Contains(names, u.Name)
}

// apfUID is the stable UID of a flow schema or priority level, derived
// from its kind and name (they are not stored objects).
func apfUID(kind, name string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("setpoint.flowcontrol/"+kind+"/"+name)).String()
}
