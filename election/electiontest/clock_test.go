package electiontest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/election/electiontest"
)

func TestFakeClockTimers(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := electiontest.NewFakeClock(t0)
	if !c.Now().Equal(t0) {
		t.Fatalf("Now() = %v, want %v", c.Now(), t0)
	}
	a := c.NewTimer(2 * time.Second)
	b := c.NewTimer(time.Second)
	stopped := c.NewTimer(time.Second)
	if n := c.Waiters(); n != 3 {
		t.Fatalf("Waiters() = %d, want 3", n)
	}
	if !stopped.Stop() {
		t.Fatal("Stop on a pending timer returned false")
	}
	if stopped.Stop() {
		t.Fatal("second Stop returned true")
	}
	c.Step(999 * time.Millisecond)
	select {
	case <-b.C():
		t.Fatal("timer fired before its deadline")
	default:
	}
	c.Step(time.Millisecond)
	if got := <-b.C(); !got.Equal(t0.Add(time.Second)) {
		t.Errorf("b fired with %v, want %v", got, t0.Add(time.Second))
	}
	select {
	case <-a.C():
		t.Fatal("a fired a second early")
	case <-stopped.C():
		t.Fatal("a stopped timer fired")
	default:
	}
	if n := c.Waiters(); n != 1 {
		t.Errorf("Waiters() = %d, want 1", n)
	}
	c.Set(t0.Add(time.Hour))
	<-a.C()
	if n := c.Waiters(); n != 0 {
		t.Errorf("Waiters() = %d, want 0", n)
	}
	// A timer for zero or less fires at once.
	select {
	case <-c.NewTimer(0).C():
	default:
		t.Error("NewTimer(0) did not fire at once")
	}
	// Set can move time backward; timers then wait for the new now + d.
	c.Set(t0)
	late := c.NewTimer(time.Second)
	c.Step(500 * time.Millisecond)
	select {
	case <-late.C():
		t.Error("timer fired early after Set moved time back")
	default:
	}
}

func TestFakeClockBlockUntilConcurrent(t *testing.T) {
	c := electiontest.NewFakeClock(time.Unix(0, 0))
	const n = 16
	var wg sync.WaitGroup
	fired := make(chan struct{}, n)
	for range n {
		wg.Go(func() {
			<-c.NewTimer(time.Minute).C()
			fired <- struct{}{}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.BlockUntil(ctx, n); err != nil {
		t.Fatalf("BlockUntil(%d): %v (waiters %d)", n, err, c.Waiters())
	}
	c.Step(time.Minute)
	wg.Wait()
	if len(fired) != n {
		t.Fatalf("%d timers fired, want %d", len(fired), n)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel2()
	if err := c.BlockUntil(short, 1); err == nil {
		t.Fatal("BlockUntil with no waiters returned nil before its context ended")
	}
}
