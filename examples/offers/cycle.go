package offers

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
	"github.com/setpoint-dev/setpoint/store"
)

// CycleResult is what one allocation cycle did.
type CycleResult struct {
	// Time is when the cycle ran: the offers it made were made then.
	Time time.Time
	// Expires is when the offers it made expire (Time + OfferTimeout).
	Expires time.Time
	// Ended are the pending offers that expired or were rescinded for
	// hoarding, with phase and reason.
	Ended []offersapi.Offer
	// made are the books' records of the offers made, in ID order. A
	// cycle over a thousand nodes makes thousands of offers: the result
	// reads their records (only fields that never change once made) and
	// builds the compact or API form only when asked (Made, Offer, Offers).
	made []offer
}

// MadeOffer is an offer made by a cycle, with what its API object holds.
type MadeOffer struct {
	// ID is the offer's name, "o-<n>" with n increasing.
	ID string
	// Framework is the name of the framework it is made to.
	Framework string
	// Node is the name of the node whose resources it holds.
	Node string
	// Resources is what it holds. Offers of equal resources made in one
	// cycle share one map: treat it as read-only.
	Resources api.ResourceList
}

// Len is the number of offers the cycle made.
func (r CycleResult) Len() int { return len(r.made) }

// Made returns the i-th offer the cycle made (0 <= i < Len(), in ID
// order) in compact form; it panics if i is out of range.
func (r CycleResult) Made(i int) MadeOffer {
	o := &r.made[i]
	return MadeOffer{ID: o.id(), Framework: o.framework.name, Node: o.node.name, Resources: o.list}
}

// Offer returns the API object of Made(i): phase Pending, created at
// Time, expiring at Expires. Its Resources map is shared with the
// cycle's other offers of equal resources: treat it as read-only.
func (r CycleResult) Offer(i int) offersapi.Offer {
	return r.object(&r.made[i], r.made[i].id())
}

func (r CycleResult) object(o *offer, id string) offersapi.Offer {
	return offersapi.Offer{
		TypeMeta:   store.TypeMeta{APIVersion: offersapi.GroupVersion, Kind: "Offer"},
		ObjectMeta: store.ObjectMeta{Name: id, CreationTimestamp: store.NewTime(r.Time)},
		Spec:       offersapi.OfferSpec{Framework: o.framework.name, Node: o.node.name, Resources: o.list, ExpiryTime: store.NewTime(r.Expires)},
		Status:     offersapi.OfferStatus{Phase: offersapi.OfferPending},
	}
}

// Offers returns the API objects of every offer the cycle made, in ID
// order.
func (r CycleResult) Offers() []offersapi.Offer {
	if len(r.made) == 0 {
		return nil
	}
	// every ID in one string, "o-<seq>" each: one allocation, not one per offer
	last := r.made[len(r.made)-1].seq
	buf := make([]byte, 0, len(r.made)*(2+digits(last)))
	for i := range r.made {
		buf = append(buf, 'o', '-')
		buf = strconv.AppendInt(buf, r.made[i].seq, 10)
	}
	ids := string(buf)
	out := make([]offersapi.Offer, len(r.made))
	start := 0
	for i := range r.made {
		end := start + 2 + digits(r.made[i].seq)
		out[i] = r.object(&r.made[i], ids[start:end])
		start = end
	}
	return out
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
	res := CycleResult{Time: now, Expires: now.Add(a.timeout)}
	for _, o := range a.sortedOffers(func(o *offer) bool { return !now.Before(a.expiry(o)) }) {
		a.close(o, offersapi.OfferExpired)
		o.framework.filters[o.node.name] = now.Add(a.expiredRefuse)
		a.metrics.rescinded.WithLabelValues(o.framework.name, "Expired").Inc()
		res.Ended = append(res.Ended, a.object(o, "Expired"))
	}
	hoarders := map[string]bool{}
	for o := range a.offers.all {
		if a.cycle-o.cycle >= a.hoard && o.framework.lastAccept < o.cycle {
			hoarders[o.framework.name] = true
		}
	}
	for _, o := range a.sortedOffers(func(o *offer) bool { return hoarders[o.framework.name] }) {
		a.close(o, offersapi.OfferRescinded)
		a.metrics.rescinded.WithLabelValues(o.framework.name, "Hoarding").Inc()
		res.Ended = append(res.Ended, a.object(o, "Hoarding"))
	}
	for name := range hoarders {
		a.frameworks[name].suspended = a.cycle + a.hoard
	}
	for seq, o := range a.closed {
		if now.Sub(a.expiry(o)) > a.timeout { // made more than two timeouts ago
			delete(a.closed, seq)
		}
	}
	res.made = a.allocate(now)
	a.updateShares()
	if len(res.made)+len(res.Ended) > 0 {
		a.notify()
	}
	return res
}

