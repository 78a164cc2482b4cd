package offers

import (
	"slices"
	"strconv"
	"strings"
)

// pendingOffers holds the pending offers by sequence number. Offer IDs are
// "o-<seq>" with seq increasing, so the table is a slice indexed by seq
// less base, nil where an offer ended; leading nils are dropped as the
// oldest offers end. An offer ends at the latest OfferTimeout after it is
// made (Cycle expires it), so the slice spans at most the offers made in
// one timeout. Iteration is in ID order.
type pendingOffers struct {
	base  int64 // seq of items[0]
	items []*offer
	count int
}

// add stores o, whose seq must be greater than every stored one.
func (p *pendingOffers) add(o *offer) {
	if len(p.items) == 0 {
		p.base = o.seq
		p.items = p.items[:0]
	}
	for p.base+int64(len(p.items)) < o.seq {
		p.items = append(p.items, nil) // seqs that were never pending
	}
	p.items = append(p.items, o)
	p.count++
}

// grow makes room for n more offers.
func (p *pendingOffers) grow(n int) { p.items = slices.Grow(p.items, n) }

// get returns the pending offer of seq, or nil.
func (p *pendingOffers) get(seq int64) *offer {
	i := seq - p.base
	if i < 0 || i >= int64(len(p.items)) {
		return nil
	}
	return p.items[i]
}

// remove drops the offer of seq, if pending.
func (p *pendingOffers) remove(seq int64) {
	i := seq - p.base
	if i < 0 || i >= int64(len(p.items)) || p.items[i] == nil {
		return
	}
	p.items[i] = nil
	p.count--
	k := 0
	for k < len(p.items) && p.items[k] == nil {
		k++
	}
	if k > 0 {
		p.items = p.items[k:]
		p.base += int64(k)
	}
	if p.count == 0 {
		p.items = nil
	}
}

// len is the number of pending offers.
func (p *pendingOffers) len() int { return p.count }

// all yields the pending offers in ID order.
func (p *pendingOffers) all(yield func(*offer) bool) {
	for _, o := range p.items {
		if o != nil && !yield(o) {
			return
		}
	}
}

// offerSeq parses an offer ID "o-<seq>"; ok is false for anything else.
func offerSeq(id string) (int64, bool) {
	s, ok := strings.CutPrefix(id, "o-")
	if !ok || s == "" || s[0] == '0' || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}
