package statefulset_test

import (
	"context"
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/statefulset"
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
	ctl, err := statefulset.New(statefulset.Config{Client: cs})
	if err != nil {
		fmt.Println(err)
		return
	}
	go cs.Informers().Run(ctx)
	go ctl.Run(ctx)

	// Parallel: no kubelet makes the pods Ready here.
	set := newSet("db", 2)
	set.Spec.PodManagementPolicy = "Parallel"
	created, err := cs.StatefulSets().Create(ctx, set)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Watch from the set's creation on, so pods made before the watch
	// starts are still seen.
	rev, _ := store.ParseRevision(created.ResourceVersion)
	w, err := cs.Pods().Watch(ctx, "default", store.WatchOptions{AfterRevision: rev})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Stop()
	names := map[string]string{}
	for ev := range w.Events() {
		names[ev.Object.Name] = ev.Object.Spec.Hostname + "." + ev.Object.Spec.Subdomain
		if len(names) == 2 {
			break
		}
	}
	fmt.Println(names["db-0"], names["db-1"])
	// Output:
	// db-0.db-svc db-1.db-svc
}
