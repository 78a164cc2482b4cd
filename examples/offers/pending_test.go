package offers

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestPendingOffers drives the pending-offer table with random adds and
// removes against a map model: get, len and in-order iteration agree
// after every step, and the table's span never exceeds the offers added
// since the oldest pending one.
func TestPendingOffers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var p pendingOffers
	model := map[int64]*offer{}
	seq := int64(0)
	for step := range 20000 {
		if r.IntN(3) > 0 || len(model) == 0 {
			seq += 1 + int64(r.IntN(3)) // gaps: seqs of offers never pending
			o := &offer{seq: seq}
			p.add(o)
			model[seq] = o
		} else {
			// remove a random pending offer, or an unknown seq
			victim := int64(r.IntN(int(seq) + 2))
			p.remove(victim)
			delete(model, victim)
		}
		if p.len() != len(model) {
			t.Fatalf("step %d: len %d, model %d", step, p.len(), len(model))
		}
		for s := seq - 5; s <= seq+1; s++ {
			if got, want := p.get(s), model[s]; got != want {
				t.Fatalf("step %d: get(%d) = %v, want %v", step, s, got, want)
			}
		}
		if step%500 == 0 {
			prev := int64(0)
			n := 0
			for o := range p.all {
				if o.seq <= prev || model[o.seq] != o {
					t.Fatalf("step %d: iteration out of order or stale at seq %d", step, o.seq)
				}
				prev = o.seq
				n++
			}
			if n != len(model) {
				t.Fatalf("step %d: iterated %d, model %d", step, n, len(model))
			}
			oldest := seq + 1
			for s := range model {
				oldest = min(oldest, s)
			}
			if len(model) > 0 && (p.base != oldest || int64(len(p.items)) != seq-oldest+1) {
				t.Fatalf("step %d: table spans %d from %d, want from the oldest pending %d to %d", step, len(p.items), p.base, oldest, seq)
			}
		}
	}
	for s := range model {
		p.remove(s)
	}
	if p.len() != 0 || len(p.items) != 0 {
		t.Fatalf("emptied table holds %d items (len %d)", len(p.items), p.len())
	}
}

// TestOfferSeq: only the IDs the allocator writes parse.
func TestOfferSeq(t *testing.T) {
	for _, c := range []struct {
		id   string
		seq  int64
		good bool
	}{
		{"o-1", 1, true}, {"o-42", 42, true}, {"o-9223372036854775807", 1<<63 - 1, true},
		{"o-0", 0, false}, {"o-01", 0, false}, {"o--1", 0, false}, {"o-+1", 0, false},
		{"o-", 0, false}, {"o-1x", 0, false}, {"x-1", 0, false}, {"", 0, false},
		{"o-9223372036854775808", 0, false}, {"prefix-o-1", 0, false},
	} {
		seq, ok := offerSeq(c.id)
		if ok != c.good || (ok && seq != c.seq) {
			t.Errorf("offerSeq(%q) = %d, %v; want %d, %v", c.id, seq, ok, c.seq, c.good)
		}
	}
}

// FuzzOfferSeq: a parsed ID prints back to itself.
func FuzzOfferSeq(f *testing.F) {
	for _, s := range []string{"o-1", "o-0", "o-18446744073709551616", "o- 1", "o-1\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		seq, ok := offerSeq(id)
		if ok && (seq <= 0 || "o-"+strconv.FormatInt(seq, 10) != id) {
			t.Fatalf("offerSeq(%q) = %d, which prints as another ID", id, seq)
		}
	})
}
