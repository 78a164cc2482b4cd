// Package apiserver is the example apiserver as a library: it serves the
// example API types (examples/api, with the rules of
// examples/apiserver/registry) from etcd over HTTPS in the Kubernetes wire
// format, so that kubectl and Kubernetes client libraries can use it. The
// command examples/cmd/apiserver runs it; tests start it in-process.
//
// Shape: Config (documented defaults) with Validate; New checks the
// configuration, loads the token and rules files and the PKI, and binds
// the listener (Addr and URL are known at once); Run(ctx) serves until ctx
// ends and returns after a graceful shutdown, or returns the error of a
// part that failed for good. Ready is closed once requests are served.
// Run's long-running parts (each resource's watch cache, the admission
// plugins' informers, the HTTPS server) run in one errgroup.
//
// It serves /api/v1/... and /apis/<group>/<version>/... (namespaced and
// all-namespace lists, watch, subresources) in JSON and Kubernetes'
// protobuf, aggregated discovery (apidiscovery.k8s.io v2 and v2beta1 at
// /api and /apis, JSON or protobuf, with an ETag) and legacy discovery
// (/api, /apis, /api/v1, /apis/<g>/<v>; a group version with no resource
// is never listed), /version, /healthz, /livez and /readyz. /openapi/v2
// (JSON, or gnostic's protobuf as kubectl asks) and /openapi/v3 serve the
// registry's documents, so kubectl validates on the server
// (fieldValidation=Strict) and computes apply patches from the served
// schemas. /metrics (Prometheus) and /debug/pprof/ (Go's profiles; off
// with Config.DisableProfiling) are served to callers the authorizer
// allows those non-resource URLs, as Kubernetes does.
//
// # Extra API groups
//
// Config.ExtraKinds serves kinds of the library user's own beside the
// built-in ones, in API groups of their own, as Kubernetes serves custom
// resources, but typed: a Go type implementing store.Object, described by
// registry.NewKind (defaults, validation, immutable fields, the status
// subresource, kubectl get columns, field selectors, and its OpenAPI
// schemas) and wrapped by Serve. Such a kind gets everything a built-in
// one does, through the same code: REST in JSON (protobuf gets 406/415
// unless the type has generated protobuf methods, as custom resources are
// JSON only), the watch cache, legacy and aggregated discovery, OpenAPI v2
// and v3 (kubectl explain, apply and field validation), tables,
// server-side apply, admission, RBAC by group and resource, and fenced
// writes. A server's documents are built for its own set of kinds; those
// of the built-in set are shared. Not done for extra kinds: object-count
// quotas, and the aggregation of the bootstrap admin/edit/view roles.
//
// The request path is a chain of http.Handler filters: health (no
// authentication), request info, authentication, limits, API priority
// and fairness, authorization, and then the resource mux, which hands each resource's requests to its
// REST handler (store/rest, with the kind's registry Strategy) or to a
// special route (pods/binding; pods/eviction; namespaces/finalize). Writes then pass the
// admission chain: NamespaceLifecycle; DefaultTolerationSeconds, which
// gives new pods 300 s tolerations of the not-ready and unreachable
// NoExecute taints as Kubernetes' plugin of that name does; Priority,
// which resolves a new pod's priorityClassName (or the globalDefault
// class) to spec.priority and spec.preemptionPolicy, refuses unknown
// classes and a second default class, as Kubernetes' Priority plugin
// does; then ResourceQuota. The validating plugins own their informer and, for the
// quota, its lock.
//
// # Contract
//
//   - TLS with a CA generated into DataDir/pki on first start and reused
//     after; the serving certificate is for 127.0.0.1, ::1 and localhost.
//   - Authentication: a client certificate signed by the CA (CN = user,
//     O = groups), a bearer token from the token file, a bound service
//     account token (an ES256 JWT from serviceaccounts/<name>/token, signed
//     by DataDir/pki/sa.key; it authenticates as
//     system:serviceaccount:<ns>:<name> only while its service account and
//     bound pod or secret exist with the UIDs it names, and the issuer's
//     /.well-known/openid-configuration and /openid/v1/jwks are served), or
//     a bootstrap token (<id>.<secret> against
//     kube-system/bootstrap-token-<id>, see examples/bootstrap). Anything
//     else is 401, with nothing said about why (health endpoints excepted).
//   - CertificateSigningRequests: the server fills the requester in; the
//     request must verify; node signers' requests must have their usages
//     and subject, and a node may ask only for itself; approving needs
//     "approve" and issuing "sign" on "signers".
//   - Secrets at rest: with EncryptionConfigFile, the configured
//     resources are encrypted in storage (store/encrypt).
//   - Authorization: the first rule of the rules file that matches the
//     user or one of its groups, the verb, the resource (with subresource
//     as "pods/status") and the namespace allows the request; otherwise
//     403. Discovery is open to every authenticated user.
//   - Limits: request bodies over MaxBodyBytes get 413; more than
//     RateLimit requests per second (watches included), more than
//     MaxInflight concurrent requests, or more than MaxLongRunning
//     concurrent watches, get 429. A request's body is read before it
//     takes an in-flight slot, within BodyTimeout (else 408 and the
//     connection closes), so slow senders cannot lock others out; every
//     request but a watch ends RequestTimeout after it arrived (504).
//   - API priority and fairness (apf.go), simplified from Kubernetes':
//     requests are classified by user, group, verb and resource into
//     Kubernetes' default priority levels (exempt for system:masters;
//     leader-election; node-high for system:nodes' Node and Lease
//     writes; system; workload-high for the controller manager,
//     scheduler and kube-system service accounts; workload-low for other
//     service accounts; global-default; catch-all). Each level has its
//     share of MaxInflight in seats and fair queues per user (shuffle
//     sharded, served round robin), so one user's flood of lists neither
//     starves its level's other users nor any other level. A full queue,
//     or a wait past PriorityAndFairnessQueueWait, is 429 with
//     Retry-After and a Status naming the level; every response carries
//     X-Kubernetes-PF-FlowSchema-UID and X-Kubernetes-PF-PriorityLevel-UID;
//     a watch holds its seat only until it starts, exec/attach/
//     port-forward/log/proxy take none. Metrics (MetricsRegistry):
//     apiserver_flowcontrol_current_inqueue_requests,
//     _current_executing_requests, _rejected_requests_total and
//     _request_wait_duration_seconds. Unlike Kubernetes, the flow schemas
//     and levels are Go configuration, not served as
//     flowcontrol.apiserver.k8s.io objects; levels neither lend nor
//     borrow seats; each request takes one seat (no width estimates).
//   - Storage: every CompactionInterval (default 5 minutes) the server
//     compacts storage up to the revision it saw one interval before;
//     storage that is out of space (etcd's "database space exceeded")
//     answers writes with 507 and what to do, never 500 (README:
//     defragmentation).
//   - Admission: defaulting and validation of each kind; namespace
//     lifecycle (nothing is created in a missing or terminating
//     namespace); ResourceQuota per namespace on pods, cpu and memory
//     and on the object counts count/<resource>[.<group>] (every served
//     namespaced resource), services and resourcequotas; a quota naming
//     anything else is 422, so every accepted name is enforced. A create
//     that a quota limits writes the quota's new status.used in its own
//     transaction, compare-and-swap on the quota as read before usage
//     was counted (store.WithSideWrites), so no number of apiservers on
//     one etcd overcommits a quota; a create that loses that race counts
//     again. A finished pod (Succeeded, Failed) cannot change phase
//     again (422), so it cannot come back past the quota. A quota
//     written through another apiserver holds at once: when the plugin's
//     cache has no quota for a namespace it asks the store. Deleting a namespace, by any path (DELETE of it or of the
//     collection), only marks it Terminating while its spec.finalizers
//     hold "kubernetes" (a store rule, store.WithFinalizing); the namespace
//     controller (examples/controllers/namespace, which this server does
//     not run) deletes the content and then finalizes the namespace
//     (namespaces/<name>/finalize), upon which it goes. Creates in a
//     terminating namespace are 403 with the NamespaceTerminating cause;
//     default, kube-system and kube-public cannot be deleted.
//   - Fences (rest.FenceHeader): each must be the store key of an object
//     the caller may get, otherwise 403 without a word about the key;
//     every write path (subresources, binding, finalize, deletecollection,
//     dry runs) honours them in the same transaction as its write.
//   - Every kind of the registry is served (core, apps, batch, discovery,
//     storage, scheduling, policy, events, certificates, rbac); at start
//     the default, kube-system, kube-public and kube-node-lease namespaces
//     and the system-cluster-critical and system-node-critical priority
//     classes are created. events.k8s.io/v1 Events are the core v1 Events
//     stored under the same keys, read and written in the other shape.
//   - pods/eviction (policy/v1 Eviction) deletes the pod unless a
//     PodDisruptionBudget that selects it allows no disruption: then 429
//     with Kubernetes' message and a DisruptionBudget cause, nothing
//     written; an allowed eviction records the disrupted pod in the
//     budget's status before the pod is deleted. dryRun=All decides and
//     writes nothing.
//   - Services get their ClusterIPs (Config.ServiceCIDRs, IPv4 and IPv6,
//     single- or dual-stack by spec.ipFamilyPolicy) and NodePorts
//     (Config.NodePortRange) from the ServiceAllocation admission step;
//     each address is a key in etcd written with the Service in one
//     transaction, so two apiservers never hand out the same one (see
//     servicealloc.go). Headless and ExternalName services get none; a
//     taken or out-of-range request is 422 naming the field. The kubernetes
//     Service in default (the range's first address, port 443) and its
//     EndpointSlice point at the apiserver.
//   - Every rejected request (401, 403, 404, 409, 413, 422, 429) answers
//     with a Kubernetes Status and writes nothing.
//   - Shutdown ends every watch cleanly, finishes in-flight requests (up
//     to ShutdownTimeout) and closes etcd. Acknowledged writes are in etcd
//     (fsynced unless EtcdNoFsync) before the response is sent.
package apiserver
