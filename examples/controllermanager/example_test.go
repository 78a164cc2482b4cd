package controllermanager_test

import (
	"context"
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/examples/controllermanager"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/store"
)

func Example() {
	cluster, err := controllertest.StartCluster()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Stop()
	cs := cluster.Client
	ctx, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()

	m, err := controllermanager.New(controllermanager.Config{Client: cs, Identity: "cm-1", Controllers: []string{"deployment", "replicaset"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("controllers:", m.Controllers())
	w, err := cs.Leases().Watch(ctx, "kube-system", store.WatchOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Stop()
	mctx, mstop := context.WithCancel(ctx)
	mdone := make(chan error, 1)
	go func() { mdone <- m.Run(mctx) }()

	// The manager takes the Lease; its controllers run while it holds it.
	for ev := range w.Events() {
		if h := ev.Object.Spec.HolderIdentity; ev.Object.Name == "kube-controller-manager" && h != nil && *h != "" {
			fmt.Println("lease held by", *h)
			break
		}
	}
	mstop()
	fmt.Println("Run:", <-mdone)
	// Output:
	// controllers: [deployment replicaset]
	// lease held by cm-1
	// Run: <nil>
}
