package agent_test

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/multicluster/agent"
)

// An agent's configuration is checked before it reaches anyone; every
// problem is named.
func Example() {
	_, err := agent.New(agent.Config{ClusterID: "Edge_1", HubURL: "http://hub:9443", HubToken: "t"})
	fmt.Println(err)
	// Output:
	// agent config: ClusterID: "Edge_1" is not a DNS label
	// HubURL: "http://hub:9443" is not an https:// URL
	// HubCAPEM: no PEM certificate in it
	// ChildKubeconfig: required
}
