// Package ring provides a growable FIFO ring buffer. It is not safe for
// concurrent use; callers hold their own lock.
package ring

// minCap is the smallest capacity the buffer shrinks to.
const minCap = 16

// Ring is an unbounded FIFO queue backed by a power-of-two circular buffer
// that doubles when full and halves when it becomes mostly empty. The zero
// value is an empty queue ready to use.
type Ring[T any] struct {
	buf  []T
	head int // index of the first element
	n    int // number of elements
}

// Len returns the number of queued elements.
func (r *Ring[T]) Len() int { return r.n }

// Cap returns the current capacity of the backing buffer.
func (r *Ring[T]) Cap() int { return len(r.buf) }

// Push appends v at the tail.
func (r *Ring[T]) Push(v T) {
	if r.n == len(r.buf) {
		r.resize(max(minCap, 2*len(r.buf)))
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = v
	r.n++
}

// Pop removes and returns the head element. ok is false when the queue is
// empty.
func (r *Ring[T]) Pop() (v T, ok bool) {
	if r.n == 0 {
		return v, false
	}
	var zero T
	v = r.buf[r.head]
	r.buf[r.head] = zero // drop the reference for the garbage collector
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	r.maybeShrink()
	return v, true
}

// PopInto moves up to len(dst) elements from the head into dst, in order,
// and returns how many it moved.
func (r *Ring[T]) PopInto(dst []T) int {
	var zero T
	k := min(len(dst), r.n)
	for i := 0; i < k; i++ {
		j := (r.head + i) & (len(r.buf) - 1)
		dst[i] = r.buf[j]
		r.buf[j] = zero
	}
	if k > 0 {
		r.head = (r.head + k) & (len(r.buf) - 1)
		r.n -= k
		r.maybeShrink()
	}
	return k
}

// Clear drops every element and releases a large buffer.
func (r *Ring[T]) Clear() {
	r.buf, r.head, r.n = nil, 0, 0
}

func (r *Ring[T]) maybeShrink() {
	if len(r.buf) > minCap && r.n < len(r.buf)/4 {
		r.resize(len(r.buf) / 2)
	}
}

func (r *Ring[T]) resize(c int) {
	nb := make([]T, c)
	if r.n > 0 {
		if r.head+r.n <= len(r.buf) {
			copy(nb, r.buf[r.head:r.head+r.n])
		} else {
			k := copy(nb, r.buf[r.head:])
			copy(nb[k:], r.buf[:r.n-k])
		}
	}
	r.buf, r.head = nb, 0
}
