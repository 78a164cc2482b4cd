package framework_test

import (
	"context"
	"fmt"
	"sort"

	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/offers"
	"github.com/setpoint-dev/setpoint/examples/offers/framework"
	"github.com/setpoint-dev/setpoint/store"
)

// A framework in a few lines: it launches three one-CPU tasks on what it
// is offered, declining any offer once it has launched them all, and
// reports where each task runs. The cluster here is an apiserver, the
// allocator (offers.Controller) and a stand-in for node n1's kubelet.
func Example() {
	c, _ := controllertest.StartCluster(func(cfg *apiserver.Config) {
		cfg.ExtraKinds = append(cfg.ExtraKinds, apiserver.Serve(offers.FrameworkKind), apiserver.Serve(offers.OfferKind))
	})
	defer c.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cpu := api.ResourceList{api.ResourceCPU: api.MustParse("1"), api.ResourceMemory: api.MustParse("1Gi")}
	node := &api.Node{ObjectMeta: store.ObjectMeta{Name: "n1"}}
	node.Status.Allocatable = api.ResourceList{api.ResourceCPU: api.MustParse("4"), api.ResourceMemory: api.MustParse("8Gi"), "pods": api.MustParse("110")}
	_, _ = c.Client.Nodes().Create(ctx, node)
	go (&controllertest.NodeStandIn{Client: c.Client, Nodes: []string{"n1"}}).Run(ctx)
	allocator, _ := offers.NewController(offers.ControllerConfig{Client: c.Client, Identity: "allocator"})
	go allocator.Run(ctx)

	// The framework.
	d, err := framework.New(framework.Config{Client: c.Client, Framework: &offersapi.Framework{
		ObjectMeta: store.ObjectMeta{Name: "hello"}, Spec: offersapi.FrameworkSpec{TaskResources: cpu}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	go d.Run(ctx)
	todo := []string{"t1", "t2", "t3"}
	var running []string
	for len(running) < 3 {
		select {
		case o := <-d.Offers():
			var tasks []framework.Task
			for len(todo) > 0 && len(tasks) < framework.HowMany(o.Spec.Resources, cpu) {
				tasks = append(tasks, framework.Task{Name: todo[0], Resources: cpu})
				todo = todo[1:]
			}
			if len(tasks) == 0 {
				_ = d.Decline(ctx, o, 0)
			} else if err := d.Accept(ctx, o, tasks); err != nil {
				fmt.Println(err)
				return
			}
		case st := <-d.Statuses():
			if st.State == offers.TaskRunning {
				running = append(running, st.Task+" on "+st.Node)
			}
		}
	}
	sort.Strings(running)
	fmt.Println(running)
	// Output: [t1 on n1 t2 on n1 t3 on n1]
}
