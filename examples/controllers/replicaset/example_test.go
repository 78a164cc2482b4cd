package replicaset_test

import (
	"context"
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/replicaset"
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

	// The controller reads through the shared informers: run both.
	ctl, err := replicaset.New(replicaset.Config{Client: cs})
	if err != nil {
		fmt.Println(err)
		return
	}
	go cs.Informers().Run(ctx)
	go ctl.Run(ctx)

	replicas := int32(2)
	rs := &apps.ReplicaSet{}
	rs.Namespace, rs.Name = "default", "web"
	rs.Spec.Replicas = &replicas
	rs.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	rs.Spec.Template.Labels = map[string]string{"app": "web"}
	rs.Spec.Template.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
	created, err := cs.ReplicaSets().Create(ctx, rs)
	if err != nil {
		fmt.Println(err)
		return
	}
	rev, _ := store.ParseRevision(created.ResourceVersion)
	w, err := cs.ReplicaSets().Watch(ctx, "default", store.WatchOptions{AfterRevision: rev})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Stop()
	for ev := range w.Events() {
		if ev.Object.Status.Replicas == 2 {
			fmt.Println("status.replicas:", ev.Object.Status.Replicas)
			break
		}
	}
	pods, _ := cs.Pods().List(ctx, "default", store.ListOptions{})
	fmt.Println("pods:", len(pods.Items), "controlled by", pods.Items[0].ControllerOf().Kind)
	// Output:
	// status.replicas: 2
	// pods: 2 controlled by ReplicaSet
}
