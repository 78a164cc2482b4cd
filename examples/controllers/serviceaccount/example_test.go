package serviceaccount_test

import (
	"context"
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/serviceaccount"
	"github.com/setpoint-dev/setpoint/reconcile"
)

// The controller gives a new namespace its default service account.
func ExampleController_Reconcile() {
	cluster, err := controllertest.StartCluster()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Stop()
	cs := cluster.Client
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	ns := &api.Namespace{}
	ns.Name = "team-x"
	if _, err := cs.Namespaces().Create(ctx, ns); err != nil {
		fmt.Println(err)
		return
	}
	c, err := serviceaccount.New(serviceaccount.Config{Client: cs})
	if err != nil {
		fmt.Println(err)
		return
	}
	go cs.Informers().Run(ctx)
	go c.Run(ctx) // reconciles every namespace, then every change
	for {
		// Reconcile works from the cache: retry until it shows the namespace.
		if _, err := c.Reconcile(ctx, reconcile.Request{Name: "team-x"}); err != nil {
			fmt.Println(err)
			return
		}
		if sa, err := cs.ServiceAccounts().Get(ctx, "team-x", "default"); err == nil {
			fmt.Println("created", sa.Namespace+"/"+sa.Name)
			break
		}
	}
	// Output:
	// created team-x/default
}
