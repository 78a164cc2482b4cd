package client_test

import (
	"context"
	"fmt"
	"os"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
)

func Example() {
	// An apiserver to talk to, and its admin kubeconfig.
	dir, _ := os.MkdirTemp("", "client-example-")
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

	// What every component does: kubeconfig -> typed clients.
	cs, err := client.New(client.Config{Kubeconfig: kubeconfig, QPS: 20, Burst: 40})
	if err != nil {
		fmt.Println(err)
		return
	}
	pod := &api.Pod{}
	pod.Namespace, pod.Name = cs.Namespace(), "web"
	pod.Spec.Containers = []api.Container{{Name: "nginx", Image: "nginx:1.27"}}
	created, err := cs.Pods().Create(ctx, pod)
	fmt.Println(created.Name, created.Status.Phase, err)

	// ... and shared informers over them.
	pods, release, _ := informer.Shared(cs.Informers(), cs.Pods(), informer.Config[*api.Pod]{})
	defer release()
	go cs.Informers().Run(ctx) // stopped by stop() above
	rev, _ := store.ParseRevision(created.ResourceVersion)
	_ = pods.WaitForRevision(ctx, rev)
	cached, ok := pods.Get("default", "web")
	fmt.Println(cached.Name, ok)
	// Output:
	// web Pending <nil>
	// web true
}
