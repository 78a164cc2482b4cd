package timeheap

import (
	"testing"
	"time"
)

func TestHeap(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	h := New[string]()
	if _, ok := h.Peek(); ok {
		t.Fatal("Peek on empty heap")
	}
	if !h.Add("c", at(3)) {
		t.Fatal("first Add must change the earliest time")
	}
	if !h.Add("a", at(1)) {
		t.Fatal("earlier Add must change the earliest time")
	}
	if h.Add("b", at(2)) {
		t.Fatal("later Add changed the earliest time")
	}
	h.Add("b2", at(2))
	if h.Add("c", at(5)) {
		t.Fatal("moving a key later must be ignored")
	}
	if !h.Add("c", at(0)) {
		t.Fatal("moving a key to the front must change the earliest time")
	}
	if h.Len() != 4 {
		t.Fatalf("Len = %d, want 4", h.Len())
	}
	if got := h.PopDue(at(0), nil); len(got) != 1 || got[0] != "c" {
		t.Fatalf("due at 0: %v", got)
	}
	got := h.PopDue(at(2), nil)
	if len(got) != 3 || got[0] != "a" || got[1] != "b" || got[2] != "b2" {
		t.Fatalf("due at 2: %v, want [a b b2]", got)
	}
	h.Add("x", at(9))
	h.Clear()
	if h.Len() != 0 || len(h.PopDue(at(100), nil)) != 0 {
		t.Fatal("Clear left keys")
	}
	h.Add("x", at(9)) // the index was cleared too
	if h.Len() != 1 {
		t.Fatal("Add after Clear")
	}
}
