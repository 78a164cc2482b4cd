package kubelet_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/kubelet"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
	"github.com/setpoint-dev/setpoint/store"
)

// A simulated node: the kubelet on the fake runtime runs a pod bound to
// it and reports it Running.
func Example() {
	dir, _ := os.MkdirTemp("", "kubelet-example-")
	defer os.RemoveAll(dir)
	srv, err := apiserver.New(apiserver.Config{DataDir: dir, Listen: "127.0.0.1:0", EtcdNoFsync: true, EtcdLogLevel: "off"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithTimeout(context.Background(), 3*time.Minute)
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

	// The node's runtime holds the test image.
	rt := fake.New(fake.WithProgram(runtimetest.TestBinary, runtimetest.FakeTestBinary))
	archive, err := runtimetest.TestImageArchive()
	if err != nil {
		fmt.Println(err)
		return
	}
	rt.ImportImage(ctx, bytes.NewReader(archive))
	// RootDir holds the pods' volumes and files.
	root, _ := os.MkdirTemp("", "kubelet-example")
	defer os.RemoveAll(root)
	k, err := kubelet.New(kubelet.Config{Client: cs, NodeName: "node-1", Runtime: rt, NodeIP: "10.0.0.1", RootDir: root})
	if err != nil {
		fmt.Println(err)
		return
	}
	go k.Run(ctx)

	pod := &api.Pod{}
	pod.Namespace, pod.Name = "default", "hello"
	pod.Spec.NodeName = "node-1" // bound, as a scheduler would
	pod.Spec.Containers = []api.Container{{Name: "main", Image: runtimetest.TestImageName, Args: []string{"print", "hello", "wait"}}}
	created, err := cs.Pods().Create(ctx, pod)
	if err != nil {
		fmt.Println(err)
		return
	}
	rev, _ := store.ParseRevision(created.ResourceVersion)
	w, err := cs.Pods().Watch(ctx, "default", store.WatchOptions{AfterRevision: rev})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Stop()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev := <-w.Events():
			p := ev.Object
			if p.Status.Phase == api.PodRunning {
				fmt.Println(p.Name, p.Status.Phase, p.Status.HostIP, p.Status.ContainerStatuses[0].Ready)
				return
			}
		case <-timeout:
			fmt.Println("timed out")
			return
		}
	}
	// Output:
	// hello Running 10.0.0.1 true
}
