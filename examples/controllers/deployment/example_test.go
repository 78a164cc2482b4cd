package deployment_test

import (
	"context"
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/deployment"
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
