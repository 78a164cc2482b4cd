package apiserver_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

func Example() {
	dir, _ := os.MkdirTemp("", "apiserver-example-")
	defer os.RemoveAll(dir)
	s, err := apiserver.New(apiserver.Config{DataDir: dir, Listen: "127.0.0.1:0", EtcdNoFsync: true, EtcdLogLevel: "off"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		stop()
		fmt.Println("stopped:", <-done)
	}()
	select {
	case <-s.Ready():
	case err := <-done:
		fmt.Println(err)
		return
	}

	// A typed client with the admin's client certificate.
	tc, _ := s.ClientTLS(s.PKI().AdminCert, s.PKI().AdminKey)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
	pods, _ := rest.NewClient[*api.Pod](hc, s.URL(), api.PodResource)
	p := &api.Pod{}
	p.Namespace, p.Name = "default", "web"
	p.Spec.Containers = []api.Container{{Name: "nginx", Image: "nginx:1.27"}}
	created, err := pods.Create(ctx, p)
	fmt.Println(created.Name, created.Status.Phase, created.Spec.RestartPolicy, err)

	// Admission: nothing is created in a namespace that does not exist.
	p.Namespace = "nowhere"
	_, err = pods.Create(ctx, p)
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output:
	// web Pending Always <nil>
	// true
	// stopped: <nil>
}
