package controllermanager_test

import (
	"context"
	"fmt"
	"os"

	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllermanager"
	"github.com/setpoint-dev/setpoint/store"
)

func Example() {
	dir, _ := os.MkdirTemp("", "controllermanager-example-")
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

	m, err := controllermanager.New(controllermanager.Config{Client: cs, Identity: "cm-1", Controllers: []string{"*", "-namespace"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("controllers:", m.Controllers())
	w, err := cs.Leases().Watch(ctx, "kube-system", store.WatchOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Stop()
	mctx, mstop := context.WithCancel(ctx)
	mdone := make(chan error, 1)
	go func() { mdone <- m.Run(mctx) }()

	// The manager takes the Lease; its controllers run while it holds it.
	for ev := range w.Events() {
		if h := ev.Object.Spec.HolderIdentity; ev.Object.Name == "kube-controller-manager" && h != nil && *h != "" {
			fmt.Println("lease held by", *h)
			break
		}
	}
	mstop()
	fmt.Println("Run:", <-mdone)
	// Output:
	// controllers: [deployment replicaset]
	// lease held by cm-1
	// Run: <nil>
}
