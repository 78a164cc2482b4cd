package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

func serviceClient(t *testing.T, s *testServer) *rest.Client[*api.Service] {
	t.Helper()
	c, err := rest.NewClient[*api.Service](s.httpClient(t, true), s.URL(), registry.ServiceKind.Resource())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newService(name string, mutate ...func(*api.Service)) *api.Service {
	s := registry.ServiceKind.New()
	s.Namespace, s.Name = "default", name
	s.Spec.Ports = []api.ServicePort{{Name: "http", Port: 80}}
	for _, m := range mutate {
		m(s)
	}
	return s
}

func nodePortType(s *api.Service) { s.Spec.Type = api.ServiceTypeNodePort }

// want422 checks err is a 422 naming field and saying detail.
func want422(t *testing.T, err error, field, detail string) {
	t.Helper()
	var se *rest.ClientError
	if !errors.As(err, &se) || se.Status.Code != http.StatusUnprocessableEntity || !strings.Contains(se.Error(), field) || !strings.Contains(se.Error(), detail) {
		t.Fatalf("want 422 on %s (%q), got %v", field, detail, err)
	}
}

func TestServiceAllocation(t *testing.T) {
	ctx := context.Background()
	s := startServer(t)
	svcs := serviceClient(t, s)
	cidr := DefaultServiceCIDR

	t.Run("kubernetes service", func(t *testing.T) {
		k, err := svcs.Get(ctx, "default", "kubernetes")
		if err != nil || k.Spec.ClusterIP != "10.96.0.1" || k.Spec.Ports[0].Port != 443 {
			t.Fatalf("kubernetes service: %+v, %v", k, err)
		}
		sl, err := rest.NewClient[*discovery.EndpointSlice](s.httpClient(t, true), s.URL(), registry.EndpointSliceKind.Resource())
		if err != nil {
			t.Fatal(err)
		}
		es, err := sl.Get(ctx, "default", "kubernetes")
		if err != nil || len(es.Endpoints) != 1 || es.Endpoints[0].Addresses[0] != "127.0.0.1" {
			t.Fatalf("kubernetes endpointslice: %+v, %v", es, err)
		}
	})
	var a *api.Service
	t.Run("assigned addresses", func(t *testing.T) {
		var err error
		a, err = svcs.Create(ctx, newService("a", nodePortType))
		if err != nil {
			t.Fatal(err)
		}
		ip, err := netip.ParseAddr(a.Spec.ClusterIP)
		if err != nil || !cidr.Contains(ip) || ip == netip.MustParseAddr("10.96.0.1") || a.Spec.ClusterIPs[0] != a.Spec.ClusterIP {
			t.Errorf("clusterIP %q (%v) not a free address of %s", a.Spec.ClusterIP, a.Spec.ClusterIPs, cidr)
		}
		if np := a.Spec.Ports[0].NodePort; np < 30000 || np > 32767 {
			t.Errorf("nodePort %d not in 30000-32767", np)
		}
		h, err := svcs.Create(ctx, newService("headless", func(s *api.Service) { s.Spec.ClusterIP = api.ClusterIPNone }))
		if err != nil || h.Spec.ClusterIP != api.ClusterIPNone || h.Spec.Ports[0].NodePort != 0 {
			t.Errorf("headless service: %+v, %v", h.Spec, err)
		}
		// an update that leaves them out keeps the addresses
		up := a.DeepCopy()
		up.Spec.Selector = map[string]string{"app": "a"}
		up.Spec.ClusterIP, up.Spec.ClusterIPs, up.Spec.Ports[0].NodePort = "", nil, 0
		b, err := svcs.Update(ctx, up)
		if err != nil || b.Spec.ClusterIP != a.Spec.ClusterIP || b.Spec.Ports[0].NodePort != a.Spec.Ports[0].NodePort {
			t.Fatalf("update: %+v, %v (had %s, %d)", b, err, a.Spec.ClusterIP, a.Spec.Ports[0].NodePort)
		}
	})
	t.Run("bad requests are 422 and write nothing", func(t *testing.T) {
		for _, c := range []struct {
			name          string
			mutate        func(*api.Service)
			field, detail string
		}{
			{"taken-ip", func(s *api.Service) { s.Spec.ClusterIP = a.Spec.ClusterIP }, "spec.clusterIPs[0]", "provided IP is already allocated"},
			{"kubernetes-ip", func(s *api.Service) { s.Spec.ClusterIP = "10.96.0.1" }, "spec.clusterIPs[0]", "provided IP is already allocated"},
			{"out-of-range-ip", func(s *api.Service) { s.Spec.ClusterIP = "10.0.0.5" }, "spec.clusterIPs[0]", "not in the valid range"},
			{"taken-nodeport", func(s *api.Service) { nodePortType(s); s.Spec.Ports[0].NodePort = a.Spec.Ports[0].NodePort },
				"spec.ports[0].nodePort", "provided port is already allocated"},
			{"out-of-range-nodeport", func(s *api.Service) { nodePortType(s); s.Spec.Ports[0].NodePort = 8080 },
				"spec.ports[0].nodePort", "The range of valid ports is 30000-32767"},
			{"duplicate-nodeport", func(s *api.Service) {
				nodePortType(s)
				s.Spec.Ports = []api.ServicePort{{Name: "a", Port: 80, NodePort: 30100}, {Name: "b", Port: 81, NodePort: 30100}}
			}, "spec.ports[1].nodePort", "Duplicate value"},
			{"duplicate-port", func(s *api.Service) {
				s.Spec.Ports = []api.ServicePort{{Name: "a", Port: 80}, {Name: "b", Port: 80}}
			}, "spec.ports[1]", "Duplicate value"},
			{"invalid-externalip", func(s *api.Service) { s.Spec.ExternalIPs = []string{"1.2.3"} }, "spec.externalIPs[0]", "1.2.3"},
			{"ipv6-not-configured", func(s *api.Service) { s.Spec.IPFamilies = []api.IPFamily{api.IPv6Protocol} }, "spec.ipFamilies[0]", "not configured"},
		} {
			before := s.revision(t)
			_, err := svcs.Create(ctx, newService(c.name, c.mutate))
			want422(t, err, c.field, c.detail)
			if _, err := svcs.Get(ctx, "default", c.name); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: stored after a 422: %v", c.name, err)
			}
			if after := s.revision(t); after != before {
				t.Errorf("%s: the store moved from revision %d to %d", c.name, before, after)
			}
		}
	})
	t.Run("delete releases", func(t *testing.T) {
		if _, err := svcs.Delete(ctx, "default", "a"); err != nil {
			t.Fatal(err)
		}
		b, err := svcs.Create(ctx, newService("b", nodePortType, func(s *api.Service) {
			s.Spec.ClusterIP, s.Spec.Ports[0].NodePort = a.Spec.ClusterIP, a.Spec.Ports[0].NodePort
		}))
		if err != nil || b.Spec.ClusterIP != a.Spec.ClusterIP {
			t.Fatalf("reusing a deleted service's addresses: %v", err)
		}
		// a type change back to ClusterIP gives the node port back
		b.Spec.Type, b.Spec.Ports[0].NodePort, b.Spec.ExternalTrafficPolicy = api.ServiceTypeClusterIP, 0, ""
		if _, err := svcs.Update(ctx, b); err != nil {
			t.Fatal(err)
		}
		if _, err := svcs.Create(ctx, newService("c", nodePortType, func(s *api.Service) { s.Spec.Ports[0].NodePort = a.Spec.Ports[0].NodePort })); err != nil {
			t.Fatalf("node port not released by the type change: %v", err)
		}
	})
}

