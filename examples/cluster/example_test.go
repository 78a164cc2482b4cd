package cluster_test

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/cluster"
)

// Each node of a cluster gets its own pod subnet of the cluster CIDR, until
// node IPAM allocates them: node i of Config.Nodes gets subnet i+1.
func ExampleNodeSubnet() {
	for i := 1; i <= 3; i++ {
		s, _ := cluster.NodeSubnet(cluster.DefaultClusterCIDR, cluster.DefaultNodeMaskSize, i)
		fmt.Println(s)
	}
	_, err := cluster.NodeSubnet("10.0.0.0/23", 24, 2)
	fmt.Println(err)
	// Output:
	// 10.244.1.0/24
	// 10.244.2.0/24
	// 10.244.3.0/24
	// cluster CIDR "10.0.0.0/23" has no subnet /24 number 2 (it holds 2)
}
