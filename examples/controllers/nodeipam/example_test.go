package nodeipam_test

import (
	"context"
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/nodeipam"
)

// A new node gets the first /24 of the cluster CIDR.
func Example() {
	cluster, err := controllertest.StartCluster()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Stop()
	cs := cluster.Client
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	a, err := nodeipam.New(nodeipam.Config{Client: cs, ClusterCIDR: "10.244.0.0/16"})
	if err != nil {
		fmt.Println(err)
		return
	}
	go cs.Informers().Run(ctx)
	go a.Run(ctx)
	n := &api.Node{}
	n.Name = "node-a"
	if _, err := cs.Nodes().Create(ctx, n); err != nil {
		fmt.Println(err)
		return
	}
	for range 500 {
		if n, err := cs.Nodes().Get(ctx, "", "node-a"); err == nil && n.Spec.PodCIDR != "" {
			fmt.Println(n.Spec.PodCIDR)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Output:
	// 10.244.0.0/24
}
