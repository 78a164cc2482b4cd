package fakeclock

import (
	"testing"
	"time"
)

func TestAfterFiresOnlyWhenDue(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := New(start)
	changed := c.Changed()
	a := c.After(time.Second)
	b := c.After(3 * time.Second)
	select {
	case <-changed:
	default:
		t.Fatal("Changed not closed after After")
	}
	if got := c.Pending(); len(got) != 2 || got[0] != time.Second || got[1] != 3*time.Second {
		t.Fatalf("Pending = %v", got)
	}
	c.Advance(999 * time.Millisecond)
	select {
	case <-a:
		t.Fatal("timer fired early")
	default:
	}
	c.Advance(time.Millisecond)
	select {
	case at := <-a:
		if !at.Equal(start.Add(time.Second)) {
			t.Fatalf("fired at %v", at)
		}
	default:
		t.Fatal("timer did not fire when due")
	}
	select {
	case <-b:
		t.Fatal("second timer fired early")
	default:
	}
	c.Advance(2 * time.Second)
	<-b
	if len(c.Pending()) != 0 {
		t.Fatal("pending timers left")
	}
	if c.Now() != start.Add(3*time.Second) {
		t.Fatalf("Now = %v", c.Now())
	}
	select {
	case <-c.After(0):
	default:
		t.Fatal("After(0) did not fire at once")
	}
}
