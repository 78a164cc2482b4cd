package plugins

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestCountsModel checks counts against a plain map over random adds,
// and that every frozen copy keeps the values it had when frozen while
// the original goes on changing.
func TestCountsModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	c := newCounts()
	model := map[topologyPair]int64{}
	type frozen struct {
		c    *counts
		want map[topologyPair]int64
	}
	var snaps []frozen
	check := func(c *counts, want map[topologyPair]int64, what string) {
		t.Helper()
		if c.len() != len(want) {
			t.Fatalf("%s: len %d, want %d", what, c.len(), len(want))
		}
		keys := map[string]bool{}
		for p, v := range want {
			keys[p.key] = true
			if got := c.get(p); got != v {
				t.Fatalf("%s: %v = %d, want %d", what, p, got, v)
			}
		}
		got := c.topologyKeys()
		slices.Sort(got)
		if w := slices.Sorted(maps.Keys(keys)); !slices.Equal(got, w) {
			t.Fatalf("%s: topology keys %v, want %v", what, got, w)
		}
	}
	for i := range 5000 {
		p := topologyPair{[]string{"zone", "host"}[r.IntN(2)], fmt.Sprintf("v%d", r.IntN(600))}
		d := int64(r.IntN(5) - 2)
		c.add(p, d)
		if model[p] += d; model[p] == 0 {
			delete(model, p)
		}
		if i%250 == 0 {
			snaps = append(snaps, frozen{c.freeze(), maps.Clone(model)})
		}
	}
	check(c, model, "live")
	for i, s := range snaps {
		check(s.c, s.want, fmt.Sprintf("frozen copy %d", i))
	}
	if (*counts)(nil).get(topologyPair{"a", "b"}) != 0 || (*counts)(nil).len() != 0 {
		t.Error("a nil counts is not empty")
	}
}
