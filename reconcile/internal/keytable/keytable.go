// Package keytable is an open-addressing hash table that stores values inline
// and takes hashes its caller has already computed (the queue hashes each key
// once to pick a shard and reuses the hash here, which a Go map cannot do).
package keytable

type slot[K comparable, V any] struct {
	used bool
	hash uint64
	key  K
	val  V
}

// Table maps keys to values. The zero value is an empty table. Pointers
// returned by Get and Insert are valid until the next Insert or Delete. It is
// not safe for concurrent use.
type Table[K comparable, V any] struct {
	slots []slot[K, V] // length is zero or a power of two
	n     int
}

// Len returns the number of keys.
func (t *Table[K, V]) Len() int { return t.n }

// Get returns a pointer to key's value, or nil.
func (t *Table[K, V]) Get(hash uint64, key K) *V {
	if t.n == 0 {
		return nil
	}
	mask := uint64(len(t.slots) - 1)
	for i := hash & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if !s.used {
			return nil
		}
		if s.hash == hash && s.key == key {
			return &s.val
		}
	}
}

// Insert returns a pointer to key's value, adding key with the zero value if
// it is absent.
func (t *Table[K, V]) Insert(hash uint64, key K) *V {
	if v := t.Get(hash, key); v != nil {
		return v
	}
	if (t.n+1)*4 > len(t.slots)*3 { // keep the load under 3/4
		t.resize(max(16, 2*len(t.slots)))
	}
	mask := uint64(len(t.slots) - 1)
	i := hash & mask
	for t.slots[i].used {
		i = (i + 1) & mask
	}
	t.slots[i] = slot[K, V]{used: true, hash: hash, key: key}
	t.n++
	return &t.slots[i].val
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
		if !s.used {
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
		if !s.used {
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
	mask := uint64(size - 1)
	for _, s := range old {
		if !s.used {
			continue
		}
		i := s.hash & mask
		for t.slots[i].used {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}
