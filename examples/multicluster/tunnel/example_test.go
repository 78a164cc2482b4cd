package tunnel_test

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/multicluster/tunnel"
)

// Callers reach child cluster "edge-1" below its proxy path.
func ExampleProxyPath() {
	fmt.Println(tunnel.ProxyPath("edge-1") + "/api/v1/pods")
	fmt.Println(tunnel.HeartbeatPath("edge-1"))
	// Output:
	// /apis/multicluster.setpoint.dev/v1alpha1/clusters/edge-1/proxy/api/v1/pods
	// /apis/multicluster.setpoint.dev/v1alpha1/clusters/edge-1/heartbeat
}
