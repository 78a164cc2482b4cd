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
