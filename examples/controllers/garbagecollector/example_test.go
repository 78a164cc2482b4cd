package garbagecollector_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/garbagecollector"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
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

	gc, err := garbagecollector.New(garbagecollector.Config{Client: cs})
	if err != nil {
		fmt.Println(err)
		return
	}
	go cs.Informers().Run(ctx)
	go gc.Run(ctx)

	// An owner and a dependent that names it.
	owner, _ := cs.Endpoints().Create(ctx, endpoints("owner"))
	dep, err := cs.Endpoints().Create(ctx, endpoints("dependent", ref("Endpoints", "v1", "owner", owner.UID)))
	if err != nil {
		fmt.Println(err)
		return
	}
	rev, _ := store.ParseRevision(dep.ResourceVersion)
	w, err := cs.Endpoints().Watch(ctx, "default", store.WatchOptions{AfterRevision: rev})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Stop()

	// Deleting the owner: the collector deletes the dependent.
	if _, err := cs.Endpoints().Delete(ctx, "default", "owner"); err != nil {
		fmt.Println(err)
		return
	}
	for ev := range w.Events() {
		if ev.Type == watch.Deleted {
			fmt.Println("deleted:", ev.Object.Name)
			if ev.Object.Name == "dependent" {
				break
			}
		}
	}
	_, err = cs.Endpoints().Get(ctx, "default", "dependent")
	fmt.Println("dependent gone:", errors.Is(err, store.ErrNotFound))
	// Output:
	// deleted: owner
	// deleted: dependent
	// dependent gone: true
}
