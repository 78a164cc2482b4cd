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
	ref := map[int]*int{}
	hash := func(k int) uint64 { return uint64(k % 37) } // many collisions
	for step := 0; step < 50_000; step++ {
		k := r.IntN(500)
		switch r.IntN(3) {
		case 0:
			v := new(int)
			*v = step
			tab.Put(hash(k), k, v)
			ref[k] = v
		case 1:
			tab.Delete(hash(k), k)
			delete(ref, k)
		default:
			if got, want := tab.Get(hash(k), k), ref[k]; got != want {
				t.Fatalf("step %d: Get(%d) = %p, want %p", step, k, got, want)
			}
		}
		if tab.Len() != len(ref) {
			t.Fatalf("step %d: Len = %d, want %d", step, tab.Len(), len(ref))
		}
	}
	for k, v := range ref {
		if got := tab.Get(hash(k), k); got != v {
			t.Fatalf("final Get(%d) = %p, want %p", k, got, v)
		}
	}
	for k := range ref {
		tab.Delete(hash(k), k)
	}
	if tab.Len() != 0 {
		t.Fatalf("Len after deleting all = %d", tab.Len())
	}
}
