package replicaset_test

import (
	"context"
	"fmt"
	"os"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/replicaset"
	"github.com/setpoint-dev/setpoint/store"
)

func Example() {
	dir, _ := os.MkdirTemp("", "replicaset-example-")
	defer os.RemoveAll(dir)
	srv, err := apiserver.New(apiserver.Config{DataDir: dir, Listen: "127.0.0.1:0", EtcdNoFsync: true, EtcdLogLevel: "off"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { stop(); <-done }()
	<-srv.Ready()
	kubeconfig, _ := srv.Kubeconfig()
	cs, err := client.New(client.Config{Kubeconfig: kubeconfig, QPS: -1})
	if err != nil {
		fmt.Println(err)
		return
	}

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
