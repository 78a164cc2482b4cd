package plugins

import (
	"sync"

	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
)

// ipaCacheEntries bounds how many pod signatures an InterPodAffinity
// keeps counts for (per extension point), least recently used out.
const ipaCacheEntries = 4

// ipaParts is how many count maps a node part holds at most (the filter
// uses three: existing pods' anti-affinity, affinity, anti-affinity).
const ipaParts = 3

// pairCount is one topology domain's count in a node's part.
type pairCount struct {
	pair topologyPair
	n    int64
}

// nodePart is what one node adds to the cluster-wide counts for pods of
// one signature, valid while the node keeps its Generation.
type nodePart struct {
	info   *framework.NodeInfo // the NodeInfo counted, for a quick check
	gen    int64
	seen   uint64
	counts [ipaParts][]pairCount
	// flag is the node's share of a yes/no sum (the filter's "some
	// existing pod has required anti-affinity").
	flag bool
	// nsDependent: counting read namespace labels, which can change
	// without the node changing, so the part is counted again each time.
	nsDependent bool
}

// partFunc counts node n's share for the cycle's pod: it calls add for
// each domain count and returns the node's flag. ns looks namespace
// labels up.
type partFunc func(ns *nsLabelCache, n *framework.NodeInfo, add func(part int, pair topologyPair, w int64)) bool

// partEntry is the counts of one pod signature: each node's part and
// their sums.
type partEntry struct {
	sig   string
	nodes map[string]*nodePart
	// pos holds the parts in the order of the last node list, which the
	// scheduler's snapshot mostly keeps: a quick look-up before nodes.
	pos     []*nodePart
	totals  [ipaParts]*counts
	flagged int // nodes whose part has flag set
	epoch   uint64
}

func (e *partEntry) apply(np *nodePart, sign int64) {
	for i := range np.counts {
		for _, c := range np.counts[i] {
			e.totals[i].add(c.pair, sign*c.n)
		}
	}
	if np.flag {
		e.flagged += int(sign)
	}
}

// partCache keeps, for the last few pod signatures, every node's part of
// the counts, so that a cycle whose pod has the signature of an earlier
// one counts again only the nodes that changed since (new Generation,
// added, removed, or parts that read namespace labels). It is safe for
// concurrent use; a caller that finds it busy counts from scratch.
type partCache struct {
	mu      sync.Mutex
	entries []*partEntry // most recently used first
}

// sums returns the counts over nodes, frozen, and whether any node's
// flag is set. With a nil cache or an empty signature
// every node is counted.
func (c *partCache) sums(state *framework.CycleState, sig string, nodes []*framework.NodeInfo, fn partFunc) ([ipaParts]*counts, bool) {
	if c == nil || sig == "" || !c.mu.TryLock() {
		return countAll(state, nodes, fn)
	}
	defer c.mu.Unlock()
	e := c.entry(sig)
	e.epoch++
	var changed []*framework.NodeInfo
	var changedAt []int
	if len(e.pos) != len(nodes) {
		e.pos = make([]*nodePart, len(nodes))
	}
	for i, n := range nodes {
		np := e.pos[i]
		if np == nil || np.info != n {
			np = e.nodes[n.Node().Name]
			e.pos[i] = np
		}
		if np != nil && np.gen == n.Generation && !np.nsDependent {
			np.seen = e.epoch
			continue
		}
		changed = append(changed, n)
		changedAt = append(changedAt, i)
	}
	chunks := inChunks(len(changed), func(lo, hi int) []*nodePart {
		ns := &nsLabelCache{state: state}
		out := make([]*nodePart, 0, hi-lo)
		for _, n := range changed[lo:hi] {
			np := &nodePart{info: n, gen: n.Generation, seen: e.epoch}
			ns.used = false
			np.flag = fn(ns, n, func(part int, pair topologyPair, w int64) {
				np.counts[part] = append(np.counts[part], pairCount{pair, w})
			})
			np.nsDependent = ns.used
			out = append(out, np)
		}
		return out
	})
	i := 0
	for _, chunk := range chunks {
		for _, np := range chunk {
			name := changed[i].Node().Name
			if old := e.nodes[name]; old != nil {
				e.apply(old, -1)
			}
			e.apply(np, 1)
			e.nodes[name] = np
			e.pos[changedAt[i]] = np
			i++
		}
	}
	if len(e.nodes) > len(nodes) {
		for name, np := range e.nodes {
			if np.seen != e.epoch {
				e.apply(np, -1)
				delete(e.nodes, name)
			}
		}
	}
	var out [ipaParts]*counts
	for i := range out {
		out[i] = e.totals[i].freeze()
	}
	return out, e.flagged > 0
}

// entry returns sig's entry, made most recently used, new if needed.
func (c *partCache) entry(sig string) *partEntry {
	for i, e := range c.entries {
		if e.sig == sig {
			copy(c.entries[1:i+1], c.entries[:i])
			c.entries[0] = e
			return e
		}
	}
	e := &partEntry{sig: sig, nodes: map[string]*nodePart{}}
	for i := range e.totals {
		e.totals[i] = newCounts()
	}
	if len(c.entries) < ipaCacheEntries {
		c.entries = append(c.entries, nil)
	}
	copy(c.entries[1:], c.entries)
	c.entries[0] = e
	return e
}

// countAll counts every node, in parallel chunks on large clusters.
func countAll(state *framework.CycleState, nodes []*framework.NodeInfo, fn partFunc) ([ipaParts]*counts, bool) {
	type part struct {
		counts [ipaParts]map[topologyPair]int64
		flag   bool
	}
	parts := inChunks(len(nodes), func(lo, hi int) part {
		var out part
		for i := range out.counts {
			out.counts[i] = map[topologyPair]int64{}
		}
		add := func(i int, pair topologyPair, w int64) { out.counts[i][pair] += w }
		ns := &nsLabelCache{state: state}
		for _, n := range nodes[lo:hi] {
			if fn(ns, n, add) {
				out.flag = true
			}
		}
		return out
	})
	var out [ipaParts]*counts
	flag := false
	for i := range out {
		out[i] = newCounts()
	}
	for _, pt := range parts {
		for i := range out {
			for k, v := range pt.counts[i] {
				out[i].add(k, v)
			}
		}
		flag = flag || pt.flag
	}
	return out, flag
}

// ipaCaches is an InterPodAffinity's counts kept across cycles.
type ipaCaches struct {
	filter, score partCache
}

// affinitySignature encodes what an InterPodAffinity count depends on in
// the pod: its namespace, labels and pod (anti-)affinity. "" when the
// pod has no signature.
func affinitySignature(p *framework.PodInfo) string {
	var pa, paa any
	if a := p.Pod.Spec.Affinity; a != nil {
		pa, paa = a.PodAffinity, a.PodAntiAffinity
	}
	s, ok := sign(p.Pod.Namespace, p.Pod.Labels, pa, paa)
	if !ok {
		return ""
	}
	return s
}
