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
// child as ready. The hub keeps this view in memory (Cluster, Clusters,
// and GET on .../v1alpha1/clusters) and writes it into the status of the
// cluster's ManagedCluster in the parent at every heartbeat and change of
// condition. Registration creates that ManagedCluster, labelled with the
// child's labels.
//
// Registration: an agent's bootstrap token may only create a
// ClusterRegistrationRequest; the hub creates it in the parent (kubectl get
// clsrr), noting who asked. It is approved at once under AutoApprove, or
// by a human (kubectl patch clsrr <name> --subresource=status --type=merge
// -p '{"status":{"result":"Approved"}}', or "Denied"; Hub.Approve,
// Hub.Deny). The agent's credentials are published by one status write
// conditional on the request's resourceVersion, so two hubs racing over a
// request hand out one token: the loser re-reads and returns the winner's.
//
// Token renewal: an agent posts to tunnel.TokenPath(id) with its current
// token (it must be that cluster's agent, as for heartbeats) and gets a
// new token of its service account, for AgentTokenExpiration, as a
// TokenRequest; the agent does so at 80% of its token's lifetime.
//
// Deregistration: Hub.Deregister revokes a cluster's credentials (its
// service account goes, so the parent refuses its tokens), deletes its
// request and dedicated namespace, and releases the agent's finalizers
// there. Deleting the cluster's ManagedCluster, or its namespace (whose
// contents the parent's namespace controller deletes), does the same: the
// hub puts HubFinalizer on every ManagedCluster it creates, and a
// ManagedCluster being deleted with it is deregistered before it goes, as
// a finalizer guarantees even when the hub was down at the delete.
//
// Serving the group: the parent apiserver serves
// multicluster.setpoint.dev/v1alpha1 when its Config.ExtraKinds holds
// Kinds(): every kind is defaulted and validated by its type (a
// Subscription with an unparsable selector or an override with a
// malformed patch is refused, naming the field), with kubectl columns
// (kubectl get subscriptions: STRATEGY, CLUSTERS with each one's
// replicas, DEPLOYED) and OpenAPI schemas made from the Go types.
//
// Applications: the Deployer (NewDeployer, run beside the hub) is the
// Subscription controller, as Clusternet's hub has. For each Subscription
// it binds the ManagedClusters its subscribers' label selectors match
// (each cluster once, with the first matching subscriber's weight); shares
// the replicas of each object with spec.replicas: under Replication every
// cluster gets them all, under Dividing they are split by the largest
// remainder method (Divide, whose shares always sum to the total) in
// proportion to the static weights, or (Dynamic) to how many replicas of
// the object's pod template requests fit in each cluster's
// status.available; renders a Base per cluster in its namespace mcls-<id>
// (named <namespace>.<name> of the Subscription) from the feeds, read from
// the parent less what its apiserver set, and the inline manifests; applies
// to each object the Globalizations selecting the cluster and then the
// Localizations in its namespace, each group lowest priority first (so a
// higher priority, and a Localization over a Globalization, wins), JSON
// patches by RFC 6902 and merge patches by RFC 7386 (github.com/evanphx/
// json-patch); and writes the result as the cluster's Description. The
// Bases and Descriptions of clusters no longer bound, or of a deleted
// Subscription, are deleted, so the agents remove their objects. The
// Subscription's status lists the bound clusters, their replicas and each
// one's progress (its Description's phase), with conditions Valid,
// Scheduled (false with reason FeedError naming the feed, NoCapacity or
// NoClusters) and Deployed (false with reason OverrideFailed naming the
// override and cluster, ApplyFailed naming the object and the child's
// message, or Progressing). An override that fails for a cluster leaves
// that cluster's Base and Description as they were: nothing partial is
// written. The deployer watches each feed object a Subscription names (one
// watch per object, stopped once no Subscription names it), so a change
// to a feed reaches the Descriptions at once; every ResyncPeriod it
// re-reads them all anyway, as a backstop.
//
// Contract: a request reaches only the child named in its path, as the
// authenticated caller, or is answered by the hub with a Kubernetes Status
// (401, 403, 503 when the child is not connected); the conditions reflect
// every tunnel and heartbeat event by the time Changed fires.
package hub
