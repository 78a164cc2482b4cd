// Package keytable is an open-addressing hash table from keys to pointers for
// callers that have already hashed the key (the queue hashes each key once to
// pick a shard and reuses the hash here, which a Go map cannot do).
package keytable

type slot[K comparable, V any] struct {
	hash uint64
	key  K
	val  *V // nil: empty slot
}

// Table maps keys to non-nil *V. The zero value is an empty table. It is not
// safe for concurrent use.
type Table[K comparable, V any] struct {
	slots []slot[K, V] // length is zero or a power of two
	n     int
}

// Len returns the number of keys.
func (t *Table[K, V]) Len() int { return t.n }

// Get returns key's value, or nil.
func (t *Table[K, V]) Get(hash uint64, key K) *V {
	if t.n == 0 {
		return nil
	}
	mask := uint64(len(t.slots) - 1)
	for i := hash & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.val == nil {
			return nil
		}
		if s.hash == hash && s.key == key {
			return s.val
		}
	}
}

// Put sets key's value to v, which must not be nil.
func (t *Table[K, V]) Put(hash uint64, key K, v *V) {
	if (t.n+1)*4 > len(t.slots)*3 { // keep the load under 3/4
		t.resize(max(16, 2*len(t.slots)))
	}
	mask := uint64(len(t.slots) - 1)
	for i := hash & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.val == nil {
			*s = slot[K, V]{hash: hash, key: key, val: v}
			t.n++
			return
		}
		if s.hash == hash && s.key == key {
			s.val = v
			return
		}
	}
}

// Delete removes key, if present.
func (t *Table[K, V]) Delete(hash uint64, key K) {
	if t.n == 0 {
		return
	}
	mask := uint64(len(t.slots) - 1)
	i := hash & mask
	for {
		s := &t.slots[i]
		if s.val == nil {
			return
		}
		if s.hash == hash && s.key == key {
			break
		}
		i = (i + 1) & mask
	}
	// Backward-shift deletion: move later members of the probe run into the
	// hole so that no tombstones are needed.
	for j := (i + 1) & mask; ; j = (j + 1) & mask {
		s := &t.slots[j]
		if s.val == nil {
			break
		}
		home := s.hash & mask
		// s may move to i if i lies cyclically in [home, j).
		if (j-home)&mask >= (j-i)&mask {
			t.slots[i] = *s
			i = j
		}
	}
	t.slots[i] = slot[K, V]{}
	t.n--
	if len(t.slots) > 64 && t.n*8 < len(t.slots) {
		t.resize(len(t.slots) / 2)
	}
}

func (t *Table[K, V]) resize(size int) {
	old := t.slots
	t.slots = make([]slot[K, V], size)
	t.n = 0
	mask := uint64(size - 1)
	for _, s := range old {
		if s.val == nil {
			continue
		}
		i := s.hash & mask
		for t.slots[i].val != nil {
			i = (i + 1) & mask
		}
		t.slots[i] = s
		t.n++
	}
}
