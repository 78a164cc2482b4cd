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
// all-namespace lists, watch, subresources), legacy discovery (/api, /apis,
// /api/v1, /apis/<g>/<v>), /version, /healthz, /livez and /readyz.
// /openapi/v2 and /openapi/v3 serve the registry's documents, so kubectl
// validates on the server (fieldValidation=Strict) and computes apply
// patches from the served schemas.
//
// The request path is a chain of http.Handler filters: health (no
// authentication), request info, authentication, limits, authorization,
// and then the resource mux, which hands each resource's requests to its
// REST handler (store/rest, with the kind's registry Strategy) or to a
// special route (pods/binding; namespaces/finalize). Writes then pass the
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
//   - Every rejected request (401, 403, 404, 409, 413, 422, 429) answers
//     with a Kubernetes Status and writes nothing.
//   - Shutdown ends every watch cleanly, finishes in-flight requests (up
//     to ShutdownTimeout) and closes etcd. Acknowledged writes are in etcd
//     (fsynced unless EtcdNoFsync) before the response is sent.
package apiserver
