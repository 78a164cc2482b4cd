// Package hub is the multi-cluster hub: an HTTPS server beside the
// parent apiserver that child clusters' agents (examples/multicluster/agent)
// keep their tunnels to, and through which callers reach the children's
// apiservers:
//
//	kubectl --server https://<hub>/apis/multicluster.setpoint.dev/v1alpha1/clusters/<id>/proxy get pods
//
// It works as an aggregated API server such as clusternet-hub does, and so
// stays off the parent apiserver's internals: callers authenticate with a
// client certificate signed by the parent's CA (ClientCAPEM) or with a
// bearer token the parent accepts (the hub asks the parent with a
// SelfSubjectReview made with that token, where Kubernetes would use a
// TokenReview: setpoint's apiserver has no TokenReview endpoint yet); each
// request is then authorized in the parent with a SubjectAccessReview:
//
//   - a caller of clusters/<id>/proxy needs the verb of the HTTP method
//     (get, create, update, patch, delete, as for nodes/proxy) on resource
//     "clusters", subresource "proxy", name <id>, group
//     multicluster.setpoint.dev;
//   - the agent of <id> (its tunnel and its heartbeats) needs "update" on
//     "managedclusters/status" named <id> in the namespace mcls-<id>.
//
// Answers are cached for AuthCacheTTL, as Kubernetes' webhook
// authenticator and authorizer cache theirs.
//
// A proxied request goes to the child as the caller: the hub drops the
// caller's credentials and names the caller (user, UID, groups, extras) in
// Kubernetes impersonation headers; the agent's own credentials in the
// child (which must allow impersonation) carry the request, and the
// child's RBAC judges the impersonated user. Each child has its own HTTP
// transport whose connections are streams of that child's tunnel only,
// so a request cannot be answered by another child. Watches and logs are
// flushed as they arrive, and upgraded connections (exec, attach,
// port-forward, over SPDY or WebSocket) are passed through.
//
// Health: the hub marks a cluster not Ready as soon as its tunnel drops
// (condition TunnelConnected, reason TunnelDisconnected) or its last
// heartbeat is HeartbeatGrace old (HeartbeatFresh, reason HeartbeatMissed),
// and Ready again once both are back; existing tools keep showing a dead
// child as ready. Until the parent apiserver serves the multicluster group,
// this status lives in memory (Cluster, Clusters, and GET on
// .../v1alpha1/clusters); it then moves to ManagedCluster status.
//
// Contract: a request reaches only the child named in its path, as the
// authenticated caller, or is answered by the hub with a Kubernetes Status
// (401, 403, 503 when the child is not connected); the conditions reflect
// every tunnel and heartbeat event by the time Changed fires.
package hub