// TestServiceAllocationConcurrent creates services at once in a range
// with room for only some: every address goes to one service, a refused
// create is a 409 (retried) or, once the range is full, an error, never a
// shared address.
func TestServiceAllocationConcurrent(t *testing.T) {
	ctx := context.Background()
	s := startServer(t, func(c *Config) { c.ServiceCIDRs = []netip.Prefix{netip.MustParsePrefix("10.97.0.0/28")} })
	svcs := serviceClient(t, s)
	const n = 20 // 13 free addresses: 16 minus network, kubernetes, broadcast
	var wg sync.WaitGroup
	var mu sync.Mutex
	created, full := 0, 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, err := svcs.Create(ctx, newService(fmt.Sprintf("s%d", i)))
				var se *rest.ClientError
				switch {
				case err == nil:
					mu.Lock()
					created++
					mu.Unlock()
					return
				case errors.As(err, &se) && se.Status.Code == http.StatusConflict:
					continue
				case strings.Contains(fmt.Sprint(err), "no free address"):
					mu.Lock()
					full++
					mu.Unlock()
					return
				default:
					t.Errorf("create s%d: %v", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	list, err := svcs.List(ctx, "default", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, svc := range list.Items {
		if prev, dup := seen[svc.Spec.ClusterIP]; dup {
			t.Errorf("%s and %s share %s", prev, svc.Name, svc.Spec.ClusterIP)
		}
		seen[svc.Spec.ClusterIP] = svc.Name
	}
	if created != 13 || full != n-13 {
		t.Errorf("created %d, refused as full %d; want 13 and %d", created, full, n-13)
	}
}

// TestServiceAllocationRepair: a leaked allocation key is removed at
// startup and a service's address without a key gets one.
func TestServiceAllocationRepair(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Listen: "127.0.0.1:0", EtcdNoFsync: true, EtcdLogLevel: "off", KubeconfigOut: filepath.Join(dir, "kubeconfig")}
	srv, stop := runServer(t, cfg)
	ts := &testServer{Server: srv, dir: dir, stop: stop}
	svc, err := serviceClient(t, ts).Create(ctx, newService("kept"))
	if err != nil {
		t.Fatal(err)
	}
	b := srv.Backend()
	leaked := store.DefaultKeyPrefix + "/serviceallocations/clusterips/10.96.0.77"
	if _, err := b.Create(ctx, leaked, []byte(`{"namespace":"default","name":"gone"}`)); err != nil {
		t.Fatal(err)
	}
	own := store.DefaultKeyPrefix + "/serviceallocations/clusterips/" + svc.Spec.ClusterIP
	if _, _, err := b.Delete(ctx, own, 0); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	srv2, _ := runServer(t, cfg)
	b = srv2.Backend()
	if _, err := b.Get(ctx, leaked); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("leaked key kept: %v", err)
	}
	if _, err := b.Get(ctx, own); err != nil {
		t.Errorf("the kept service's address was not recorded again: %v", err)
	}
}
