// Package timeheap holds keys waiting for a time, at most one entry per key,
// ordered by time and then by insertion.
package timeheap

import (
	"container/heap"
	"time"
)

type item[K comparable] struct {
	key   K
	at    time.Time
	seq   uint64
	index int
}

// Heap is a min-heap of keys by time. The zero value is not usable; call New.
// It is not safe for concurrent use.
type Heap[K comparable] struct {
	h     items[K]
	index map[K]*item[K]
	seq   uint64
}

// New returns an empty heap.
func New[K comparable]() *Heap[K] { return &Heap[K]{index: make(map[K]*item[K])} }

// Len returns the number of waiting keys.
func (h *Heap[K]) Len() int { return len(h.h) }

// Add makes key wait until at. A key already waiting keeps the earlier of the
// two times. Add reports whether the heap's earliest time changed.
func (h *Heap[K]) Add(key K, at time.Time) bool {
	before, had := h.Peek()
	if it, ok := h.index[key]; ok {
		if !at.Before(it.at) {
			return false
		}
		it.at = at
		heap.Fix(&h.h, it.index)
	} else {
		h.seq++
		it := &item[K]{key: key, at: at, seq: h.seq}
		h.index[key] = it
		heap.Push(&h.h, it)
	}
	next, _ := h.Peek()
	return !had || !next.Equal(before)
}

// Peek returns the earliest time, and false if the heap is empty.
func (h *Heap[K]) Peek() (time.Time, bool) {
	if len(h.h) == 0 {
		return time.Time{}, false
	}
	return h.h[0].at, true
}

// PopDue removes and returns, in order, every key whose time is not after now.
func (h *Heap[K]) PopDue(now time.Time, out []K) []K {
	for len(h.h) > 0 && !h.h[0].at.After(now) {
		it := heap.Pop(&h.h).(*item[K])
		delete(h.index, it.key)
		out = append(out, it.key)
	}
	return out
}

// Clear removes every key.
func (h *Heap[K]) Clear() {
	h.h = nil
	clear(h.index)
}

type items[K comparable] []*item[K]

func (s items[K]) Len() int { return len(s) }
func (s items[K]) Less(i, j int) bool {
	if s[i].at.Equal(s[j].at) {
		return s[i].seq < s[j].seq
	}
	return s[i].at.Before(s[j].at)
}
func (s items[K]) Swap(i, j int) {
	s[i], s[j] = s[j], s[i]
	s[i].index = i
	s[j].index = j
}
func (s *items[K]) Push(x any) {
	it := x.(*item[K])
	it.index = len(*s)
	*s = append(*s, it)
}
func (s *items[K]) Pop() any {
	old := *s
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*s = old[:len(old)-1]
	return it
}
