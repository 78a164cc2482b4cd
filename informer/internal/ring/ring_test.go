package ring

import "testing"

// TestFIFOAcrossGrowAndShrink pushes and pops in interleaved bursts that
// wrap the buffer, grow it and shrink it, and checks strict FIFO order.
func TestFIFOAcrossGrowAndShrink(t *testing.T) {
	var r Ring[int]
	next, want := 0, 0
	for round := 0; round < 50; round++ {
		push := (round*37)%500 + 1
		for i := 0; i < push; i++ {
			r.Push(next)
			next++
		}
		pop := (round*53)%500 + 1
		buf := make([]int, 7)
		for pop > 0 && r.Len() > 0 {
			if pop%2 == 0 {
				v, ok := r.Pop()
				if !ok || v != want {
					t.Fatalf("round %d: Pop = %d,%v, want %d", round, v, ok, want)
				}
				want++
				pop--
				continue
			}
			k := r.PopInto(buf[:min(len(buf), pop)])
			for i := 0; i < k; i++ {
				if buf[i] != want {
					t.Fatalf("round %d: PopInto[%d] = %d, want %d", round, i, buf[i], want)
				}
				want++
			}
			pop -= k
		}
		if r.Len() != next-want {
			t.Fatalf("round %d: Len = %d, want %d", round, r.Len(), next-want)
		}
	}
	for r.Len() > 0 {
		v, _ := r.Pop()
		if v != want {
			t.Fatalf("drain: got %d, want %d", v, want)
		}
		want++
	}
	if _, ok := r.Pop(); ok {
		t.Fatal("Pop on empty ring reported ok")
	}
	if r.Cap() > minCap {
		t.Fatalf("Cap after drain = %d, want it shrunk to %d", r.Cap(), minCap)
	}
}

// TestPopReleasesReferences checks popped slots are zeroed so the queue does
// not keep delivered objects alive.
func TestPopReleasesReferences(t *testing.T) {
	var r Ring[*int]
	for i := 0; i < 10; i++ {
		v := i
		r.Push(&v)
	}
	dst := make([]*int, 4)
	r.PopInto(dst)
	r.Pop()
	for i, p := range r.buf {
		inQueue := (i-r.head+len(r.buf))&(len(r.buf)-1) < r.n
		if !inQueue && p != nil {
			t.Fatalf("slot %d outside the queue still holds a pointer", i)
		}
	}
	r.Clear()
	if r.Len() != 0 || r.Cap() != 0 {
		t.Fatalf("after Clear: Len %d Cap %d", r.Len(), r.Cap())
	}
}
