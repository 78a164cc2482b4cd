package resourcequota_test

import (
	"context"
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/resourcequota"
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

	c, err := resourcequota.New(resourcequota.Config{Client: cs})
	if err != nil {
		fmt.Println(err)
		return
	}
	go cs.Informers().Run(ctx)
	go c.Run(ctx)

	if _, err := cs.Pods().Create(ctx, pod("a", "250m")); err != nil {
		fmt.Println(err)
		return
	}
	q := &api.ResourceQuota{}
	q.Namespace, q.Name = "default", "compute"
	q.Spec.Hard = api.ResourceList{"pods": api.MustParse("10"), "requests.cpu": api.MustParse("4")}
	created, err := cs.ResourceQuotas().Create(ctx, q)
	if err != nil {
		fmt.Println(err)
		return
	}
	rev, _ := store.ParseRevision(created.ResourceVersion)
	w, err := cs.ResourceQuotas().Watch(ctx, "default", store.WatchOptions{AfterRevision: rev})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Stop()
	// The controller may first publish what its caches held before they
	// saw pod "a"; it converges to the namespace's real usage.
	for ev := range w.Events() {
		u := ev.Object.Status.Used
		if cpu, pods := u["requests.cpu"], u["pods"]; pods.Value() == 1 {
			fmt.Printf("used: pods=%s requests.cpu=%s\n", pods.String(), cpu.String())
			break
		}
	}
	// Output:
	// used: pods=1 requests.cpu=250m
}
