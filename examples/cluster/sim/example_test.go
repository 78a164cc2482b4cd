package sim_test

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/cluster/sim"
)

// The p99 of a histogram with 100 requests, 98 under 10 ms and 2 under
// 1 s: the 99th falls halfway through the (0.01, 1] bucket.
func ExampleBuckets_Quantile() {
	b := sim.Buckets{0.01: 98, 1: 100}
	fmt.Println(b.Quantile(0.99))
	fmt.Println(sim.NodeIP(0), sim.NodeIP(250))
	// Output:
	// 505ms
	// 127.1.1.1 127.1.2.1
}
