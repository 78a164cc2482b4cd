package reconcile_test

import (
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/reconcile"
)

// TestRealClock checks the real clock's plumbing: timers fire, AfterFunc
// runs, stopped timers do not, tickers tick. It waits on channels with a
// generous deadline and asserts no durations.
func TestRealClock(t *testing.T) {
	c := reconcile.RealClock()
	start := c.Now()
	deadline := time.After(30 * time.Second)

	tm := c.NewTimer(time.Millisecond)
	select {
	case <-tm.C():
	case <-deadline:
		t.Fatal("timer never fired")
	}
	if c.Since(start) <= 0 {
		t.Fatal("Since did not advance")
	}

	ran := make(chan struct{})
	c.AfterFunc(time.Millisecond, func() { close(ran) })
	select {
	case <-ran:
	case <-deadline:
		t.Fatal("AfterFunc never ran")
	}

	stopped := c.AfterFunc(time.Hour, func() { t.Error("stopped AfterFunc ran") })
	if !stopped.Stop() {
		t.Fatal("Stop of a pending AfterFunc reported false")
	}
	if stopped.C() != nil {
		t.Fatal("AfterFunc timer has a channel")
	}
	if stopped.Reset(time.Hour) {
		t.Fatal("Reset of a stopped timer reported it active")
	}
	stopped.Stop()

	tk := c.NewTicker(time.Millisecond)
	defer tk.Stop()
	for range 2 {
		select {
		case <-tk.C():
		case <-deadline:
			t.Fatal("ticker never ticked")
		}
	}
	tk.Reset(time.Millisecond)
	select {
	case <-tk.C():
	case <-deadline:
		t.Fatal("reset ticker never ticked")
	}
}
