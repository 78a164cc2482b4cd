package proxy_test

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/proxy"
)

// Config.Validate names the problem and changes nothing; New refuses the
// same configuration.
func ExampleConfig_Validate() {
	cfg := proxy.Config{NodeName: "node1"}
	fmt.Println(cfg.Validate())
	_, err := proxy.New(proxy.Config{Client: &client.Clientset{}, NodeName: "node1", MasqueradeBit: 40})
	fmt.Println(err)
	// Output:
	// proxy: Client is required
	// proxy: MasqueradeBit 40 is out of range 0..31
}
