package clocktest_test

import (
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/reconcile/clocktest"
)

func Example() {
	clk := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	clk.AfterFunc(2*time.Second, func() { fmt.Println("callback at", clk.Now().Format(time.TimeOnly)) })
	timer := clk.NewTimer(5 * time.Second)

	clk.Step(3 * time.Second)
	fmt.Println("waiters left:", clk.Waiters())
	clk.Step(2 * time.Second)
	fmt.Println("timer fired at", (<-timer.C()).Format(time.TimeOnly))
	// Output:
	// callback at 00:00:02
	// waiters left: 1
	// timer fired at 00:00:05
}
