// Package apigen is setpoint's generator of Kubernetes API types. It reads
// two committed inputs, so that it runs offline:
//
//   - facts/schema.json, written by bench/cmd/apiextract: the Go shape of
//     every Kubernetes type the example cluster serves (field names, Go
//     types, struct tags, by reflection over k8s.io/api), the protobuf
//     message and field numbers (from the published generated.proto
//     files), the OpenAPI facts (from Kubernetes' OpenAPI v3 documents) and
//     the typed constants Kubernetes declares; no descriptions.
//   - descriptions.txt: our own one-line description of every type and
//     field.
//
// It writes, under an output root, package api (core/v1 and the shared
// meta-level types) and one package per API group under api/: the Go types
// with doc comments, enum constants, gogo-style protobuf codecs, a package
// doc and a runnable Example; and api/internal/metapb, the protobuf codecs of
// the library's metadata types (store.ObjectMeta, store.OwnerReference, ...)
// as functions, since the library itself stays free of protobuf.
//
// Contract: the output depends only on the inputs and the Config (the same
// inputs give the same bytes, gofmt'ed). Generation fails, changing
// nothing, when a type or field has no description, when a description
// matches nothing, or when the facts are inconsistent (a struct tag's field
// number that disagrees with the .proto file, a type that maps to no
// package, two types with one Go name). Kubernetes types that the library or
// examples/api already has (ObjectMeta, Time, Quantity, IntOrString, ...)
// are mapped onto them instead of generated; Config flips MicroTime and
// Lease onto the library's once it has them.
//
// Package api's own doc.go is not generated: that package also holds the
// hand-written helpers (Quantity, IntOrString, label selector methods,
// Status, the resources it is served as), and its doc states their
// contract too.
//
// Run it through go generate in examples/api (output root examples, with
// MicroTime and Lease mapped onto the library's); the test in this package
// fails when the committed output is stale.
package apigen
