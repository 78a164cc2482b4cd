package lanes

import (
	"math/rand/v2"
	"testing"
)

// TestAgainstModel pushes and pops at random priorities, through ring
// wrap-around and growth, and checks against a simple model: one FIFO slice
// per priority, highest priority first.
func TestAgainstModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var l Lanes[int]
	const lo, hi = -2, 2
	model := map[int][]uint64{}
	n := 0
	var seq uint64
	for step := 0; step < 100_000; step++ {
		if r.IntN(3) > 0 || n == 0 {
			seq++
			p := lo + r.IntN(hi-lo+1)
			l.Push(p, Entry[int]{Key: p, Seq: seq})
			model[p] = append(model[p], seq)
			n++
		} else {
			p := hi
			for len(model[p]) == 0 {
				p--
			}
			want := model[p][0]
			model[p] = model[p][1:]
			n--
			e, ok := l.Pop()
			if !ok || e.Seq != want || e.Key != p {
				t.Fatalf("step %d: Pop = %+v, %v; want seq %d prio %d", step, e, ok, want, p)
			}
		}
		if l.Len() != n {
			t.Fatalf("step %d: Len = %d, want %d", step, l.Len(), n)
		}
	}
	for ; n > 0; n-- {
		if _, ok := l.Pop(); !ok {
			t.Fatal("Pop failed with entries left")
		}
	}
	if _, ok := l.Pop(); ok || l.Len() != 0 {
		t.Fatal("Pop succeeded on an empty set")
	}
}
