// Package api holds the example cluster's resource types, with the JSON
// shapes of their Kubernetes counterparts so that kubectl and Kubernetes'
// client libraries can read and write them: Namespace, Node, Pod (with
// Binding), Service, Endpoints, Event and ResourceQuota (core v1), Lease
// (coordination.k8s.io/v1), and ReplicaSet, Deployment, StatefulSet and
// DaemonSet (apps/v1, with the autoscaling/v1 Scale subresource type). Each
// embeds store.TypeMeta inline and store.ObjectMeta as "metadata", so a
// pointer to it is a store.Object. The wire helpers Quantity ("100m",
// "1Gi"), IntOrString, MicroTime, LabelSelector and List are here too;
// Status is the library's one (watch.Status).
//
// The registry (Kinds, Lookup, and one *Kind value per resource such as
// PodKind) says, for each resource, its plural name, apiVersion, kind and
// scope, its short names and subresources, the field selector labels it
// supports, how to default and validate it, its server-side table columns
// and its strategic-merge-patch schema.
//
// For the apiserver built on it, the package also derives from the
// registry: discovery documents (CoreAPIVersions, Groups, Resources), OpenAPI
// v3 documents (OpenAPIV3Discovery, OpenAPIV3: kubectl reads them to compute
// apply patches and to learn that the server validates fields) and a
// Swagger 2.0 document (OpenAPIV2, JSON), the create/update/status-update
// preparation of each kind
// (Kind.PrepareForCreate, PrepareForUpdate, PrepareForStatusUpdate), and
// ResourceQuota accounting (PodUsage, CheckQuota).
//
// Contract:
//   - Default fills unset fields only and is idempotent. Call Default
//     before Validate: validation requires the defaulted fields (restart
//     policy, pull policy, protocols, strategies), and requires
//     metadata.namespace to be set on namespaced kinds.
//   - Validate and ValidateUpdate return nil or a store.FieldErrors (which
//     wraps store.ErrInvalid) naming every invalid field by its JSON path,
//     such as "spec.containers[0].image"; they never modify the object.
//   - Field selectors and label selector conversions reject bad input with
//     errors that wrap store.ErrInvalid and name the problem.
//   - DeepCopy returns a copy that shares no memory with the original.
//   - Quantities compare exactly (Cmp); they are exact down to 1n.
//   - Every value in the registry is immutable and safe for concurrent use.
package api
