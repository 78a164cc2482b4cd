package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
	"github.com/setpoint-dev/setpoint/examples/offers"
	"github.com/setpoint-dev/setpoint/store"
)

// offers-cycle-1000: one allocation cycle of examples/offers' Allocator
// (weighted hierarchical DRF; it returns the offers it made as compact
// records: ID, framework, node and resources) over
// 1,000 nodes (4 to 64 CPUs, 8 to 256 GiB, some already used by other
// pods) and 100 frameworks (tasks of 0.5 to 4 CPUs and 0.5 to 16 GiB,
// weights 1 to 3), from empty to the point where no framework's next task
// fits anywhere; milliseconds, median of offersRuns. The anchor is a
// reference weighted DRF progressive-filling allocator written here from
// the DRF paper (Ghodsi et al., NSDI 2011, Algorithm 1: repeatedly pick
// the user of least weighted dominant share, by a linear scan, and give it
// one task on the first node where it fits; a user whose task fits nowhere
// leaves), fed the same state in the same run. Both visit nodes in the
// same order and break ties the same way, so both compute the same DRF
// allocation.
//
// offers-cycle-1000-objects: the same cycle followed by building the API
// object of every offer it made (CycleResult.Offers, which the
// controller does as it writes them), against the same anchor: the cost
// a caller pays to hold every offer as an API object at once.
//
// offers-cycle-1000-fairness: the fairness error of ours, the largest
// difference between a framework's dominant share after our cycle and its
// share in the reference's exact DRF allocation (an absolute figure, no
// anchor; 0 is exact).
func init() { register("offers-cycle-1000", benchOffersCycle) }

const (
	offersNodes      = 1000
	offersFrameworks = 100
	offersRuns       = 7
)

type offersNode struct {
	name            string
	cpu, mem        int64 // allocatable, milli-units
	usedCPU, usedMe int64
}

type offersFw struct {
	name     string
	cpu, mem int64 // per task, milli-units
	weight   int64
}

// offersState is the same pseudo-random cluster for both allocators.
func offersState() ([]offersNode, []offersFw) {
	r := rand.New(rand.NewPCG(21, 2011))
	nodes := make([]offersNode, offersNodes)
	for i := range nodes {
		cpu := int64(4<<r.IntN(5)) * 1000 // 4..64
		mem := int64(8<<r.IntN(6)) << 30  // 8..256 GiB
		n := offersNode{name: fmt.Sprintf("n%04d", i), cpu: cpu, mem: mem * 1000}
		if r.IntN(4) == 0 {
			n.usedCPU, n.usedMe = cpu/4, mem/4*1000
		}
		nodes[i] = n
	}
	fws := make([]offersFw, offersFrameworks)
	for i := range fws {
		fws[i] = offersFw{
			name:   fmt.Sprintf("f%03d", i),
			cpu:    int64(500 * (1 + r.IntN(8))),
			mem:    int64(512*(1+r.IntN(32))) << 20 * 1000,
			weight: int64(1 + r.IntN(3)),
		}
	}
	return nodes, fws
}

func milliList(cpu, mem int64) api.ResourceList {
	return api.ResourceList{
		api.ResourceCPU:    api.NewMilliQuantity(cpu, api.DecimalSI),
		api.ResourceMemory: api.NewMilliQuantity(mem, api.BinarySI),
	}
}

