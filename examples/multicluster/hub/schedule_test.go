package hub_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/multicluster/hub"
)

// TestDivide: the largest remainder method's known answers.
func TestDivide(t *testing.T) {
	for _, c := range []struct {
		total   int32
		weights []int64
		want    []int32
	}{
		{6, []int64{2, 1}, []int32{4, 2}},
		{7, []int64{8, 4, 2}, []int32{4, 2, 1}},
		{10, []int64{1, 1, 1}, []int32{4, 3, 3}},          // tie: the lower index first
		{5, []int64{0, 3, 0}, []int32{0, 5, 0}},           // zero weights get nothing
		{3, []int64{0, 0}, []int32{0, 0}},                 // no positive weight: nothing
		{0, []int64{1, 2}, []int32{0, 0}},                 // no replicas
		{2, []int64{-4, 1}, []int32{0, 2}},                // negative counts as zero
		{100, []int64{1 << 62, 1 << 62}, []int32{50, 50}}, // no overflow
		{8, []int64{5, 3, 2}, []int32{4, 2, 2}},           // quotas 4, 2.4, 1.6: 1.6 has the larger remainder
	} {
		if got := hub.Divide(c.total, c.weights); !slices.Equal(got, c.want) {
			t.Errorf("Divide(%d, %v) = %v, want %v", c.total, c.weights, got, c.want)
		}
	}
}

// TestDivideProperties: for random inputs the shares sum to the total
// exactly, each is its quota rounded down or up, and a larger weight
// never gets fewer replicas.
func TestDivideProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		n := 1 + r.IntN(8)
		weights := make([]int64, n)
		var sum int64
		for i := range weights {
			weights[i] = r.Int64N(1000)
			if r.IntN(10) == 0 {
				weights[i] = r.Int64N(1 << 50)
			}
			sum += weights[i]
		}
		total := int32(r.IntN(1000))
		got := hub.Divide(total, weights)
		var s int32
		for i, g := range got {
			s += g
			if sum > 0 {
				lo := float64(total) * float64(weights[i]) / float64(sum)
				if float64(g) < lo-1 || float64(g) > lo+1 {
					t.Fatalf("Divide(%d, %v) = %v: share %d is not its quota %.2f rounded", total, weights, got, g, lo)
				}
			}
			for j := range got {
				if weights[i] > weights[j] && got[i] < got[j] {
					t.Fatalf("Divide(%d, %v) = %v: weight %d got fewer than weight %d", total, weights, got, weights[i], weights[j])
				}
			}
		}
		if sum > 0 && s != total || sum == 0 && s != 0 {
			t.Fatalf("Divide(%d, %v) = %v sums to %d", total, weights, got, s)
		}
	}
}
