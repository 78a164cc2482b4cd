package scheduler_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/scheduler"
	"github.com/setpoint-dev/setpoint/store"
)

func Example() {
	dir, _ := os.MkdirTemp("", "scheduler-example-")
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
	s, err := scheduler.New(scheduler.Config{Client: cs})
	if err != nil {
		fmt.Println(err)
		return
	}
	go s.Run(ctx)

	// A node (as a kubelet would register it) and a pod that fits it.
	node := &api.Node{ObjectMeta: store.ObjectMeta{Name: "worker-1"}}
	node.Status.Allocatable = api.ResourceList{"cpu": api.MustParse("2"), "memory": api.MustParse("4Gi"), "pods": api.MustParse("110")}
	if _, err := cs.Nodes().Create(ctx, node); err != nil {
		fmt.Println(err)
		return
	}
	pod := &api.Pod{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: "web"}}
	pod.Spec.Containers = []api.Container{{Name: "c", Image: "nginx",
		Resources: api.ResourceRequirements{Requests: api.ResourceList{"cpu": api.MustParse("500m")}}}}
	if _, err := cs.Pods().Create(ctx, pod); err != nil {
		fmt.Println(err)
		return
	}
	for {
		p, err := cs.Pods().Get(ctx, "default", "web")
		if err != nil {
			fmt.Println(err)
			return
		}
		if p.Spec.NodeName != "" {
			fmt.Println("web bound to", p.Spec.NodeName)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Output: web bound to worker-1
}
