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
// schemas.
//
// The request path is a chain of http.Handler filters: health (no
// authentication), request info, authentication, limits, authorization,
// and then the resource mux, which hands each resource's requests to its
// REST handler (store/rest, with the kind's registry Strategy) or to a
// special route (pods/binding; pods/eviction; namespaces/finalize). Writes then pass the
// admission chain: NamespaceLifecycle, then ResourceQuota, each a
// rest.ValidatingAdmission plugin owning its informer and, for the quota,
// its lock.
//
// # Contract
//
//   - TLS with a CA generated into DataDir/pki on first start and reused
//     after; the serving certificate is for 127.0.0.1, ::1 and localhost.
//   - Authentication: a client certificate signed by the CA (CN = user,
//     O = groups) or a bearer token from the token file. Anything else is
//     401 (health endpoints excepted).
//   - Authorization: the first rule of the rules file that matches the
//     user or one of its groups, the verb, the resource (with subresource
//     as "pods/status") and the namespace allows the request; otherwise
//     403. Discovery is open to every authenticated user.
//   - Limits: request bodies over MaxBodyBytes get 413; more than
//     MaxInflight concurrent requests, or more than RateLimit per second,
//     get 429 (watches are exempt).
//   - Admission: defaulting and validation of each kind; namespace
//     lifecycle (nothing is created in a missing or terminating
//     namespace); ResourceQuota on pods, cpu and memory per namespace
//     (pod creates in a namespace with a quota are serialized by the
//     plugin's lock, held across the check and the write, so one
//     apiserver never overcommits a quota; a quota written around this
//     server, straight to etcd, is enforced once the plugin's informer
//     sees it). Deleting a namespace, by any path (DELETE of it or of the
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
//   - Every rejected request (401, 403, 404, 409, 413, 422, 429) answers
//     with a Kubernetes Status and writes nothing.
//   - Shutdown ends every watch cleanly, finishes in-flight requests (up
//     to ShutdownTimeout) and closes etcd. Acknowledged writes are in etcd
//     (fsynced unless EtcdNoFsync) before the response is sent.
package apiserver
