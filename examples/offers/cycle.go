package offers

import (
	"container/heap"
	"strconv"
	"time"

	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
	"github.com/setpoint-dev/setpoint/store"
)

// CycleResult is what one allocation cycle did.
type CycleResult struct {
	// Made are the offers made, in ID order.
	Made []offersapi.Offer
	// Ended are the pending offers that expired or were rescinded for
	// hoarding, with phase and reason.
	Ended []offersapi.Offer
}

// Cycle runs one allocation cycle at the clock's now: it expires offers
// past their expiry, rescinds the offers of hoarding frameworks, then
// offers free resources by weighted hierarchical DRF (see the package
// doc) until no framework can be offered more.
func (a *Allocator) Cycle() CycleResult {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cycle++
	now := a.clock.Now()
	var res CycleResult
	for _, o := range a.sortedOffers(func(o *offer) bool { return !now.Before(o.expires) }) {
		a.close(o, offersapi.OfferExpired)
		a.frameworks[o.framework].filters[o.node] = now.Add(a.expiredRefuse)
		a.metrics.rescinded.WithLabelValues(o.framework, "Expired").Inc()
		res.Ended = append(res.Ended, a.object(o, "Expired"))
	}
	hoarders := map[string]bool{}
	for _, o := range a.offers {
		fw := a.frameworks[o.framework]
		if a.cycle-o.cycle >= a.hoard && fw.lastAccept < o.cycle {
			hoarders[o.framework] = true
		}
	}
	for _, o := range a.sortedOffers(func(o *offer) bool { return hoarders[o.framework] }) {
		a.close(o, offersapi.OfferRescinded)
		a.metrics.rescinded.WithLabelValues(o.framework, "Hoarding").Inc()
		res.Ended = append(res.Ended, a.object(o, "Hoarding"))
	}
	for name := range hoarders {
		a.frameworks[name].suspended = a.cycle + a.hoard
	}
	for id, o := range a.closed {
		if now.Sub(o.made) > 2*a.timeout {
			delete(a.closed, id)
		}
	}
	res.Made = a.allocate(now)
	a.updateShares()
	if len(res.Made)+len(res.Ended) > 0 {
		a.notify()
	}
	return res
}

// candidate is a framework taking part in a cycle.
type candidate struct {
	fw     *framework
	ro     *role
	cursor int // index in nodeOrder of the next node to try
	key    float64
}

type candidates []*candidate

func (h candidates) Len() int { return len(h) }
func (h candidates) Less(i, j int) bool {
	if h[i].key != h[j].key {
		return h[i].key < h[j].key
	}
	return h[i].fw.name < h[j].fw.name
}
func (h candidates) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *candidates) Push(x any)   { *h = append(*h, x.(*candidate)) }
func (h *candidates) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type pendKey struct {
	fw   *framework
	node int
}

// allocate is progressive filling over roles, then frameworks: the role
// of least weighted dominant share picks; within it the framework of least
// weighted share gets one task's worth on the first node (in name order)
// where that fits, or, with no task size, the node's whole available
// resources. A framework that fits nowhere leaves the cycle.
func (a *Allocator) allocate(now time.Time) []offersapi.Offer {
	byRole := map[string]*candidates{}
	var roleNames []string
	for _, fw := range a.frameworks {
		if !fw.registered || a.cycle < fw.suspended {
			continue
		}
		h, ok := byRole[fw.role]
		if !ok {
			h = &candidates{}
			byRole[fw.role] = h
			roleNames = append(roleNames, fw.role)
		}
		*h = append(*h, &candidate{fw: fw, ro: a.roles[fw.role], key: a.share(fw.held) / float64(fw.weight)})
	}
	for _, h := range byRole {
		heap.Init(h)
	}
	nodes := make([]*node, len(a.nodeOrder))
	for i, name := range a.nodeOrder {
		nodes[i] = a.nodes[name]
	}
	roles := make([]*role, len(roleNames))
	for i, r := range roleNames {
		roles[i] = a.roles[r]
	}
	pending := map[pendKey]*offer{}
	var order []*offer
	for {
		var best string
		bestKey := 0.0
		for i, r := range roleNames {
			if byRole[r].Len() == 0 {
				continue
			}
			k := a.share(roles[i].held) / float64(roles[i].weight)
			if best == "" || k < bestKey || (k == bestKey && r < best) {
				best, bestKey = r, k
			}
		}
		if best == "" {
			break
		}
		h := byRole[best]
		c := (*h)[0]
		ni, amount := a.place(c, nodes, now)
		if ni < 0 {
			heap.Pop(h)
			continue
		}
		n := nodes[ni]
		fw := c.fw
		n.offered = n.offered.add(amount)
		n.hold(c.ro, amount, 1)
		fw.held = fw.held.add(amount)
		c.ro.held = c.ro.held.add(amount)
		k := pendKey{fw, ni}
		o, ok := pending[k]
		if !ok {
			o = &offer{framework: fw.name, node: n.name}
			pending[k] = o
			order = append(order, o)
		}
		o.res = o.res.add(amount)
		if !fw.hasTask {
			c.cursor++
		}
		c.key = a.share(fw.held) / float64(fw.weight)
		heap.Fix(h, 0)
	}
	out := make([]offersapi.Offer, 0, len(order))
	made := map[string]int{}
	defer func() {
		for fw, k := range made {
			a.metrics.made.WithLabelValues(fw).Add(float64(k))
		}
	}()
	for _, o := range order {
		a.seq++
		o.id = "o-" + strconv.FormatInt(a.seq, 10)
		o.made, o.expires, o.cycle, o.phase = now, now.Add(a.timeout), a.cycle, offersapi.OfferPending
		a.offers[o.id] = o
		made[o.framework]++
		out = append(out, a.object(o, ""))
	}
	return out
}