// candidate is a framework taking part in a cycle.
type candidate struct {
	fw     *framework
	ro     *role
	cursor int // index in nodeOrder of the next node to try
	// simple: the framework has a task size, no refuse filters and no
	// bounds (its role has no quota, it has no total), so placing it is a
	// scan of the cycle's free vectors.
	simple bool
	// last is the offer being built on node lastNode (progressive filling
	// stays on a node until the task no longer fits there).
	last     int // index in the cycle's steps
	lastNode int
	made     int
	// lists[k] and vecs[k] are the Resources and the amount of an offer
	// of k tasks (frameworks with a task size only).
	lists []api.ResourceList
	vecs  []*vec
}

// winnerTree picks a role's candidate of least (key, rank): a tournament
// tree over its candidates in rank order, where each inner node holds the
// leaf that wins its subtree. Changing one key replays the matches on its
// path to the root (log2 of the leaves, one comparison each); since a left
// subtree's leaves all rank before a right one's, a tie goes left. A
// candidate leaves with key +Inf. At a hundred candidates it replays
// seven matches where a heap's sift-down compares about twelve times.
type winnerTree struct {
	keys []float64 // by leaf: weighted dominant share; +Inf when out
	cand []int32   // by leaf: index in the cycle's candidates
	node []int32   // node[i]: winning leaf below i; node[size+k] = k
	size int       // leaves, a power of two
}

// add appends a candidate (in rank order) with key, before build.
func (t *winnerTree) add(cand int, key float64) {
	t.keys = append(t.keys, key)
	t.cand = append(t.cand, int32(cand))
}

// build pads the leaves to a power of two and plays every match.
func (t *winnerTree) build() {
	t.size = 1
	for t.size < len(t.keys) {
		t.size *= 2
	}
	for len(t.keys) < t.size {
		t.keys = append(t.keys, math.Inf(1))
		t.cand = append(t.cand, -1)
	}
	t.node = make([]int32, 2*t.size)
	for k := range t.size {
		t.node[t.size+k] = int32(k)
	}
	for i := t.size - 1; i >= 1; i-- {
		t.play(i)
	}
}

// play decides the match at inner node i from its children's winners.
func (t *winnerTree) play(i int) {
	l, r := t.node[2*i], t.node[2*i+1]
	if t.keys[r] < t.keys[l] {
		l = r
	}
	t.node[i] = l
}

// top is the winning leaf; ok is false when every candidate is out.
func (t *winnerTree) top() (leaf int, ok bool) {
	k := int(t.node[1])
	return k, !math.IsInf(t.keys[k], 1)
}

// set changes leaf k's key (+Inf: it is out) and replays its path.
func (t *winnerTree) set(k int, key float64) {
	t.keys[k] = key
	for i := (t.size + k) / 2; i >= 1; i /= 2 {
		t.play(i)
	}
}

// cycleState is the working state of one allocation: the nodes in name
// order and, for nodes without reservations, their free resources
// (allocatable less used, allocated and offered), kept current as offers
// are made.
type cycleState struct {
	nodes    []*node
	free     []int64 // dims entries per node, in node order
	reserved []bool
	dims     int // resource names in use: vec entries past it are zero
	// anyReserved: some node has reservations (else placeSimple scans
	// free alone)
	anyReserved bool
}

// fitsDims reports whether want <= have in the first len(have) resources.
func fitsDims(want *vec, have []int64) bool {
	for i := range have {
		if want[i] > have[i] {
			return false
		}
	}
	return true
}

// addDims adds o to v in the first d resources (the rest are zero).
func (v *vec) addDims(o *vec, d int) {
	for i := 0; i < d; i++ {
		v[i] += o[i]
	}
}

// shareDims is share over the first d resources.
func (a *Allocator) shareDims(held *vec, d int) float64 {
	s := 0.0
	for i := 0; i < d; i++ {
		if a.total[i] > 0 && held[i] > 0 {
			if x := float64(held[i]) / float64(a.total[i]); x > s {
				s = x
			}
		}
	}
	return s
}

