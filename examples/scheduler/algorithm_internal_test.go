package scheduler

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// topIndices keeps the chosen index first and then the best of the rest,
// in order, never more than k; checked against a full sort.
func TestTopIndices(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		n := 1 + r.IntN(40)
		totals := make([]int64, n)
		for j := range totals {
			totals[j] = r.Int64N(8) // many ties
		}
		first := pickBest(totals)
		k := 1 + r.IntN(12)
		got := topIndices(totals, first, k)
		if got[0] != first || len(got) != min(k, n) {
			t.Fatalf("totals %v k %d: got %v, want %d first and %d entries", totals, k, got, first, min(k, n))
		}
		rest := make([]int64, 0, n)
		for j, v := range totals {
			if j != first {
				rest = append(rest, v)
			}
		}
		slices.Sort(rest)
		slices.Reverse(rest)
		for m := 1; m < len(got); m++ {
			if totals[got[m]] != rest[m-1] {
				t.Fatalf("totals %v k %d: got %v, position %d has %d, want %d", totals, k, got, m, totals[got[m]], rest[m-1])
			}
		}
		seen := map[int]bool{}
		for _, j := range got {
			if seen[j] {
				t.Fatalf("totals %v: index %d twice in %v", totals, j, got)
			}
			seen[j] = true
		}
	}
}

// pickBest returns a maximum and, among ties, each of them about equally
// often.
func TestPickBestTies(t *testing.T) {
	totals := []int64{5, 9, 1, 9, 9, 3}
	counts := map[int]int{}
	for range 3000 {
		j := pickBest(totals)
		if totals[j] != 9 {
			t.Fatalf("picked %d with total %d, want a total of 9", j, totals[j])
		}
		counts[j]++
	}
	for _, j := range []int{1, 3, 4} {
		if counts[j] < 800 {
			t.Fatalf("tie %d picked %d of 3000 times, want about 1000: %v", j, counts[j], counts)
		}
	}
}
