// Package serviceaccount holds two small per-namespace controllers of
// kube-controller-manager:
//
//   - Controller ("serviceaccount"): every active namespace has the
//     service accounts named in Config.ServiceAccounts (Kubernetes:
//     "default"). One that is missing is created; one that is deleted is
//     created again. Nothing is done in a terminating namespace (the
//     namespace controller is emptying it), and an existing account is
//     never changed: its fields belong to its users.
//   - RootCAPublisher ("root-ca-cert-publisher"): every active namespace
//     has the ConfigMap kube-root-ca.crt whose data["ca.crt"] is the
//     cluster's root CA bundle (PEM), the file the kubelet projects into
//     each pod's service-account volume (ca.crt next to the token). A
//     missing one is created, and one whose data differs (edited, or the
//     CA rotated) is put back: the publisher owns that ConfigMap's data,
//     as Kubernetes' does. Its labels and other annotations are left alone.
//
// # Contract
//
//   - Both work from shared informers (namespaces, and service accounts or
//     config maps), keyed by namespace name: a namespace added, an account
//     or config map deleted or changed enqueues its namespace. Writes go
//     through the Client; AlreadyExists from a create (a peer or a stale
//     cache) counts as done, a Conflict or any other error retries with
//     the queue's backoff.
//   - Run waits for the caches, then reconciles every namespace once and
//     every change after, until ctx ends (it returns nil then).
//   - Both follow Kubernetes' rules as documented for the service account
//     controller and the root CA certificate publisher: one account and
//     one ConfigMap per namespace, recreated when deleted; nothing in a
//     terminating namespace (a create there would be refused).
package serviceaccount
