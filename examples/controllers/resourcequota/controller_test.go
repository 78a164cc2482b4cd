package resourcequota_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/resourcequota"
)

func pod(name, cpu string) *api.Pod {
	p := &api.Pod{}
	p.Namespace, p.Name = "default", name
	p.Spec.Containers = []api.Container{{Name: "c", Image: "nginx",
		Resources: api.ResourceRequirements{Requests: api.ResourceList{"cpu": api.MustParse(cpu)}, Limits: api.ResourceList{"cpu": api.MustParse(cpu)}}}}
	return p
}

// used waits until the quota's status says want (and hard = spec.hard).
func used(t *testing.T, cs *client.Clientset, want map[api.ResourceName]string) {
	t.Helper()
	controllertest.Eventually(t, fmt.Sprintf("used %v", want), func() error {
		q, err := cs.ResourceQuotas().Get(context.Background(), "default", "compute")
		if err != nil {
			return err
		}
		if len(q.Status.Used) != len(want) || len(q.Status.Hard) != len(q.Spec.Hard) {
			return fmt.Errorf("status %+v", q.Status)
		}
		for n, v := range want {
			if q.Status.Used[n].Cmp(api.MustParse(v)) != 0 || q.Status.Hard[n].Cmp(q.Spec.Hard[n]) != 0 {
				return fmt.Errorf("status %+v", q.Status)
			}
		}
		return nil
	})
}

// TestUsed: used follows pods and services as they come and go, for
// exactly the resources the quota names.
func TestUsed(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	c, err := resourcequota.New(resourcequota.Config{Client: cs})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "resourcequota controller", c.Run)
	ctx := context.Background()
	q := &api.ResourceQuota{}
	q.Namespace, q.Name = "default", "compute"
	q.Spec.Hard = api.ResourceList{"pods": api.MustParse("5"), "requests.cpu": api.MustParse("2"), "services": api.MustParse("3")}
	if _, err := cs.ResourceQuotas().Create(ctx, q); err != nil {
		t.Fatal(err)
	}
	// the apiserver's kubernetes Service in default counts, as in Kubernetes
	used(t, cs, map[api.ResourceName]string{"pods": "0", "requests.cpu": "0", "services": "1"})
	for _, p := range []*api.Pod{pod("a", "500m"), pod("b", "500m")} {
		if _, err := cs.Pods().Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	svc := &api.Service{}
	svc.Namespace, svc.Name = "default", "web"
	svc.Spec.Ports = []api.ServicePort{{Port: 80}}
	if _, err := cs.Services().Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	used(t, cs, map[api.ResourceName]string{"pods": "2", "requests.cpu": "1", "services": "2"})
	if _, err := cs.Pods().Delete(ctx, "default", "a"); err != nil {
		t.Fatal(err)
	}
	used(t, cs, map[api.ResourceName]string{"pods": "1", "requests.cpu": "500m", "services": "2"})
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []resourcequota.Config{{}, {Client: &client.Clientset{}, Workers: -1}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
		if _, err := resourcequota.New(c); err == nil {
			t.Errorf("New(%+v): no error", c)
		}
	}
}
