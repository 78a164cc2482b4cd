package lanes

import (
	"math/rand/v2"
	"sort"
	"testing"
)

// TestAgainstModel pushes and pops at random priorities, through ring
// wrap-around and growth, and checks against a simple sorted model.
func TestAgainstModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var l Lanes[int]
	type rec struct {
		prio int
		seq  uint64
	}
	var model []rec
	var seq uint64
	for step := 0; step < 100_000; step++ {
		if r.IntN(3) > 0 || len(model) == 0 {
			seq++
			p := r.IntN(5) - 2
			l.Push(p, Entry[int]{Key: p, Seq: seq})
			model = append(model, rec{p, seq})
		} else {
			sort.SliceStable(model, func(i, j int) bool {
				if model[i].prio != model[j].prio {
					return model[i].prio > model[j].prio
				}
				return model[i].seq < model[j].seq
			})
			want := model[0]
			model = model[1:]
			e, ok := l.Pop()
			if !ok || e.Seq != want.seq || e.Key != want.prio {
				t.Fatalf("step %d: Pop = %+v, %v; want seq %d prio %d", step, e, ok, want.seq, want.prio)
			}
		}
		if l.Len() != len(model) {
			t.Fatalf("step %d: Len = %d, want %d", step, l.Len(), len(model))
		}
	}
	for len(model) > 0 {
		if _, ok := l.Pop(); !ok {
			t.Fatal("Pop failed with entries left")
		}
		model = model[1:]
	}
	if _, ok := l.Pop(); ok || l.Len() != 0 {
		t.Fatal("Pop succeeded on an empty set")
	}
}
