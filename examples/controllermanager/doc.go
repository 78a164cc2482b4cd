// Package controllermanager is the example cluster's
// kube-controller-manager as a library: Config, Validate, New, Run.
//
// It runs a chosen set of controllers (Config.Controllers, with
// Kubernetes' names and --controllers syntax: "*", "name", "-name"; see
// KnownControllers) behind one leader election over a coordination/v1
// Lease in the apiserver (kube-system/kube-controller-manager by default),
// reached only through examples/client.
//
// Guarantees:
//
//   - Only the leader's controllers act, and every write they make
//     (objects, status, Events) is made with the leader's context, which
//     carries the term's fence: once another manager holds the lease, each
//     such write fails with store.ErrFenced and changes nothing, even if
//     this manager was paused and has not noticed (see package election for
//     what holds under pauses, drift and partitions).
//   - Like kube-controller-manager, which exits when it loses the lease, Run
//     returns ErrLeadershipLost after a term ends: a new term starts from a
//     new Manager with fresh caches and expectations.
//   - Each controller's Events carry Kubernetes' component name
//     ("replicaset-controller", "deployment-controller", ...) and this
//     manager's identity as reporting instance.
//   - Metrics (elector, shared informers, and per controller: queue depth,
//     reconcile latency, errors) go to Config.Registerer; /healthz and
//     /metrics are served on Config.Listen (Handler serves them elsewhere).
//     /healthz fails while a deposed leader's controllers still run.
//   - Logs go to Config.Logger through log/slog, keyed by controller and
//     object.
//
// The controllers (KnownControllers lists them), each a package under
// examples/controllers: replicaset, replicationcontroller (the replicaset
// package), deployment, garbagecollector, podgc,
// resourcequota, namespace, endpoint, endpointslice, nodeipam (only with
// Config.ClusterCIDR), nodelifecycle, csrapproving, csrsigning (only with
// Config.ClusterSigningCert), localvolume, serviceaccount and
// root-ca-cert-publisher (only with a root CA: Config.RootCA or
// ClusterSigningCert).
package controllermanager
