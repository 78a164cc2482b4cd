package service_test

import (
	"context"
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/offers"
	"github.com/setpoint-dev/setpoint/examples/offers/framework"
	"github.com/setpoint-dev/setpoint/examples/offers/framework/service"
	"github.com/setpoint-dev/setpoint/store"
)

// A service framework spreads two replicas over two nodes, one each,
// though either node could hold both. The cluster here is an apiserver,
// the allocator (offers.Controller) and stand-ins for the nodes' kubelets.
func Example() {
	c, _ := controllertest.StartCluster(func(cfg *apiserver.Config) {
		cfg.ExtraKinds = append(cfg.ExtraKinds, apiserver.Serve(offers.FrameworkKind), apiserver.Serve(offers.OfferKind))
	})
	defer c.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, name := range []string{"n1", "n2"} {
		node := &api.Node{ObjectMeta: store.ObjectMeta{Name: name}}
		node.Status.Allocatable = api.ResourceList{api.ResourceCPU: api.MustParse("4"), api.ResourceMemory: api.MustParse("8Gi"), "pods": api.MustParse("110")}
		_, _ = c.Client.Nodes().Create(ctx, node)
	}
	go (&controllertest.NodeStandIn{Client: c.Client, Nodes: []string{"n1", "n2"}}).Run(ctx)
	allocator, _ := offers.NewController(offers.ControllerConfig{Client: c.Client, Identity: "allocator"})
	go allocator.Run(ctx)

	replica := api.ResourceList{api.ResourceCPU: api.MustParse("1"), api.ResourceMemory: api.MustParse("1Gi")}
	d, _ := framework.New(framework.Config{Client: c.Client, Framework: &offersapi.Framework{
		ObjectMeta: store.ObjectMeta{Name: "web"}, Spec: offersapi.FrameworkSpec{TaskResources: replica}}})
	go d.Run(ctx)
	f, err := service.New(d, "web", 2, replica)
	if err != nil {
		fmt.Println(err)
		return
	}
	go f.Run(ctx)
	for len(f.Placement()) < 2 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	nodes := map[string]bool{}
	for _, n := range f.Placement() {
		nodes[n] = true
	}
	fmt.Println(len(f.Placement()), "replicas on", len(nodes), "nodes")
	// Output: 2 replicas on 2 nodes
}
