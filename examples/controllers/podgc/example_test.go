package podgc_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/podgc"
	"github.com/setpoint-dev/setpoint/store"
)

// Collect makes one pass: here it deletes a pod bound to a node that does
// not exist.
func ExampleCollector_Collect() {
	cluster, err := controllertest.StartCluster()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Stop()
	cs := cluster.Client
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	p := &api.Pod{}
	p.Namespace, p.Name = "default", "orphan"
	p.Spec.NodeName = "gone-node"
	p.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
	if _, err := cs.Pods().Create(ctx, p); err != nil {
		fmt.Println(err)
		return
	}
	gc, err := podgc.New(podgc.Config{Client: cs})
	if err != nil {
		fmt.Println(err)
		return
	}
	go cs.Informers().Run(ctx)
	go gc.Run(ctx) // waits for the caches, then collects every 20s
	for {
		// Collect works on the cache: retry until the cache shows the pod.
		if err := gc.Collect(ctx); err != nil {
			fmt.Println(err)
			return
		}
		if _, err := cs.Pods().Get(ctx, "default", "orphan"); errors.Is(err, store.ErrNotFound) {
			break
		}
	}
	fmt.Println("orphaned pod deleted")
	// Output:
	// orphaned pod deleted
}