// oursCycle builds an Allocator with the state (untimed), then times one
// cycle; it returns the time, the time with the Offer objects built, and
// each framework's dominant share.
func oursCycle(nodes []offersNode, fws []offersFw) (time.Duration, time.Duration, []float64, error) {
	a, err := offers.New(offers.Config{Clock: clockwork.NewFakeClock()})
	if err != nil {
		return 0, 0, nil, err
	}
	for _, n := range nodes {
		if err := a.SetNode(n.name, milliList(n.cpu, n.mem)); err != nil {
			return 0, 0, nil, err
		}
		if err := a.SetNodeUsed(n.name, milliList(n.usedCPU, n.usedMe)); err != nil {
			return 0, 0, nil, err
		}
	}
	for _, f := range fws {
		err := a.Register(&offersapi.Framework{
			ObjectMeta: store.ObjectMeta{Name: f.name},
			Spec:       offersapi.FrameworkSpec{Weight: int32(f.weight), TaskResources: milliList(f.cpu, f.mem)},
		})
		if err != nil {
			return 0, 0, nil, err
		}
	}
	runtime.GC() // the set-up's garbage is not the cycle's
	start := time.Now()
	res := a.Cycle()
	d := time.Since(start)
	objs := res.Offers()
	dObjs := time.Since(start)
	if len(objs) != res.Len() {
		return 0, 0, nil, fmt.Errorf("%d offer objects for %d offers", len(objs), res.Len())
	}
	if res.Len() == 0 {
		return 0, 0, nil, fmt.Errorf("our cycle made no offers")
	}
	if err := a.Check(); err != nil {
		return 0, 0, nil, err
	}
	shares := make([]float64, len(fws))
	for i, f := range fws {
		shares[i] = a.Share(f.name)
	}
	return d, dObjs, shares, nil
}

// referenceDRF is progressive filling as the DRF paper states it, over
// many nodes: it returns each framework's dominant share and the time.
func referenceDRF(nodes []offersNode, fws []offersFw) (time.Duration, []float64) {
	start := time.Now()
	var totalCPU, totalMem int64
	freeCPU := make([]int64, len(nodes))
	freeMem := make([]int64, len(nodes))
	for i, n := range nodes {
		totalCPU += n.cpu
		totalMem += n.mem
		freeCPU[i], freeMem[i] = n.cpu-n.usedCPU, n.mem-n.usedMe
	}
	allocCPU := make([]int64, len(fws))
	allocMem := make([]int64, len(fws))
	share := make([]float64, len(fws))
	cursor := make([]int, len(fws))
	active := make([]bool, len(fws))
	for i := range active {
		active[i] = true
	}
	dominant := func(i int) float64 {
		return max(float64(allocCPU[i])/float64(totalCPU), float64(allocMem[i])/float64(totalMem))
	}
	for {
		// the user of least weighted dominant share (first on ties)
		best := -1
		for i := range fws {
			if active[i] && (best < 0 || share[i]/float64(fws[i].weight) < share[best]/float64(fws[best].weight)) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		f := fws[best]
		for cursor[best] < len(nodes) && (freeCPU[cursor[best]] < f.cpu || freeMem[cursor[best]] < f.mem) {
			cursor[best]++
		}
		if cursor[best] == len(nodes) {
			active[best] = false
			continue
		}
		n := cursor[best]
		freeCPU[n] -= f.cpu
		freeMem[n] -= f.mem
		allocCPU[best] += f.cpu
		allocMem[best] += f.mem
		share[best] = dominant(best)
	}
	return time.Since(start), share
}

func benchOffersCycle(ctx context.Context) ([]Result, error) {
	nodes, fws := offersState()
	var ours, ref, objs []float64
	var fairness float64
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	for range offersRuns {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		runtime.GC()
		dRef, refShares := referenceDRF(nodes, fws)
		dOurs, dObjs, ourShares, err := oursCycle(nodes, fws)
		if err != nil {
			return nil, err
		}
		ours, ref, objs = append(ours, ms(dOurs)), append(ref, ms(dRef)), append(objs, ms(dObjs))
		for i := range fws {
			fairness = max(fairness, math.Abs(ourShares[i]-refShares[i]))
		}
	}
	return []Result{
		{Name: "offers-cycle-1000", Ours: median(ours), Anchor: median(ref), Unit: "ms"},
		{Name: "offers-cycle-1000-objects", Ours: median(objs), Anchor: median(ref), Unit: "ms"},
		{Name: "offers-cycle-1000-fairness", Ours: fairness, Unit: "share"},
	}, nil
}
