// Package server is the example apiserver as a library: it serves the
// example API types (examples/api) from etcd over HTTPS in the Kubernetes
// wire format, so that kubectl and Kubernetes client libraries can use it.
// The command examples/apiserver runs it; tests start it in-process.
//
// It serves /api/v1/... and /apis/<group>/<version>/... (namespaced and
// all-namespace lists, watch, subresources), legacy discovery (/api, /apis,
// /api/v1, /apis/<g>/<v>), /version, /healthz, /livez and /readyz.
// /openapi/v2 and /openapi/v3 serve the api registry's documents, so
// kubectl validates on the server (fieldValidation=Strict) and computes
// apply patches from the served schemas.
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
//   - Admission: defaulting and validation of each kind; namespace
//     lifecycle (nothing is created in a missing or terminating
//     namespace); ResourceQuota on pods, cpu and memory per namespace
//     (pod creates in a namespace with a quota are serialized, so one
//     apiserver never overcommits a quota; a quota written around this
//     server, straight to etcd, is enforced once its cache sees it).
//     Deleting a namespace deletes its content first.
//   - Limits: request bodies over MaxBodyBytes get 413; more than
//     MaxInflight concurrent requests, or more than RateLimit per second,
//     get 429. Rejected requests write nothing.
//   - Shutdown ends every watch cleanly, finishes in-flight requests and
//     closes etcd. Acknowledged writes are in etcd (fsynced unless
//     EtcdNoFsync) before the response is sent.
package server
