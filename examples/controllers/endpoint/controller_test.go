package endpoint_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/endpoint"
	"github.com/setpoint-dev/setpoint/store"
)

func newPod(name, ip string, ready bool) *api.Pod {
	p := &api.Pod{}
	p.Namespace, p.Name = "default", name
	p.Labels = map[string]string{"app": "web"}
	p.Spec.NodeName = "n1"
	p.Spec.Containers = []api.Container{{Name: "c", Image: "nginx", Ports: []api.ContainerPort{{Name: "http", ContainerPort: 8080}}}}
	p.Status.Phase, p.Status.PodIP = api.PodRunning, ip
	st := api.ConditionFalse
	if ready {
		st = api.ConditionTrue
	}
	p.Status.Conditions = []api.PodCondition{{Type: api.PodReady, Status: st}}
	return p
}

func create(t *testing.T, cs *client.Clientset, p *api.Pod) {
	t.Helper()
	ctx := context.Background()
	st := p.Status
	out, err := cs.Pods().Create(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	out.Status = st
	if _, err := cs.Pods().UpdateStatus(ctx, out); err != nil {
		t.Fatal(err)
	}
}

// summary renders subsets as "ready=[...] notready=[...] ports=[...]".
func summary(ss []api.EndpointSubset) string {
	s := ""
	for _, x := range ss {
		var r, n, p []string
		for _, a := range x.Addresses {
			r = append(r, a.IP)
		}
		for _, a := range x.NotReadyAddresses {
			n = append(n, a.IP)
		}
		for _, q := range x.Ports {
			p = append(p, fmt.Sprintf("%s:%d", q.Name, q.Port))
		}
		s += fmt.Sprintf("ready=%v notready=%v ports=%v;", r, n, p)
	}
	return s
}

// TestEndpoints: the Endpoints object follows readiness, resolves the
// named port, and goes with its service.
func TestEndpoints(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	c, err := endpoint.New(endpoint.Config{Client: cs})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "endpoint", c.Run)
	ctx := context.Background()
	svc := &api.Service{}
	svc.Namespace, svc.Name = "default", "web"
	svc.Spec.Selector = map[string]string{"app": "web"}
	svc.Spec.Ports = []api.ServicePort{{Name: "web", Port: 80, TargetPort: api.FromString("http")}}
	if _, err := cs.Services().Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	create(t, cs, newPod("a", "10.0.0.1", true))
	create(t, cs, newPod("b", "10.0.0.2", false))
	expect := func(want string) {
		t.Helper()
		controllertest.Eventually(t, "endpoints "+want, func() error {
			e, err := cs.Endpoints().Get(ctx, "default", "web")
			if err != nil {
				return err
			}
			if got := summary(e.Subsets); got != want {
				return fmt.Errorf("got %s", got)
			}
			return nil
		})
	}
	expect("ready=[10.0.0.1] notready=[10.0.0.2] ports=[web:8080];")
	// A terminating pod leaves (no publishNotReadyAddresses).
	if _, err := cs.Pods().Delete(ctx, "default", "a"); err != nil {
		t.Fatal(err)
	}
	expect("ready=[] notready=[10.0.0.2] ports=[web:8080];")
	if _, err := cs.Services().Delete(ctx, "default", "web"); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "endpoints deleted", func() error {
		if _, err := cs.Endpoints().Get(ctx, "default", "web"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("endpoints still there (err %v)", err)
		}
		return nil
	})
}

// TestSubsetsTruncate: over 1000 addresses are truncated, ready first.
func TestSubsetsTruncate(t *testing.T) {
	svc := &api.Service{}
	svc.Name = "web"
	svc.Spec.Ports = []api.ServicePort{{Name: "web", Port: 80, TargetPort: api.FromInt(8080)}}
	var pods []*api.Pod
	for i := range 1005 {
		pods = append(pods, newPod(fmt.Sprint("p", i), fmt.Sprintf("10.0.%d.%d", i/250, i%250), i >= 5))
	}
	ss, truncated := endpoint.Subsets(svc, pods)
	if !truncated || len(ss) != 1 || len(ss[0].Addresses) != 1000 || len(ss[0].NotReadyAddresses) != 0 {
		t.Fatalf("truncated=%v subsets=%d ready=%d", truncated, len(ss), len(ss[0].Addresses))
	}
	// publishNotReadyAddresses lists terminating and not-ready pods as ready.
	svc.Spec.PublishNotReadyAddresses = true
	p := newPod("x", "10.9.0.1", false)
	now := store.Now()
	p.DeletionTimestamp = &now
	ss, _ = endpoint.Subsets(svc, []*api.Pod{p})
	if got := summary(ss); got != "ready=[10.9.0.1] notready=[] ports=[web:8080];" {
		t.Errorf("publishNotReadyAddresses: %s", got)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []endpoint.Config{{}, {Client: &client.Clientset{}, Workers: -1}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}
