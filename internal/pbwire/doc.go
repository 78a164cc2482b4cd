// Package pbwire reads and writes the protobuf wire format for the
// library's hand-written Kubernetes messages (the envelope, WatchEvent,
// Status, ListMeta, DeleteOptions): a field iterator that skips unknown
// fields as protobuf does, and append helpers. It is a thin layer over
// google.golang.org/protobuf/encoding/protowire.
//
// # Contract
//
// Range never reads past its input and never panics: a truncated tag,
// varint or length, a length beyond the end of the message, a field number
// out of range or a wire type that does not exist is an error naming the
// field, wrapping ErrMalformed. Unknown fields (any number the caller does
// not handle) are skipped, including groups. The append helpers write
// proto2 "optional" scalars the way Kubernetes' generated code does: a
// string or bytes field is written even when empty when Always is used,
// and skipped when empty otherwise.
package pbwire
