package electiontest_test

import (
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/election/electiontest"
)

// A fake clock moves only when the test says so; timers fire when it reaches
// their deadline, so election timing is tested without sleeping.
func ExampleFakeClock() {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := electiontest.NewFakeClock(start)
	t := c.NewTimer(2 * time.Second)
	fmt.Println("waiting timers:", c.Waiters())

	c.Step(time.Second)
	select {
	case <-t.C():
		fmt.Println("fired early")
	default:
		fmt.Println("not yet at", c.Now().Sub(start))
	}

	c.Step(time.Second)
	fmt.Println("fired at", (<-t.C()).Sub(start))
	// Output:
	// waiting timers: 1
	// not yet at 1s
	// fired at 2s
}
