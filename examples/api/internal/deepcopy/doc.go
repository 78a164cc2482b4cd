// Package deepcopy copies Go values deeply by reflection: pointers, slices,
// maps and interfaces reachable through exported fields are duplicated, so
// that the copy shares no mutable memory with the original.
//
// Contract: Copy(nil) is nil; the copy is reflect.DeepEqual to the
// original; nil and empty slices and maps stay nil and empty; unexported
// fields are copied by value (types such as time.Time keep their immutable
// internal pointers, which is safe; types that keep mutable state behind
// unexported pointers are not deep-copied). It is safe for concurrent use.
// The api package uses it only where generated code does not exist (the
// generic List with item types that lack DeepCopy).
package deepcopy
