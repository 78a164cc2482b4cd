package namespace_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/namespace"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

func Example() {
	dir, _ := os.MkdirTemp("", "namespace-example-")
	defer os.RemoveAll(dir)
	srv, err := apiserver.New(apiserver.Config{DataDir: dir, Listen: "127.0.0.1:0", EtcdNoFsync: true, EtcdLogLevel: "off"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithTimeout(context.Background(), time.Minute)
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

	// The controller, as a controller manager runs it.
	ctl, err := namespace.New(namespace.Config{Client: cs, RecheckInterval: 100 * time.Millisecond})
	if err != nil {
		fmt.Println(err)
		return
	}
	go ctl.Run(ctx)

	ns := &api.Namespace{}
	ns.Name = "demo"
	if _, err := cs.Namespaces().Create(ctx, ns); err != nil {
		fmt.Println(err)
		return
	}
	pod := &api.Pod{}
	pod.Namespace, pod.Name = "demo", "web"
	pod.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
	if _, err := cs.Pods().Create(ctx, pod); err != nil {
		fmt.Println(err)
		return
	}

	// Deleting the namespace marks it; the controller empties it, and then
	// it goes.
	marked, err := cs.Namespaces().Delete(ctx, "", "demo")
	fmt.Println(marked.Name, marked.Status.Phase, err)
	rev, _ := store.ParseRevision(marked.ResourceVersion)
	w, err := cs.Namespaces().Watch(ctx, "", store.WatchOptions{AfterRevision: rev})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Stop()
	for ev := range w.Events() {
		if ev.Type == watch.Deleted && ev.Object.Name == "demo" {
			fmt.Println("namespace demo deleted")
			break
		}
	}
	_, err = cs.Pods().Get(ctx, "demo", "web")
	fmt.Println("its pod is gone:", errors.Is(err, store.ErrNotFound))
	// Output:
	// demo Terminating <nil>
	// namespace demo deleted
	// its pod is gone: true
}
