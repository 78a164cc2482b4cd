package offers

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// progressiveFilling is DRF as the paper states it (one role, tasks,
// nodes in name order, ties to the lesser name), written plainly: it
// returns the tasks each framework gets on each node.
func progressiveFilling(free [][2]int64, total [2]int64, tasks [][2]int64, weights []int64) [][]int {
	got := make([][]int, len(tasks))
	held := make([][2]int64, len(tasks))
	active := make([]bool, len(tasks))
	for i := range tasks {
		got[i] = make([]int, len(free))
		active[i] = true
	}
	share := func(i int) float64 {
		s := 0.0
		for k := range 2 {
			if held[i][k] > 0 {
				s = max(s, float64(held[i][k])/float64(total[k]))
			}
		}
		return s / float64(weights[i])
	}
	for {
		best := -1
		for i := range tasks {
			if active[i] && (best < 0 || share(i) < share(best)) {
				best = i
			}
		}
		if best < 0 {
			return got
		}
		placed := false
		for n := range free {
			if free[n][0] >= tasks[best][0] && free[n][1] >= tasks[best][1] {
				free[n][0] -= tasks[best][0]
				free[n][1] -= tasks[best][1]
				held[best][0] += tasks[best][0]
				held[best][1] += tasks[best][1]
				got[best][n]++
				placed = true
				break
			}
		}
		active[best] = placed
	}
}

// TestCycleMatchesProgressiveFilling: on random clusters (nodes partly
// used, frameworks of random task sizes and weights) one cycle offers
// each framework exactly the tasks per node that plain progressive
// filling gives it, whether it takes the allocator's fast path or its
// general one (a framework with a total bound it never reaches), and
// the books stay consistent.
func TestCycleMatchesProgressiveFilling(t *testing.T) {
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 7))
		nNodes, nFws := 1+r.IntN(30), 1+r.IntN(12)
		bounded := r.IntN(nFws) // this one takes the general path
		a, _ := newTest(t, Config{})
		var total [2]int64
		free := make([][2]int64, nNodes)
		for i := range nNodes {
			cpu, mem := int64(1+r.IntN(16)), int64(1+r.IntN(32))
			name := fmt.Sprintf("n%02d", i)
			if err := a.SetNode(name, rl(fmt.Sprint(cpu), fmt.Sprintf("%dGi", mem))); err != nil {
				t.Fatal(err)
			}
			ucpu, umem := cpu*int64(r.IntN(2))/2, mem*int64(r.IntN(2))/2
			if err := a.SetNodeUsed(name, rl(fmt.Sprint(ucpu), fmt.Sprintf("%dGi", umem))); err != nil {
				t.Fatal(err)
			}
			total[0], total[1] = total[0]+cpu*1000, total[1]+mem<<30*1000
			free[i] = [2]int64{(cpu - ucpu) * 1000, (mem - umem) << 30 * 1000}
		}
		tasks := make([][2]int64, nFws)
		weights := make([]int64, nFws)
		for i := range nFws {
			cpu, mem := int64(250*(1+r.IntN(8))), int64(256*(1+r.IntN(16)))
			tasks[i] = [2]int64{cpu, mem << 20 * 1000}
			weights[i] = int64(1 + r.IntN(3))
			f := fwSpec(fmt.Sprintf("f%02d", i), "", int32(weights[i]), rl(fmt.Sprintf("%dm", cpu), fmt.Sprintf("%dMi", mem)))
			if i == bounded {
				f.Spec.TotalResources = rl("100000", "")
			}
			if err := a.Register(f); err != nil {
				t.Fatal(err)
			}
		}
		want := progressiveFilling(free, total, tasks, weights)
		res := a.Cycle()
		if err := a.Check(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		got := make([][]int, nFws)
		for i := range got {
			got[i] = make([]int, nNodes)
		}
		for _, o := range res.Offers() {
			var fi, ni int
			fmt.Sscanf(o.Spec.Framework, "f%d", &fi)
			fmt.Sscanf(o.Spec.Node, "n%d", &ni)
			cpu := o.Spec.Resources[api.ResourceCPU]
			k := cpu.MilliValue() / tasks[fi][0]
			mem := o.Spec.Resources[api.ResourceMemory]
			if k*tasks[fi][0] != cpu.MilliValue() || k*tasks[fi][1] != mem.MilliValue() {
				t.Fatalf("seed %d: offer %s holds %v, not whole tasks of %v", seed, o.Name, o.Spec.Resources, tasks[fi])
			}
			if got[fi][ni] != 0 {
				t.Fatalf("seed %d: two offers to %s on %s in one cycle", seed, o.Spec.Framework, o.Spec.Node)
			}
			got[fi][ni] = int(k)
		}
		for i := range nFws {
			for n := range nNodes {
				if got[i][n] != want[i][n] {
					t.Fatalf("seed %d: f%02d on n%02d: offered %d tasks, progressive filling gives %d", seed, i, n, got[i][n], want[i][n])
				}
			}
		}
		// IDs are increasing, the compact, single and bulk forms agree, and
		// every offer is pending under its ID
		objs := res.Offers()
		if len(objs) != res.Len() {
			t.Fatalf("seed %d: %d objects for %d offers", seed, len(objs), res.Len())
		}
		for i := range objs {
			m, one := res.Made(i), res.Offer(i)
			if m.ID != objs[i].Name || one.Name != m.ID || m.Framework != objs[i].Spec.Framework || m.Node != objs[i].Spec.Node ||
				!reflect.DeepEqual(m.Resources, objs[i].Spec.Resources) || !reflect.DeepEqual(one, objs[i]) {
				t.Fatalf("seed %d: offer %d: Made %+v, Offer %+v, Offers %+v", seed, i, m, one, objs[i])
			}
		}
		for i := 1; i < res.Len(); i++ {
			p, m := res.Made(i-1), res.Made(i)
			if !(len(p.ID) < len(m.ID) || (len(p.ID) == len(m.ID) && p.ID < m.ID)) {
				t.Fatalf("seed %d: IDs out of order: %s then %s", seed, p.ID, m.ID)
			}
			if !res.Expires.Equal(res.Time.Add(30e9)) {
				t.Fatalf("seed %d: expiry %v for a cycle at %v", seed, res.Expires, res.Time)
			}
		}
		for i := range nFws {
			for _, o := range a.Pending(fmt.Sprintf("f%02d", i)) {
				if o.Spec.Framework != fmt.Sprintf("f%02d", i) || o.Status.Phase != "Pending" {
					t.Fatalf("seed %d: pending %+v", seed, o)
				}
			}
		}
	}
}
