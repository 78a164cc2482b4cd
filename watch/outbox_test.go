package watch

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

// TestOutboxBudget: the outbox refuses an event once the untaken weight,
// queued and in the stream's channel, would pass the budget; Finish then
// delivers everything accepted, in order, before the error.
func TestOutboxBudget(t *testing.T) {
	s := NewStream[item](2)
	ob := NewOutbox(s, 100)
	if !ob.Push(Event[item]{Type: Added, Revision: 1}, 150) {
		t.Fatal("an event over the budget alone was refused: a consumer could never make progress")
	}
	if ob.Push(Event[item]{Type: Added, Revision: 2}, 1) {
		t.Fatal("an event was accepted with 150 of 100 bytes untaken")
	}
	// Into the channel: still untaken, still counted.
	ob.C() <- ob.Head()
	ob.Pop()
	if ob.Len() != 0 || ob.Pending() != 150 {
		t.Fatalf("after moving to the channel: %d queued, %d pending, want 0 and 150", ob.Len(), ob.Pending())
	}
	if ob.C() != nil {
		t.Fatal("C is ready with nothing queued")
	}
	<-s.Events() // the consumer takes it
	if ob.Pending() != 0 {
		t.Fatalf("pending %d after the consumer took everything", ob.Pending())
	}
	for rev := int64(2); rev <= 5; rev++ {
		if !ob.Push(Event[item]{Type: Added, Revision: rev}, 25) {
			t.Fatalf("event %d refused at %d pending", rev, ob.Pending())
		}
	}
	if ob.Push(Event[item]{Type: Added, Revision: 6}, 1) {
		t.Fatal("accepted past the budget")
	}
	finished := make(chan bool, 1)
	go func() { finished <- ob.Finish(context.Background(), ErrTooSlow) }()
	got, err := drain(t, s)
	if !<-finished {
		t.Fatal("Finish did not deliver everything")
	}
	if !errors.Is(err, ErrTooSlow) || len(got) != 4 || got[0].Revision != 2 || got[3].Revision != 5 {
		t.Fatalf("after Finish: %v, %v", got, err)
	}
	// A consumer that stopped: Finish gives up at once.
	s2 := NewStream[item](1)
	ob2 := NewOutbox(s2, 0)
	for rev := int64(1); rev <= 3; rev++ {
		ob2.Push(Event[item]{Type: Added, Revision: rev}, 1<<30) // no budget: all accepted
	}
	s2.Stop()
	if ob2.Finish(context.Background(), ErrTooSlow) {
		t.Fatal("Finish delivered to a stopped consumer")
	}
	if !errors.Is(s2.Err(), ErrStopped) {
		t.Fatalf("Err = %v", s2.Err())
	}
}

// TestOutboxStress: a producer pushing events of random weight against a
// consumer reading at a random pace. Invariants: an accepted event never
// takes the untaken weight past the budget (unless it is alone); every
// accepted event is delivered once, in order; after the first refusal,
// Finish delivers the rest and the stream ends with its error.
func TestOutboxStress(t *testing.T) {
	for round := range 20 {
		r := rand.New(rand.NewPCG(uint64(round), 3))
		const budget = 1000
		s := NewStream[item](1 + r.IntN(16))
		ob := NewOutbox(s, budget)
		var (
			wg       sync.WaitGroup
			received []int64
		)
		slow := r.IntN(4)
		cr := rand.New(rand.NewPCG(uint64(round), 4)) // the consumer's own
		wg.Go(func() {
			for ev := range s.Events() {
				received = append(received, ev.Revision)
				for range cr.IntN(slow + 1) {
					runtime.Gosched()
				}
			}
		})
		var accepted []int64
		for rev := int64(1); rev <= 2000; rev++ {
			// Move what the consumer has room for, as a producer's select
			// would.
			for moved := true; moved; {
				select {
				case ob.C() <- ob.Head():
					ob.Pop()
				default:
					moved = false
				}
			}
			w := int64(1 + r.IntN(300))
			before := ob.Pending()
			if !ob.Push(Event[item]{Type: Added, Revision: rev}, w) {
				if before == 0 || before+w <= budget {
					t.Fatalf("round %d: refused %d bytes with %d pending", round, w, before)
				}
				break
			}
			if after := ob.Pending(); after > max(budget, w) {
				t.Fatalf("round %d: accepted %d bytes: %d pending, over %d", round, w, after, budget)
			}
			accepted = append(accepted, rev)
		}
		ob.Finish(context.Background(), ErrTooSlow)
		wg.Wait()
		if !errors.Is(s.Err(), ErrTooSlow) && len(accepted) < 2000 {
			t.Fatalf("round %d: stream ended with %v", round, s.Err())
		}
		if len(received) != len(accepted) {
			t.Fatalf("round %d: %d accepted, %d delivered", round, len(accepted), len(received))
		}
		for i := range received {
			if received[i] != accepted[i] {
				t.Fatalf("round %d: delivery %d is %d, want %d", round, i, received[i], accepted[i])
			}
		}
	}
}
