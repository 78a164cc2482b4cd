package plugins

import (
	"hash/maphash"
	"maps"
	"slices"
)

// countBuckets is how many buckets a counts spreads its domains over.
const countBuckets = 256

// counts maps topology domains to non-zero counts, copy-on-write: freeze
// returns an immutable copy in time proportional to countBuckets, not to
// the domains, and later changes to the original copy only the buckets
// they touch. A frozen counts must not be changed. The zero value is not
// ready: use newCounts.
type counts struct {
	ver     uint64 // buckets with another ver are shared with a frozen copy
	n       int
	keys    map[string]int // domains by topology key
	buckets [countBuckets]*countBucket
}

type countBucket struct {
	ver   uint64
	items []pairCount
}

var countSeed = maphash.MakeSeed()

func bucketOf(p topologyPair) int { return int(maphash.String(countSeed, p.value) % countBuckets) }

func newCounts() *counts { return &counts{ver: 1, keys: map[string]int{}} }

// get returns p's count, 0 if none (also on a nil counts).
func (c *counts) get(p topologyPair) int64 {
	if c == nil {
		return 0
	}
	b := c.buckets[bucketOf(p)]
	if b == nil {
		return 0
	}
	for i := range b.items {
		if b.items[i].pair == p {
			return b.items[i].n
		}
	}
	return 0
}

// len is the number of domains with a non-zero count.
func (c *counts) len() int {
	if c == nil {
		return 0
	}
	return c.n
}

// add adds d to p's count; a count reaching 0 is removed.
func (c *counts) add(p topologyPair, d int64) {
	if d == 0 {
		return
	}
	i := bucketOf(p)
	b := c.buckets[i]
	switch {
	case b == nil:
		b = &countBucket{ver: c.ver}
		c.buckets[i] = b
	case b.ver != c.ver:
		b = &countBucket{ver: c.ver, items: slices.Clone(b.items)}
		c.buckets[i] = b
	}
	for j := range b.items {
		if b.items[j].pair != p {
			continue
		}
		b.items[j].n += d
		if b.items[j].n == 0 {
			b.items = slices.Delete(b.items, j, j+1)
			c.n--
			if c.keys[p.key]--; c.keys[p.key] == 0 {
				delete(c.keys, p.key)
			}
		}
		return
	}
	b.items = append(b.items, pairCount{p, d})
	c.n++
	c.keys[p.key]++
}

// freeze returns an immutable copy of c.
func (c *counts) freeze() *counts {
	f := &counts{n: c.n, keys: maps.Clone(c.keys), buckets: c.buckets}
	c.ver++
	return f
}

// topologyKeys returns the distinct topology keys of c's domains.
func (c *counts) topologyKeys() []string {
	if c == nil {
		return nil
	}
	return slices.Collect(maps.Keys(c.keys))
}
