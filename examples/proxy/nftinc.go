package proxy

import (
	"cmp"
	"slices"
	"time"
)

// A fragment is what one service port contributes to the ruleset: its
// chains (names unique to the port, as they hash its key), map and
// fixed-set elements, and affinity sets. The backend keeps each port's
// fragment and rebuilds it only when the port changed, so a sync costs
// what changed, not the size of the table.
type fragment struct {
	sp     *servicePort // the port it was built from
	chains []fragChain
	elems  []fragElem
	sets   []fragSet
	gen    uint64 // the update that last saw the port
}

type fragChain struct {
	name  string
	rules []string
	fast  *fastChain // nil: netlink cannot write it
}

type fragElem struct{ m, k, v string }

type fragSet struct {
	name    string
	timeout time.Duration
}

func (f *fragment) chain(name string, rules []string) {
	f.chains = append(f.chains, fragChain{name: name, rules: rules})
}

// fast marks the chain name (added before) as one netlink can write.
func (f *fragment) fast(name string, fc *fastChain) {
	for i := range f.chains {
		if f.chains[i].name == name {
			f.chains[i].fast = fc
		}
	}
}

// elem sets the element k of map (or fixed set) m; a later value for the
// same element replaces an earlier one.
func (f *fragment) elem(m, k, v string) {
	for i := range f.elems {
		if f.elems[i].m == m && f.elems[i].k == k {
			f.elems[i].v = v
			return
		}
	}
	f.elems = append(f.elems, fragElem{m, k, v})
}

func (f *fragment) set(name string, timeout time.Duration) {
	f.sets = append(f.sets, fragSet{name, timeout})
}

// elemID names one element of one map or fixed set.
type elemID struct{ m, k string }

// owner is a service port that wants an element, with the value it
// wants. Two ports can want the same element (two Services with the same
// external IP and port, or one hairpin entry); the port with the greatest
// key wins, as if the ports were added in key order.
type owner struct{ key, v string }

// add puts f's chains, sets and elements into rs.
func (rs *ruleset) add(f *fragment) {
	key := f.sp.key()
	for _, c := range f.chains {
		rs.chains[c.name] = c.rules
		if c.fast != nil {
			rs.fast[c.name] = c.fast
		}
	}
	for _, s := range f.sets {
		rs.sets[s.name] = s.timeout
	}
	for _, e := range f.elems {
		id := elemID{e.m, e.k}
		os := rs.owners[id]
		i, found := slices.BinarySearchFunc(os, key, func(o owner, k string) int { return cmp.Compare(o.key, k) })
		if found {
			os[i].v = e.v
		} else {
			os = slices.Insert(os, i, owner{key, e.v})
		}
		rs.owners[id] = os
		rs.maps[e.m][e.k] = os[len(os)-1].v
	}
}

// remove takes f's chains, sets and elements out of rs (an element stays
// if another port wants it).
func (rs *ruleset) remove(f *fragment) {
	key := f.sp.key()
	for _, c := range f.chains {
		delete(rs.chains, c.name)
		delete(rs.fast, c.name)
	}
	for _, s := range f.sets {
		delete(rs.sets, s.name)
	}
	for _, e := range f.elems {
		id := elemID{e.m, e.k}
		os := rs.owners[id]
		if i, found := slices.BinarySearchFunc(os, key, func(o owner, k string) int { return cmp.Compare(o.key, k) }); found {
			os = slices.Delete(os, i, i+1)
		}
		if len(os) == 0 {
			delete(rs.owners, id)
			delete(rs.maps[e.m], e.k)
			continue
		}
		rs.owners[id] = os
		rs.maps[e.m][e.k] = os[len(os)-1].v
	}
}

// touched collects the names of what a fragment holds.
type touched struct {
	chains map[string]struct{}
	sets   map[string]struct{}
	elems  map[elemID]struct{}
}

func (t *touched) add(f *fragment) {
	for _, c := range f.chains {
		t.chains[c.name] = struct{}{}
	}
	for _, s := range f.sets {
		t.sets[s.name] = struct{}{}
	}
	for _, e := range f.elems {
		t.elems[elemID{e.m, e.k}] = struct{}{}
	}
}

// part returns the part of rs that t names (every map present, perhaps
// empty): what a sync compares to write only what changed.
func (rs *ruleset) part(t *touched) *ruleset {
	p := newRuleset()
	for name := range t.chains {
		if rules, ok := rs.chains[name]; ok {
			p.chains[name] = rules
			if fc := rs.fast[name]; fc != nil {
				p.fast[name] = fc
			}
		}
	}
	for name := range t.sets {
		if d, ok := rs.sets[name]; ok {
			p.sets[name] = d
		}
	}
	for id := range t.elems {
		if v, ok := rs.maps[id.m][id.k]; ok {
			p.maps[id.m][id.k] = v
		}
	}
	return p
}

// update makes rs (holding the fragments frags, by service port key) the
// ruleset of sps: it rebuilds the fragments of the ports that are new or
// changed (a port that is the same pointer as, or equal to, the one its
// fragment was built from is skipped) and removes those of ports that
// are gone. If diff is set it returns the parts of the ruleset before
// and after that the changes touched; their difference is the difference
// of the whole rulesets. Of two ports with the same key the first
// counts.
func (b *nftBackend) update(rs *ruleset, frags map[string]*fragment, sps []*servicePort, diff bool) (before, after *ruleset) {
	b.gen++
	gen := b.gen
	type change struct{ old, new *fragment }
	var changes []change
	stamped := 0 // fragments that carry gen: one per distinct key of sps
	for _, sp := range sps {
		f := frags[sp.key()]
		if f != nil && f.gen == gen {
			continue // a duplicate key
		}
		stamped++
		if f != nil {
			f.gen = gen
			if f.sp == sp || f.sp.equal(sp) {
				f.sp = sp
				continue
			}
		}
		nf := b.buildServicePort(sp)
		nf.gen = gen
		changes = append(changes, change{f, nf})
		frags[sp.key()] = nf
	}
	if stamped < len(frags) {
		// (the fragments of ports that are gone)
		for _, f := range frags {
			if f.gen != gen {
				changes = append(changes, change{f, nil})
			}
		}
	}
	var t *touched
	if diff {
		t = &touched{chains: map[string]struct{}{}, sets: map[string]struct{}{}, elems: map[elemID]struct{}{}}
		for _, c := range changes {
			if c.old != nil {
				t.add(c.old)
			}
			if c.new != nil {
				t.add(c.new)
			}
		}
		before = rs.part(t)
	}
	for _, c := range changes {
		if c.old != nil {
			rs.remove(c.old)
		}
	}
	for _, c := range changes {
		if c.new != nil {
			rs.add(c.new)
		} else {
			delete(frags, c.old.sp.key())
		}
	}
	if diff {
		after = rs.part(t)
	}
	return before, after
}
