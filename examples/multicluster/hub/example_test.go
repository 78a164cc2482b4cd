package hub_test

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/multicluster/hub"
)

// A hub's configuration is checked before it listens; every problem is
// named.
func Example() {
	_, err := hub.New(hub.Config{ServingCertPEM: []byte("x"), HeartbeatGrace: -1, ClientCAPEM: []byte("not PEM")})
	fmt.Println(err)
	// Output:
	// hub config: ParentKubeconfig: required
	// ServingCertPEM, ServingKeyPEM: set both or neither
	// HeartbeatGrace: -1ns is negative
	// ClientCAPEM: no PEM certificate in it
}

// Dividing 6 replicas 2:1, and 10 over three equal weights: the shares
// always sum to the total, the leftover replica going to the largest
// remainder (ties to the first).
func ExampleDivide() {
	fmt.Println(hub.Divide(6, []int64{2, 1}))
	fmt.Println(hub.Divide(10, []int64{1, 1, 1}))
	// Output:
	// [4 2]
	// [4 3 3]
}
