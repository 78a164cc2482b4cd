// Package patch applies the three patch formats an apiserver accepts to JSON
// documents:
//
//   - JSON merge patch (RFC 7386, application/merge-patch+json): MergePatch;
//   - JSON patch (RFC 6902, application/json-patch+json): JSONPatch, with the
//     add, remove, replace, move, copy and test operations;
//   - Kubernetes strategic merge patch
//     (application/strategic-merge-patch+json): StrategicMergePatch, driven by
//     a Schema derived from the object's Go type and its patchStrategy and
//     patchMergeKey struct tags — what "kubectl apply" and "kubectl scale" send.
//
// Contract: every function either returns the complete patched document or
// an error, never a partial result, and never modifies its inputs. Every
// error wraps ErrInvalidPatch (a failed JSON patch test also wraps
// ErrTestFailed) and names the offending operation index or field path.
// Numbers keep their exact text through a patch. No function panics on any
// input (each has a fuzz target).
//
// The package works on JSON, not on typed objects: the caller decodes the
// result into its type and validates it. Computing a patch (kubectl's
// three-way merge) is the client's job and not done here.
package patch
