package deployment_test

import (
	"context"
	"fmt"
	"os"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/deployment"
	"github.com/setpoint-dev/setpoint/examples/controllers/replicaset"
	"github.com/setpoint-dev/setpoint/store"
)

func Example() {
	dir, _ := os.MkdirTemp("", "deployment-example-")
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

	// The deployment controller makes replica sets; the replica set
	// controller makes their pods.
	dc, err := deployment.New(deployment.Config{Client: cs})
	if err != nil {
		fmt.Println(err)
		return
	}
	rsc, err := replicaset.New(replicaset.Config{Client: cs})
	if err != nil {
		fmt.Println(err)
		return
	}
	go cs.Informers().Run(ctx)
	go dc.Run(ctx)
	go rsc.Run(ctx)

	replicas := int32(2)
	d := &apps.Deployment{}
	d.Namespace, d.Name = "default", "web"
	d.Spec.Replicas = &replicas
	d.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	d.Spec.Template.Labels = map[string]string{"app": "web"}
	d.Spec.Template.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
	created, err := cs.Deployments().Create(ctx, d)
	if err != nil {
		fmt.Println(err)
		return
	}
	rev, _ := store.ParseRevision(created.ResourceVersion)
	w, err := cs.Deployments().Watch(ctx, "default", store.WatchOptions{AfterRevision: rev})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Stop()
	for ev := range w.Events() {
		if ev.Object.Status.UpdatedReplicas == 2 {
			fmt.Println("updatedReplicas:", ev.Object.Status.UpdatedReplicas, "revision:", ev.Object.Annotations[deployment.RevisionAnnotation])
			break
		}
	}
	rss, _ := cs.ReplicaSets().List(ctx, "default", store.ListOptions{})
	rs := rss.Items[0]
	fmt.Println("replica set named by its template hash:", rs.Name == "web-"+rs.Labels[deployment.PodTemplateHashLabel])
	// Output:
	// updatedReplicas: 2 revision: 1
	// replica set named by its template hash: true
}
