// Package deepcopygen writes DeepCopy code for Go struct types: for each
// root type a DeepCopy method, and for every struct type reachable from the
// roots a copy function that duplicates its pointers, slices and maps.
//
// Contract: Generate works by reflection on the types themselves, so the
// output always matches them; it returns gofmt-formatted source or an error
// naming the type it cannot handle (interface fields, unnamed types, types
// from packages not listed in imports). The api package's
// TestDeepCopyGeneratedIsCurrent regenerates zz_generated_deepcopy.go and
// fails when the committed file is stale; "-update" rewrites it.
package deepcopygen
