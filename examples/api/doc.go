// Package api holds the example cluster's API types, with the JSON shapes
// of their Kubernetes counterparts so that kubectl and Kubernetes' client
// libraries can read and write them: Namespace, Node, Pod (with Binding),
// Service, Endpoints, Event and ResourceQuota (core v1), Lease
// (coordination.k8s.io/v1), and ReplicaSet, Deployment, StatefulSet and
// DaemonSet (apps/v1, with the autoscaling/v1 Scale subresource type).
// Each embeds store.TypeMeta inline and store.ObjectMeta as "metadata", so
// a pointer to it is a store.Object. The wire helpers Quantity ("100m",
// "1Gi"), IntOrString, MicroTime, LabelSelector and List are here too
// (Status is the library's one, watch.Status), as are the discovery document types and, in register.go, the
// resource each type is served as (PodResource, ...).
//
// The package is only the types: a kubelet or a proxy links it without
// the apiserver's rules. Defaulting, validation, field selectors, tables,
// OpenAPI and discovery live in the apiserver's registry
// (examples/apiserver/registry). Core v1 types are in this package; each
// other API group will get its own package under examples/api (the apps
// types are still here until the generated types replace them).
//
// Contract:
//   - DeepCopy returns a copy that shares no memory with the original
//     (generated into zz_generated_deepcopy.go by cmd/deepcopy-gen, through
//     go generate); store.Clone uses it.
//   - Quantities compare exactly (Cmp); they are exact down to 1n.
//   - Label selector conversions reject bad input with errors that wrap
//     store.ErrInvalid and name the problem.
package api