// allocate is progressive filling over roles, then frameworks: the role
// of least weighted dominant share picks; within it the framework of least
// weighted share gets one task's worth on the first node (in name order)
// where that fits, or, with no task size, the node's whole available
// resources. A framework that fits nowhere leaves the cycle.
func (a *Allocator) allocate(now time.Time) []offer {
	d := len(a.names.list)
	cs := cycleState{nodes: make([]*node, len(a.nodeOrder)), free: make([]int64, len(a.nodeOrder)*d), reserved: make([]bool, len(a.nodeOrder)), dims: d}
	for i, name := range a.nodeOrder {
		n := a.nodes[name]
		cs.nodes[i] = n
		if len(n.reserved) > 0 {
			cs.reserved[i] = true
			cs.anyReserved = true
		} else {
			f := n.allocatable.sub(n.used).sub(n.allocated).sub(n.offered).clampZero()
			copy(cs.free[i*d:(i+1)*d], f[:d])
		}
	}
	cands := make([]candidate, 0, len(a.frameworks))
	for _, fw := range a.frameworks {
		if fw.registered && a.cycle >= fw.suspended {
			ro := a.roles[fw.role]
			cands = append(cands, candidate{fw: fw, ro: ro, lastNode: -1,
				simple: fw.hasTask && len(fw.filters) == 0 && ro.hasQuota.isZero() && fw.totalMask.isZero()})
		}
	}
	slices.SortFunc(cands, func(x, y candidate) int { return strings.Compare(x.fw.name, y.fw.name) })
	byRole := map[*role]*winnerTree{}
	var roles []*role
	var roleNames []string
	for i := range cands {
		c := &cands[i]
		t, ok := byRole[c.ro]
		if !ok {
			t = &winnerTree{}
			byRole[c.ro] = t
			roles = append(roles, c.ro)
			roleNames = append(roleNames, c.fw.role)
		}
		t.add(i, a.share(c.fw.held)/float64(c.fw.weight))
	}
	for _, t := range byRole {
		t.build()
	}
	// the cycle's offers as they are made, pointer-free (no write
	// barriers, not scanned); most cycles make fewer than 8 per node
	steps := make([]step, 0, min(len(cs.nodes)*min(len(cands), 8), 1<<16)+len(cands))
	var amounts []vec
	for {
		var t *winnerTree
		leaf := -1
		if len(roles) == 1 {
			t = byRole[roles[0]]
			if k, ok := t.top(); ok {
				leaf = k
			}
		} else {
			var best string
			bestKey := 0.0
			for i, ro := range roles {
				k, ok := byRole[ro].top()
				if !ok {
					continue
				}
				rk := a.share(ro.held) / float64(ro.weight)
				if leaf < 0 || rk < bestKey || (rk == bestKey && roleNames[i] < best) {
					t, leaf, best, bestKey = byRole[ro], k, roleNames[i], rk
				}
			}
		}
		if leaf < 0 {
			break
		}
		rank := int(t.cand[leaf])
		c := &cands[rank]
		var ni int
		var amount vec
		if c.simple {
			ni = a.placeSimple(c, &cs)
			amount = c.fw.task
		} else {
			ni, amount = a.place(c, &cs, now)
		}
		if ni < 0 {
			t.set(leaf, math.Inf(1))
			continue
		}
		fw := c.fw
		n := cs.nodes[ni]
		if !cs.reserved[ni] {
			// the node's books are written once per offer, in record
			f := cs.free[ni*d : (ni+1)*d]
			for i := range f {
				f[i] -= amount[i]
			}
		} else {
			// place reads a reserved node's books: keep them current
			n.offered.addDims(&amount, d)
			n.hold(c.ro, amount, 1)
		}
		fw.held.addDims(&amount, d)
		c.ro.held.addDims(&amount, d)
		if c.lastNode != ni {
			s := step{cand: int32(rank), node: int32(ni), amount: -1}
			if !fw.hasTask { // one step per node: its amount is its own
				s.amount = int32(len(amounts))
				amounts = append(amounts, amount)
			}
			steps = append(steps, s)
			c.last, c.lastNode = len(steps)-1, ni
			c.made++
		}
		steps[c.last].tasks++
		if !fw.hasTask {
			c.cursor++
		}
		t.set(leaf, a.shareDims(&fw.held, d)/float64(fw.weight))
	}
	return a.record(now, &cs, steps, amounts, cands)
}

// placeSimple is place for a simple candidate: the first node from its
// cursor on whose free resources hold one task, or -1.
func (a *Allocator) placeSimple(c *candidate, cs *cycleState) int {
	task := &c.fw.task
	if !cs.anyReserved && cs.dims == 2 {
		// the common case, CPU and memory only: a scan of free pairs
		free, w0, w1 := cs.free, task[0], task[1]
		for i := 2 * c.cursor; i+1 < len(free); i += 2 {
			if w0 <= free[i] && w1 <= free[i+1] {
				c.cursor = i / 2
				return c.cursor
			}
		}
		c.cursor = len(cs.nodes)
		return -1
	}
	for ; c.cursor < len(cs.nodes); c.cursor++ {
		if cs.reserved[c.cursor] {
			avail := a.available(cs.nodes[c.cursor], c.fw.role)
			if task.fits(avail) {
				return c.cursor
			}
			continue
		}
		if fitsDims(task, cs.free[c.cursor*cs.dims:(c.cursor+1)*cs.dims]) {
			return c.cursor
		}
	}
	return -1
}

