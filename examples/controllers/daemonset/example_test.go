package daemonset_test

import (
	"context"
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/daemonset"
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
	for _, n := range []*api.Node{node("a", map[string]string{"role": "worker"}), node("b", nil)} {
		if _, err := cs.Nodes().Create(ctx, n); err != nil {
			fmt.Println(err)
			return
		}
	}
	ctl, err := daemonset.New(daemonset.Config{Client: cs})
	if err != nil {
		fmt.Println(err)
		return
	}
	go cs.Informers().Run(ctx)
	go ctl.Run(ctx)

	created, err := cs.DaemonSets().Create(ctx, newDS("agent")) // nodeSelector role=worker
	if err != nil {
		fmt.Println(err)
		return
	}
	// Watch from the set's creation on, so a pod made before the watch
	// starts is still seen.
	rev, _ := store.ParseRevision(created.ResourceVersion)
	w, err := cs.Pods().Watch(ctx, "default", store.WatchOptions{AfterRevision: rev})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Stop()
	ev, ok := <-w.Events()
	if !ok {
		fmt.Println("watch ended:", w.Err())
		return
	}
	terms := ev.Object.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	fmt.Println("pod for node:", terms[0].MatchFields[0].Key, terms[0].MatchFields[0].Values)
	// Output:
	// pod for node: metadata.name [a]
}
