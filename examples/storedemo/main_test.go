package main

import "testing"

// TestRun runs the whole demo: run returns an error whenever the store does
// something other than what the demo narrates (a stale update that is not
// refused, an object that survives its deletion, a watch that ends badly).
func TestRun(t *testing.T) {
	if err := run(); err != nil {
		t.Fatal(err)
	}
}