// step is an offer as a cycle makes it: candidate (its index in cands,
// which is its rank), node index, how many task increments, and for a
// framework without a task size, the index of its amount in amounts.
type step struct {
	cand, node, tasks, amount int32
}

// record books the offers of a cycle, in the order they were first made
// (IDs and times), and returns them. Offers of equal resources share one
// Resources map.
func (a *Allocator) record(now time.Time, cs *cycleState, steps []step, amounts []vec, cands []candidate) []offer {
	for i := range cands {
		if c := &cands[i]; c.made > 0 {
			c.fw.madeTotal.Add(float64(c.made))
		}
	}
	if len(steps) == 0 {
		return nil
	}
	order := make([]offer, len(steps))
	a.offers.grow(len(order))
	lists := map[vec]api.ResourceList{}
	expiry := int64(now.Add(a.timeout).Sub(a.epoch))
	var pool []vec // the amounts of whole-task offers, allocated in chunks
	for i := range order {
		s, o := &steps[i], &order[i]
		c := &cands[s.cand]
		n := cs.nodes[s.node]
		o.framework, o.node, o.tasks = c.fw, n, s.tasks
		if s.amount >= 0 {
			o.res = &amounts[s.amount]
			var ok bool
			if o.list, ok = lists[*o.res]; !ok {
				o.list = a.names.toList(*o.res)
				lists[*o.res] = o.list
			}
		} else {
			// offers of whole tasks: one amount and one map per count
			for len(c.lists) <= int(o.tasks) {
				c.lists, c.vecs = append(c.lists, nil), append(c.vecs, nil)
			}
			if o.res = c.vecs[o.tasks]; o.res == nil {
				if len(pool) == 0 {
					pool = make([]vec, 64)
				}
				v := &pool[0]
				pool = pool[1:]
				for k := range cs.dims {
					v[k] = c.fw.task[k] * int64(o.tasks)
				}
				o.res, c.vecs[o.tasks] = v, v
				c.lists[o.tasks] = a.names.toList(*v)
			}
			o.list = c.lists[o.tasks]
		}
		if !cs.reserved[s.node] {
			n.offered.addDims(o.res, cs.dims)
			n.hold(c.ro, *o.res, 1)
		}
		a.seq++
		o.seq = a.seq
		o.expires, o.cycle, o.phase = expiry, a.cycle, 0 // Pending
		a.offers.add(o)
	}
	return order
}

// digits is the number of decimal digits of n > 0.
func digits(n int64) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

// place finds, from c's cursor on, the first node where c's framework can
// be offered one more increment, and returns its index and the amount; -1
// when there is none (or the framework's quota or bound is reached).
func (a *Allocator) place(c *candidate, cs *cycleState, now time.Time) (int, vec) {
	fw, ro := c.fw, c.ro
	for ; c.cursor < len(cs.nodes); c.cursor++ {
		n := cs.nodes[c.cursor]
		if len(fw.filters) > 0 {
			if until, ok := fw.filters[n.name]; ok {
				if now.Before(until) {
					continue
				}
				delete(fw.filters, n.name)
			}
		}
		var avail vec
		copy(avail[:cs.dims], cs.free[c.cursor*cs.dims:])
		if cs.reserved[c.cursor] {
			avail = a.available(n, fw.role)
		}
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
	o.phase = phaseIndex(phase)
	a.offers.remove(o.seq)
	a.closed[o.seq] = o
	fw, n := o.framework, o.node
	fw.held = fw.held.sub(*o.res)
	a.roles[fw.role].held = a.roles[fw.role].held.sub(*o.res)
	if a.nodes[n.name] == n {
		n.offered = n.offered.sub(*o.res)
		n.hold(a.roles[fw.role], *o.res, -1)
	}
}

// object is the API form of o.
func (a *Allocator) object(o *offer, reason string) offersapi.Offer {
	return offersapi.Offer{
		TypeMeta:   store.TypeMeta{APIVersion: offersapi.GroupVersion, Kind: "Offer"},
		ObjectMeta: store.ObjectMeta{Name: o.id(), CreationTimestamp: store.NewTime(a.expiry(o).Add(-a.timeout))},
		Spec: offersapi.OfferSpec{
			Framework:  o.framework.name,
			Node:       o.node.name,
			Resources:  o.list,
			ExpiryTime: store.NewTime(a.expiry(o)),
		},
		Status: offersapi.OfferStatus{Phase: offerPhases[o.phase], Reason: reason},
	}
}
