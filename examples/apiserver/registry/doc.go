// Package registry is the example apiserver's registry: for each served
// resource (one Kind value per resource, such as PodKind) its identity,
// plural, singular and short names, scope and subresources, and its rules:
// defaulting, validation (create and update), field selector labels,
// server-side table columns, the strategic-merge-patch schema, the
// server-side apply type (ApplyType, converted from the served OpenAPI
// document), and the status and scale subresources. Kind.Strategy hands those rules to the
// REST handler as one rest.Strategy.
//
// From the registry the package also derives the documents the apiserver
// serves: discovery (CoreAPIVersions, Groups, Resources), OpenAPI v3
// (OpenAPIV3Discovery, OpenAPIV3: kubectl reads them to compute apply
// patches and to learn that the server validates fields) and a Swagger 2.0
// document (OpenAPIV2); and ResourceQuota accounting (PodUsage,
// ObjectUsage, CheckQuota, ChargeQuota), which the quota admission plugin uses.
//
// The package-level kinds and documents are the built-in registry
// (Default). NewKind describes a kind of the library user's own (a
// KindSpec: its resource, rules, columns and OpenAPI schemas); New builds a
// Registry of the built-in kinds and such extra ones, whose methods
// (Groups, Resources, OpenAPIV2, OpenAPIV3, Lookup) are the package-level
// functions over all of them. The apiserver serves a Registry's kinds
// (apiserver.Config.ExtraKinds).
//
// The types themselves are package examples/api's, which imports none of
// this, so clients link the types without the server's rules.
//
// Contract:
//   - Default fills unset fields only and is idempotent. Default runs
//     before Validate: validation requires the defaulted fields (restart
//     policy, pull policy, protocols, strategies), and requires
//     metadata.namespace to be set on namespaced kinds.
//   - Validate and ValidateUpdate return nil or a store.FieldErrors (which
//     wraps store.ErrInvalid) naming every invalid field by its JSON path,
//     such as "spec.containers[0].image"; they never modify the object.
//   - Field selectors reject bad input with errors that wrap
//     store.ErrFieldSelector (and so store.ErrInvalid) and name the
//     problem, listing the kind's labels when the label is unknown.
//   - A kind's Strategy offers the status and scale pieces exactly when the
//     kind has those subresources.
//   - Every value in the registry is immutable and safe for concurrent use.
package registry
