package daemonset_test

import (
	"context"
	"fmt"

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
	ctx, stop := context.WithCancel(context.Background())
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

	if _, err := cs.DaemonSets().Create(ctx, newDS("agent")); err != nil { // nodeSelector role=worker
		fmt.Println(err)
		return
	}
	w, err := cs.Pods().Watch(ctx, "default", store.WatchOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Stop()
	ev := <-w.Events()
	terms := ev.Object.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	fmt.Println("pod for node:", terms[0].MatchFields[0].Key, terms[0].MatchFields[0].Values)
	// Output:
	// pod for node: metadata.name [a]
}
