package clocktest_test

import (
	"context"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/reconcile/clocktest"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func fired(c <-chan time.Time) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func TestTimerFiresOnStep(t *testing.T) {
	c := clocktest.New(epoch)
	tm := c.NewTimer(time.Second)
	if !c.HasWaiters() {
		t.Fatal("HasWaiters = false with a timer armed")
	}
	c.Step(999 * time.Millisecond)
	if fired(tm.C()) {
		t.Fatal("timer fired early")
	}
	c.Step(time.Millisecond)
	select {
	case at := <-tm.C():
		if !at.Equal(epoch.Add(time.Second)) {
			t.Fatalf("fired with %v", at)
		}
	default:
		t.Fatal("timer did not fire at its deadline")
	}
	if c.HasWaiters() {
		t.Fatal("a fired timer is still a waiter")
	}
	if tm.Stop() {
		t.Fatal("Stop of a fired timer reported true")
	}
	if got := c.Since(epoch); got != time.Second {
		t.Fatalf("Since = %v", got)
	}
}

func TestTimerStopAndReset(t *testing.T) {
	c := clocktest.New(epoch)
	tm := c.NewTimer(time.Second)
	if !tm.Stop() {
		t.Fatal("Stop of an armed timer reported false")
	}
	c.Step(time.Hour)
	if fired(tm.C()) {
		t.Fatal("stopped timer fired")
	}
	if tm.Reset(time.Minute) {
		t.Fatal("Reset of a stopped timer reported it active")
	}
	c.Step(time.Minute)
	if !fired(tm.C()) {
		t.Fatal("reset timer did not fire")
	}
	// Reset drops a value that was not received, as Go 1.23 timers do.
	tm.Reset(time.Second)
	c.Step(time.Second)
	tm.Reset(time.Second)
	if fired(tm.C()) {
		t.Fatal("stale tick survived Reset")
	}
	if z := c.NewTimer(0); !fired(z.C()) {
		t.Fatal("zero timer has not fired")
	}
}

func TestAfterFuncOrderAndNesting(t *testing.T) {
	c := clocktest.New(epoch)
	var order []string
	c.AfterFunc(3*time.Second, func() { order = append(order, "3s") })
	c.AfterFunc(time.Second, func() {
		order = append(order, "1s")
		// A callback may arm timers; one due within the step fires too.
		c.AfterFunc(time.Second, func() { order = append(order, "1s+1s") })
	})
	c.AfterFunc(time.Second, func() { order = append(order, "1s-second") })
	stopped := c.AfterFunc(2*time.Second, func() { order = append(order, "stopped") })
	stopped.Stop()
	c.Step(5 * time.Second)
	want := []string{"1s", "1s-second", "1s+1s", "3s"}
	if len(order) != len(want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
}

func TestTicker(t *testing.T) {
	c := clocktest.New(epoch)
	tk := c.NewTicker(time.Second)
	for i := range 3 {
		c.Step(time.Second)
		select {
		case at := <-tk.C():
			if want := epoch.Add(time.Duration(i+1) * time.Second); !at.Equal(want) {
				t.Fatalf("tick %d at %v, want %v", i, at, want)
			}
		default:
			t.Fatalf("tick %d missing", i)
		}
	}
	// A long step delivers one tick (the rest are dropped) and keeps the
	// ticker going.
	c.Step(10 * time.Second)
	if !fired(tk.C()) || fired(tk.C()) {
		t.Fatal("a long step must deliver exactly one tick")
	}
	tk.Reset(time.Minute)
	c.Step(time.Second)
	if fired(tk.C()) {
		t.Fatal("ticker ticked at its old period after Reset")
	}
	c.Step(time.Minute)
	if !fired(tk.C()) {
		t.Fatal("no tick at the new period")
	}
	tk.Stop()
	c.Step(time.Hour)
	if fired(tk.C()) || c.HasWaiters() {
		t.Fatal("stopped ticker ticked or is still a waiter")
	}
}

func TestWaitForWaitersAndSetTime(t *testing.T) {
	c := clocktest.New(epoch)
	done := make(chan time.Time)
	go func() {
		tm := c.NewTimer(time.Minute)
		done <- <-tm.C()
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := c.WaitForWaiters(ctx, 1); err != nil {
		t.Fatalf("WaitForWaiters: %v", err)
	}
	c.SetTime(epoch.Add(-time.Hour)) // backwards: fires nothing
	if c.Waiters() != 1 {
		t.Fatal("moving back fired a timer")
	}
	c.SetTime(epoch.Add(time.Hour))
	if at := <-done; !at.Equal(epoch.Add(time.Minute)) { // the deadline, passed on the way
		t.Fatalf("fired with %v", at)
	}
	short, cancel2 := context.WithCancel(t.Context())
	cancel2()
	if err := c.WaitForWaiters(short, 1); err == nil {
		t.Fatal("WaitForWaiters with no waiters and a cancelled ctx returned nil")
	}
}
