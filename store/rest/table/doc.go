// Package table renders typed objects as server-side Tables
// (meta.k8s.io/v1 Table), the format "kubectl get" asks for with
// "Accept: application/json;as=Table;g=meta.k8s.io;v=v1" and prints as
// columns.
//
// A Builder holds a list of typed Columns (definition plus cell function);
// Build turns a slice of objects into a Table whose rows carry the cells and,
// per the includeObject parameter, the object's metadata
// (PartialObjectMetadata, the default), the whole object, or nothing.
// Columns with priority 0 print by default; higher priorities only with
// "-o wide". Ages are computed against Options.Now, so output is
// deterministic in tests.
//
// Contract: Build never modifies the objects; invalid column sets are
// rejected when the builder is made (errors wrap ErrInvalid, which wraps
// store.ErrInvalid); a Builder is immutable and safe for concurrent use.
package table
