// Command apigen generates setpoint's Kubernetes API types (Go types with
// doc comments, enum constants, and protobuf codecs) from the committed
// facts file and our descriptions file, offline. It writes only files named
// zz_generated.* under -out, and removes the ones it no longer writes.
//
// Usage:
//
//	apigen -facts schema.json -descriptions descriptions.txt -out DIR -import PATH [-library-microtime] [-library-lease]
//
// go generate ./examples/api runs it with the flags of the example cluster's
// API tree (-out examples -import .../examples, library MicroTime and Lease).
package main