// place finds, from c's cursor on, the first node where c's framework can
// be offered one more increment, and returns its index and the amount; -1
// when there is none (or the framework's quota or bound is reached).
func (a *Allocator) place(c *candidate, nodes []*node, now time.Time) (int, vec) {
	fw, ro := c.fw, c.ro
	for ; c.cursor < len(nodes); c.cursor++ {
		n := nodes[c.cursor]
		if len(fw.filters) > 0 {
			if until, ok := fw.filters[n.name]; ok {
				if now.Before(until) {
					continue
				}
				delete(fw.filters, n.name)
			}
		}
		avail := a.available(n, fw.role)
		want := fw.task
		if !fw.hasTask {
			want = a.headroom(fw, ro, avail)
			if want.isZero() {
				if !a.headroom(fw, ro, a.total).isZero() {
					continue // this node is full; another may not be
				}
				return -1, vec{}
			}
		}
		if !want.fits(avail) {
			continue
		}
		if !a.withinBounds(fw, ro, want) {
			return -1, vec{}
		}
		return c.cursor, want
	}
	return -1, vec{}
}

// available is what a framework of role r may be offered on n: the
// node's free resources less what other roles' reservations there still
// hold back.
func (a *Allocator) available(n *node, r string) vec {
	free := n.allocatable.sub(n.used).sub(n.allocated).sub(n.offered)
	if len(n.reserved) == 0 {
		return free.clampZero()
	}
	for other, res := range n.reserved {
		if other != r {
			free = free.sub(res.sub(n.heldBy(a.roles[other])).clampZero())
		}
	}
	return free.clampZero()
}

// withinBounds reports whether fw may hold want more under its role's
// quota and its own total bound.
func (a *Allocator) withinBounds(fw *framework, ro *role, want vec) bool {
	for i := range want {
		if want[i] == 0 {
			continue
		}
		if ro.hasQuota[i] == 1 && ro.held[i]+want[i] > ro.quota[i] {
			return false
		}
		if fw.totalMask[i] == 1 && fw.held[i]+want[i] > fw.total[i] {
			return false
		}
	}
	return true
}

// headroom is avail trimmed to what fw's quota and bound still allow.
func (a *Allocator) headroom(fw *framework, ro *role, avail vec) vec {
	for i := range avail {
		if ro.hasQuota[i] == 1 {
			avail[i] = min(avail[i], max(ro.quota[i]-ro.held[i], 0))
		}
		if fw.totalMask[i] == 1 {
			avail[i] = min(avail[i], max(fw.total[i]-fw.held[i], 0))
		}
	}
	return avail
}

// close ends a pending offer with phase: its resources leave the node's,
// role's and framework's books.
func (a *Allocator) close(o *offer, phase offersapi.OfferPhase) {
	o.phase = phase
	delete(a.offers, o.id)
	a.closed[o.id] = o
	fw := a.frameworks[o.framework]
	fw.held = fw.held.sub(o.res)
	a.roles[fw.role].held = a.roles[fw.role].held.sub(o.res)
	if n, ok := a.nodes[o.node]; ok {
		n.offered = n.offered.sub(o.res)
		n.hold(a.roles[fw.role], o.res, -1)
	}
}

// object is the API form of o.
func (a *Allocator) object(o *offer, reason string) offersapi.Offer {
	return offersapi.Offer{
		TypeMeta:   store.TypeMeta{APIVersion: offersapi.GroupVersion, Kind: "Offer"},
		ObjectMeta: store.ObjectMeta{Name: o.id, CreationTimestamp: store.NewTime(o.made)},
		Spec: offersapi.OfferSpec{
			Framework:  o.framework,
			Node:       o.node,
			Resources:  a.names.toList(o.res),
			ExpiryTime: store.NewTime(o.expires),
		},
		Status: offersapi.OfferStatus{Phase: o.phase, Reason: reason},
	}
}
