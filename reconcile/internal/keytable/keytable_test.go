package keytable

import (
	"math/rand/v2"
	"testing"
)

// TestAgainstMap drives the table and a map with the same random operations,
// with a weak hash so that probe runs collide and wrap, and checks they agree.
func TestAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var tab Table[int, int]
	ref := map[int]int{}
	hash := func(k int) uint64 { return uint64(k % 37) } // many collisions
	for step := 0; step < 50_000; step++ {
		k := r.IntN(500)
		switch r.IntN(3) {
		case 0:
			*tab.Insert(hash(k), k) = step
			ref[k] = step
		case 1:
			tab.Delete(hash(k), k)
			delete(ref, k)
		default:
			got := tab.Get(hash(k), k)
			want, ok := ref[k]
			if (got != nil) != ok || (ok && *got != want) {
				t.Fatalf("step %d: Get(%d) = %v, want %v (present %v)", step, k, got, want, ok)
			}
		}
		if tab.Len() != len(ref) {
			t.Fatalf("step %d: Len = %d, want %d", step, tab.Len(), len(ref))
		}
	}
	for k, v := range ref {
		if got := tab.Get(hash(k), k); got == nil || *got != v {
			t.Fatalf("final Get(%d) = %v, want %d", k, got, v)
		}
	}
	if v := tab.Insert(hash(7), 7); ref[7] != 0 && *v != ref[7] {
		t.Fatal("Insert of a present key must return its value")
	}
	for k := range ref {
		tab.Delete(hash(k), k)
	}
	tab.Delete(hash(7), 7)
	if tab.Len() != 0 {
		t.Fatalf("Len after deleting all = %d", tab.Len())
	}
}
