// Package fieldmanager keeps Kubernetes' metadata.managedFields and
// performs server-side apply, on top of sigs.k8s.io/structured-merge-diff
// (the library Kubernetes uses for both).
//
// A Manager serves the objects of one kind. Update records who changed
// what on an ordinary write (create, update, patch, a subresource write);
// Apply merges an applied configuration into the stored object with
// conflict detection. Objects are unstructured JSON values (DecodeJSON);
// their managedFields travel separately as []store.ManagedFieldsEntry.
//
// How values merge comes from the kind's schema. NewTypes converts an
// OpenAPI document (v2 definitions or v3 components.schemas) with
// Kubernetes' extensions into a structured-merge-diff schema; Deduced is
// the schema of objects without one (maps granular, lists atomic), as
// Kubernetes uses for custom resources without a structural schema.
//
// # Contract
//
// The behaviour follows Kubernetes' apiserver (k8s.io/apimachinery's
// managedfields), reimplemented here:
//
//   - Entries are keyed by manager, operation (Apply or Update),
//     subresource and, for updates, apiVersion; each holds the fields its
//     manager owns in FieldsV1 form and when it last changed them
//     (whole seconds, from Config.Clock). They are sorted Apply first,
//     then oldest first. Fields the server sets (apiVersion, kind,
//     metadata.name, namespace, uid, resourceVersion, generation,
//     creationTimestamp, managedFields) are nobody's.
//   - Update: the writer gains the fields it added or changed; others
//     lose them; removed fields are nobody's. A write that changes
//     nothing keeps entries and times as they were. A request through the
//     resource itself may replace the entries (non-empty and decodable)
//     or clear them (an empty list); an existing object without entries
//     is not tracked again until it is applied. At most
//     Config.MaxUpdateManagers Update entries are kept: the oldest are
//     folded into one AncientChangesManager entry per apiVersion.
//   - Apply: a configuration value that differs from the live one in a
//     field another manager owns is a conflict; without force nothing
//     changes and the error is a *ConflictError whose message is
//     Kubernetes' ("Apply failed with 1 conflict: conflict with "m" using
//     apps/v1: .spec.replicas"). With force the applier takes the fields
//     over. Setting a field to the value it already has shares its
//     ownership. Fields the applier applied before and leaves out now are
//     removed unless another manager owns them. Applying an unchanged
//     configuration returns a nil object (nothing to write). The first
//     apply to an object without entries first records its existing
//     fields under BeforeFirstApplyManager.
//   - With Config.StatusSubresource, writes through the resource never own
//     status fields and writes through the status subresource own only
//     them.
//   - The "kubectl" applier may take over, without force, fields whose
//     live value still equals the kubectl.kubernetes.io/last-applied-configuration
//     annotation (the move from client-side to server-side apply), and
//     keeps that annotation equal to what it applied.
//   - Configurations of another apiVersion or kind, with managedFields, or
//     that do not fit the schema (undeclared fields, wrong value types,
//     duplicate list keys) are errors wrapping ErrInvalidConfig, and
//     change nothing.
package fieldmanager
