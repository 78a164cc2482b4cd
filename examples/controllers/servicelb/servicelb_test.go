package servicelb_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/servicelb"
)

func lb(name string) *api.Service {
	s := &api.Service{}
	s.Namespace, s.Name = "default", name
	s.Spec.Type = api.ServiceTypeLoadBalancer
	s.Spec.Ports = []api.ServicePort{{Port: 80}}
	return s
}

func ingress(t *testing.T, cs *client.Clientset, name, want string) {
	t.Helper()
	controllertest.Eventually(t, name+" ingress "+want, func() error {
		s, err := cs.Services().Get(context.Background(), "default", name)
		if err != nil {
			return err
		}
		got := ""
		if len(s.Status.LoadBalancer.Ingress) > 0 {
			got = s.Status.LoadBalancer.Ingress[0].IP
		}
		if got != want {
			return fmt.Errorf("ingress %q", got)
		}
		return nil
	})
}

// TestAssign: addresses come from the pool in order, one per Service; a
// Service that stops being a LoadBalancer gives its address back; when the
// pool is empty a Service waits.
func TestAssign(t *testing.T) {
	ctx := context.Background()
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	c, err := servicelb.New(servicelb.Config{Client: cs, Pool: []netip.Prefix{netip.MustParsePrefix("192.0.2.10/31")}})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "servicelb", c.Run)
	for _, n := range []string{"a", "b", "c"} {
		if _, err := cs.Services().Create(ctx, lb(n)); err != nil {
			t.Fatal(err)
		}
		if n == "a" {
			ingress(t, cs, "a", "192.0.2.10")
		}
	}
	ingress(t, cs, "b", "192.0.2.11")
	ingress(t, cs, "c", "") // pool exhausted
	a, err := cs.Services().Get(ctx, "default", "a")
	if err != nil {
		t.Fatal(err)
	}
	a.Spec.Type, a.Spec.AllocateLoadBalancerNodePorts = api.ServiceTypeNodePort, nil
	if _, err := cs.Services().Update(ctx, a); err != nil {
		t.Fatal(err)
	}
	ingress(t, cs, "a", "")
	ingress(t, cs, "c", "192.0.2.10")
}

func TestValidate(t *testing.T) {
	for _, c := range []servicelb.Config{{}, {Client: &client.Clientset{}}, {Client: &client.Clientset{}, Pool: []netip.Prefix{netip.MustParsePrefix("2001:db8::/64")}}} {
		if _, err := servicelb.New(c); err == nil {
			t.Errorf("New(%+v): no error", c)
		}
	}
}
