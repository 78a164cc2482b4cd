package endpointslice_test

import (
	"context"
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/endpointslice"
	"github.com/setpoint-dev/setpoint/store"
)

// A service selecting a Ready pod gets a slice listing the pod's address.
func Example() {
	cluster, err := controllertest.StartCluster()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Stop()
	cs := cluster.Client
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	c, err := endpointslice.New(endpointslice.Config{Client: cs})
	if err != nil {
		fmt.Println(err)
		return
	}
	go cs.Informers().Run(ctx)
	go c.Run(ctx)

	svc := &api.Service{}
	svc.Namespace, svc.Name = "default", "web"
	svc.Spec.Selector = map[string]string{"app": "web"}
	svc.Spec.Ports = []api.ServicePort{{Port: 80, TargetPort: api.FromInt(8080)}}
	p := &api.Pod{}
	p.Namespace, p.Name, p.Labels = "default", "web-1", map[string]string{"app": "web"}
	p.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
	if _, err := cs.Services().Create(ctx, svc); err != nil {
		fmt.Println(err)
		return
	}
	if p, err = cs.Pods().Create(ctx, p); err != nil {
		fmt.Println(err)
		return
	}
	p.Status.Phase, p.Status.PodIP = api.PodRunning, "10.0.0.7"
	p.Status.Conditions = []api.PodCondition{{Type: api.PodReady, Status: api.ConditionTrue}}
	if _, err := cs.Pods().UpdateStatus(ctx, p); err != nil {
		fmt.Println(err)
		return
	}
	sel, _ := store.ParseSelector(discovery.LabelServiceName + "=web")
	for range 500 {
		l, err := cs.EndpointSlices().List(ctx, "default", store.ListOptions{Selector: sel})
		if err == nil && len(l.Items) == 1 && len(l.Items[0].Endpoints) == 1 {
			s := l.Items[0]
			fmt.Println(s.Endpoints[0].Addresses[0], *s.Endpoints[0].Conditions.Ready, *s.Ports[0].Port)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Output:
	// 10.0.0.7 true 8080
}
