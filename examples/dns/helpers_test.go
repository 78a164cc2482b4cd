package dns

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/store"
)

// env is a running apiserver, a client of it and a DNS server on a
// loopback port.
type env struct {
	t   *testing.T
	cs  *client.Clientset
	srv *Server
	reg *prometheus.Registry
}

// start runs an apiserver, creates objs, then starts a DNS server (Listen
// 127.0.0.1:0) and returns once it serves.
func start(t *testing.T, mutate func(*Config), objs ...store.Object) *env {
	t.Helper()
	// dual-stack, so the tests' IPv6 services get their addresses
	as := controllertest.StartAPIServer(t, func(c *apiserver.Config) {
		c.ServiceCIDRs = []netip.Prefix{apiserver.DefaultServiceCIDR, netip.MustParsePrefix("fd00::/108")}
	})
	cs := controllertest.Clientset(t, as)
	e := &env{t: t, cs: cs, reg: prometheus.NewRegistry()}
	for _, o := range objs {
		e.create(o)
	}
	cfg := Config{Client: cs, Listen: "127.0.0.1:0", Registerer: e.reg}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	controllertest.RunInformers(t, cs)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dns Run: %v", err)
		}
	})
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("dns Run returned before serving: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("dns server not ready after a minute")
	}
	return e
}

// create writes o and returns its resourceVersion as a revision.
func (e *env) create(o store.Object) int64 {
	e.t.Helper()
	ctx := context.Background()
	var err error
	switch o := o.(type) {
	case *api.Service:
		o, err = e.cs.Services().Create(ctx, o)
		if err == nil {
			return rv(e.t, o)
		}
	case *discovery.EndpointSlice:
		o, err = e.cs.EndpointSlices().Create(ctx, o)
		if err == nil {
			return rv(e.t, o)
		}
	default:
		e.t.Fatalf("create: unexpected %T", o)
	}
	e.t.Fatalf("create %s/%s: %v", o.GetObjectMeta().Namespace, o.GetObjectMeta().Name, err)
	return 0
}

func rv(t *testing.T, o store.Object) int64 {
	t.Helper()
	r, err := store.ParseRevision(o.GetObjectMeta().ResourceVersion)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sync waits until the server serves what the stores held at the given
// revisions (0: no wait on that resource).
func (e *env) sync(svcRev, sliceRev int64) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.srv.waitBuilt(ctx, svcRev, sliceRev); err != nil {
		e.t.Fatalf("records not rebuilt: %v", err)
	}
}

// query asks the server name/qtype over net ("udp" or "tcp").
func (e *env) query(netw, name string, qtype uint16) *mdns.Msg {
	e.t.Helper()
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	return e.exchange(netw, m)
}

func (e *env) exchange(netw string, m *mdns.Msg) *mdns.Msg {
	e.t.Helper()
	c := &mdns.Client{Net: netw, Timeout: 10 * time.Second}
	resp, _, err := c.Exchange(m, e.srv.Addr())
	if err != nil {
		e.t.Fatalf("%s query %s: %v", netw, m.Question[0].String(), err)
	}
	if resp.Id != m.Id {
		e.t.Fatalf("response id %d, query id %d", resp.Id, m.Id)
	}
	return resp
}

func service(ns, name, clusterIP string, ports ...api.ServicePort) *api.Service {
	s := &api.Service{}
	s.Namespace, s.Name = ns, name
	s.Spec.ClusterIP = clusterIP
	if clusterIP != api.ClusterIPNone && clusterIP != "" {
		s.Spec.ClusterIPs = []string{clusterIP}
	}
	s.Spec.Ports = ports
	if len(ports) == 0 {
		s.Spec.Ports = []api.ServicePort{{Port: 80, Protocol: api.ProtocolTCP}}
	}
	return s
}

func port(name string, proto api.Protocol, n int32) api.ServicePort {
	return api.ServicePort{Name: name, Protocol: proto, Port: n, TargetPort: api.FromInt(n)}
}

// ep is one endpoint: address, hostname ("" none), ready (nil unknown).
type ep struct {
	addr  string
	host  string
	ready *bool
}

func slice(ns, name, svc string, at discovery.AddressType, ports map[string]int32, eps ...ep) *discovery.EndpointSlice {
	s := &discovery.EndpointSlice{AddressType: at}
	s.Namespace, s.Name = ns, name
	s.Labels = map[string]string{discovery.LabelServiceName: svc}
	for n, p := range ports {
		n, p, proto := n, p, api.ProtocolTCP
		s.Ports = append(s.Ports, discovery.EndpointPort{Name: &n, Port: &p, Protocol: &proto})
	}
	for _, e := range eps {
		d := discovery.Endpoint{Addresses: []string{e.addr}, Conditions: discovery.EndpointConditions{Ready: e.ready}}
		if e.host != "" {
			h := e.host
			d.Hostname = &h
		}
		s.Endpoints = append(s.Endpoints, d)
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// answers returns the records of the answer section as strings with the
// TTL, for exact comparison.
func answers(m *mdns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		out = append(out, rr.String())
	}
	return out
}

var errNoSOA = errors.New("no SOA in authority")

// negative checks m is a negative answer with rcode and the SOA of zone
// in the authority section.
func negative(m *mdns.Msg, rcode int, zone string) error {
	if m.Rcode != rcode {
		return errors.New("rcode " + mdns.RcodeToString[m.Rcode] + ", want " + mdns.RcodeToString[rcode])
	}
	if len(m.Answer) != 0 {
		return errors.New("negative answer has records")
	}
	if len(m.Ns) != 1 {
		return errNoSOA
	}
	soa, ok := m.Ns[0].(*mdns.SOA)
	if !ok || soa.Hdr.Name != zone {
		return errNoSOA
	}
	return nil
}
