package proxy_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/proxy"
	"github.com/setpoint-dev/setpoint/store"
)

const table = "setpoint-proxy-test"

func ptr[T any](v T) *T { return &v }

func service(name, ip string, nodePort int32, mutate ...func(*api.Service)) *api.Service {
	s := &api.Service{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: name},
		Spec: api.ServiceSpec{ClusterIP: ip, Ports: []api.ServicePort{{Port: 80, TargetPort: api.FromInt(8080), Protocol: api.ProtocolTCP}}}}
	if nodePort != 0 {
		s.Spec.Type = api.ServiceTypeNodePort
		s.Spec.Ports[0].NodePort = nodePort
	}
	for _, m := range mutate {
		m(s)
	}
	return s
}

type ep struct {
	ip    string
	ready bool
}

func slice(svc string, eps ...ep) *discovery.EndpointSlice {
	s := &discovery.EndpointSlice{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: svc + "-1",
		Labels: map[string]string{discovery.LabelServiceName: svc}},
		AddressType: discovery.AddressTypeIPv4,
		Ports:       []discovery.EndpointPort{{Name: ptr(""), Protocol: ptr(api.ProtocolTCP), Port: ptr(int32(8080))}}}
	for _, e := range eps {
		s.Endpoints = append(s.Endpoints, discovery.Endpoint{Addresses: []string{e.ip},
			Conditions: discovery.EndpointConditions{Ready: ptr(e.ready)}, NodeName: ptr("node1")})
	}
	return s
}

func startProxy(t *testing.T, cs *client.Clientset, node string, mode proxy.Mode, ipv6 ...bool) (stop func()) {
	t.Helper()
	cfg := proxy.Config{Client: cs, NodeName: "node1", Mode: mode, TableName: table, MinSyncPeriod: -1,
		ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16"), NetNS: filepath.Join("/run/netns", node)}
	if len(ipv6) > 0 && ipv6[0] {
		cfg.IPv6, cfg.ClusterCIDR6 = true, netip.MustParsePrefix("fd00:244::/48")
	}
	p, err := proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("proxy Run: %v", err)
		}
	}
}

// TestServices runs two pods behind Services and a client pod, with the
// proxy programming the node namespace, in each mode.
func TestServices(t *testing.T) {
	for _, mode := range []proxy.Mode{proxy.ModeNFTables, proxy.ModeIPTables} {
		t.Run(string(mode), func(t *testing.T) { testServices(t, mode) })
	}
}

func testServices(t *testing.T, mode proxy.Mode) {
	ctx := context.Background()
	n := newTestNet(t)
	ip1, ip2 := n.addPod("pod1", 1), n.addPod("pod2", 2)
	n.addPod("client", 3)
	n.serve("pod1", 8080)
	n.serve("pod2", 8080)
	cl := n.pods["client"]
	must := mustFn(t)

	srv := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, srv)
	controllertest.RunInformers(t, cs)
	stop := startProxy(t, cs, n.node, mode)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
		if err := proxy.Cleanup(context.Background(), proxy.Config{Mode: mode, TableName: table, NetNS: filepath.Join("/run/netns", n.node)}); err != nil {
			t.Error(err)
		}
	})

	must(cs.Services().Create(ctx, service("web", "10.96.0.10", 30080)))
	must(cs.EndpointSlices().Create(ctx, slice("web", ep{ip1, true}, ep{ip2, true})))

	t.Run("ClusterIP reaches both pods", func(t *testing.T) {
		controllertest.Eventually(t, "both pods answer through the ClusterIP", func() error {
			got, err := hits(t, cl, "10.96.0.10:80", 20)
			if err != nil {
				return err
			}
			if got["pod1"] == 0 || got["pod2"] == 0 {
				return fmt.Errorf("answers by pod: %v", got)
			}
			return nil
		})
	})
	t.Run("NodePort answers from the node", func(t *testing.T) {
		for _, from := range []string{cl, n.node} {
			if name, err := ask(t, from, nodeIP+":30080"); err != nil || (name != "pod1" && name != "pod2") {
				t.Errorf("NodePort from %s: %q, %v", from, name, err)
			}
		}
	})
	t.Run("hairpin: a pod reaches itself through its Service", func(t *testing.T) {
		got, err := hits(t, n.pods["pod1"], "10.96.0.10:80", 20)
		if err != nil || got["pod1"] == 0 {
			t.Fatalf("pod1 through its Service: %v, %v", got, err)
		}
	})
	t.Run("session affinity pins a client", func(t *testing.T) {
		must(cs.Services().Create(ctx, service("sticky", "10.96.0.11", 0, func(s *api.Service) {
			s.Spec.SessionAffinity = api.ServiceAffinityClientIP
		})))
		must(cs.EndpointSlices().Create(ctx, slice("sticky", ep{ip1, true}, ep{ip2, true})))
		controllertest.Eventually(t, "sticky service answers", func() error { _, err := ask(t, cl, "10.96.0.11:80"); return err })
		got, err := hits(t, cl, "10.96.0.11:80", 20)
		if err != nil || len(got) != 1 {
			t.Fatalf("want every answer from one pod, got %v, %v", got, err)
		}
	})
	t.Run("a Service without endpoints refuses at once", func(t *testing.T) {
		must(cs.Services().Create(ctx, service("empty", "10.96.0.12", 30081)))
		controllertest.Eventually(t, "connection refused", func() error {
			for _, addr := range []string{"10.96.0.12:80", nodeIP + ":30081"} {
				c, err := dial(t, cl, addr)
				if err == nil {
					c.Close()
					return fmt.Errorf("%s: connected", addr)
				}
				if !errors.Is(err, syscall.ECONNREFUSED) {
					return fmt.Errorf("%s: want connection refused, got %w", addr, err)
				}
			}
			return nil
		})
	})
	t.Run("a pod going not ready leaves the rotation", func(t *testing.T) {
		s, err := cs.EndpointSlices().Get(ctx, "default", "web-1")
		if err != nil {
			t.Fatal(err)
		}
		s.Endpoints[1].Conditions.Ready = ptr(false)
		if _, err := cs.EndpointSlices().Update(ctx, s); err != nil {
			t.Fatal(err)
		}
		controllertest.Eventually(t, "only pod1 answers", func() error {
			got, err := hits(t, cl, "10.96.0.10:80", 20)
			if err != nil {
				return err
			}
			if got["pod1"] != 20 {
				return fmt.Errorf("answers by pod: %v", got)
			}
			return nil
		})
	})
	t.Run("a removed UDP endpoint's conntrack entries are flushed", func(t *testing.T) {
		n.serveUDP("pod1", 5353)
		n.serveUDP("pod2", 5353)
		udp := func(s *api.Service) {
			s.Spec.Ports[0].Protocol, s.Spec.Ports[0].Port = api.ProtocolUDP, 53
		}
		udpSlice := func(ip string) *discovery.EndpointSlice {
			s := slice("dgram", ep{ip, true})
			s.Ports[0].Protocol, s.Ports[0].Port = ptr(api.ProtocolUDP), ptr(int32(5353))
			return s
		}
		must(cs.Services().Create(ctx, service("dgram", "10.96.0.13", 0, udp)))
		must(cs.EndpointSlices().Create(ctx, udpSlice(ip1)))
		// One client socket (one source port) throughout: its datagrams
		// belong to one conntrack entry. (A first datagram sent before the
		// rules were programmed made an entry without NAT; the flush of a
		// service that gains its first endpoint removes it.)
		var c net.Conn
		inNS(t, cl, func() {
			var err error
			if c, err = net.Dial("udp4", "10.96.0.13:53"); err != nil {
				t.Fatal(err)
			}
		})
		defer c.Close()
		controllertest.Eventually(t, "pod1 answers over UDP", func() error {
			if got, err := udpAsk(c); err != nil || got != "pod1" {
				return fmt.Errorf("answer %q, %v", got, err)
			}
			return nil
		})
		if flows := n.udpFlows("10.96.0.13"); !slices.Contains(flows, "10.96.0.13 -> "+ip1+":5353") {
			t.Fatalf("no conntrack entry to pod1: %v", flows)
		}
		s, err := cs.EndpointSlices().Get(ctx, "default", "dgram-1")
		if err != nil {
			t.Fatal(err)
		}
		s.Endpoints[0].Addresses = []string{ip2}
		if _, err := cs.EndpointSlices().Update(ctx, s); err != nil {
			t.Fatal(err)
		}
		// Without the flush the entry would keep sending this socket's
		// datagrams to pod1 (it still answers) for as long as they flow.
		controllertest.Eventually(t, "pod2 answers on the same socket", func() error {
			if got, err := udpAsk(c); err != nil || got != "pod2" {
				return fmt.Errorf("answer %q, %v", got, err)
			}
			return nil
		})
		if flows := n.udpFlows("10.96.0.13"); slices.Contains(flows, "10.96.0.13 -> "+ip1+":5353") {
			t.Fatalf("conntrack entry to the removed endpoint left: %v", flows)
		}
	})
	t.Run("restart keeps connections and rules", func(t *testing.T) {
		c, err := dial(t, cl, "10.96.0.10:80")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		echo(t, c, "pod1\n", "")
		before := n.rulesDump(mode, table)
		if !strings.Contains(before, "10.244.1.2:8080") {
			t.Fatalf("rules before the restart lack pod1:\n%s", before)
		}
		stop()
		stopped = true
		stop = startProxy(t, cs, n.node, mode)
		stopped = false
		// The new proxy's first sync is a full one; wait for its result to
		// settle, then it must equal the old one.
		controllertest.Eventually(t, "rules after restart equal those before", func() error {
			if after := n.rulesDump(mode, table); after != before {
				return fmt.Errorf("rules differ:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			return nil
		})
		echo(t, c, "", "still there")
	})
	t.Run("cleanup leaves no table", func(t *testing.T) {
		stop()
		stopped = true
		if err := proxy.Cleanup(ctx, proxy.Config{Mode: mode, TableName: table, NetNS: filepath.Join("/run/netns", n.node)}); err != nil {
			t.Fatal(err)
		}
		if out := n.leftovers(mode, table); out != "" {
			t.Fatalf("rules left in the node namespace: %s", out)
		}
		if _, err := ask(t, cl, "10.96.0.10:80"); err == nil {
			t.Fatal("ClusterIP still answers after cleanup")
		}
	})
}

// TestDualStack runs a dual-stack Service (an IPv4 and an IPv6 cluster IP,
// one EndpointSlice per family) in each mode: both pods answer through
// either cluster IP, and an IPv6 service without endpoints refuses.
func TestDualStack(t *testing.T) {
	for _, mode := range []proxy.Mode{proxy.ModeNFTables, proxy.ModeIPTables} {
		t.Run(string(mode), func(t *testing.T) { testDualStack(t, mode) })
	}
}

func testDualStack(t *testing.T, mode proxy.Mode) {
	ctx := context.Background()
	n := newTestNet(t)
	ip1, ip2 := n.addPod("pod1", 1), n.addPod("pod2", 2)
	n.addPod("client", 3)
	v6a, v6b := n.addV6("pod1", 1), n.addV6("pod2", 2)
	n.addV6("client", 3)
	n.serve("pod1", 8080)
	n.serve("pod2", 8080)
	must := mustFn(t)
	srv := controllertest.StartAPIServer(t, func(c *apiserver.Config) {
		c.ServiceCIDRs = []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16"), netip.MustParsePrefix("fd00:96::/112")}
	})
	cs := controllertest.Clientset(t, srv)
	controllertest.RunInformers(t, cs)
	stop := startProxy(t, cs, n.node, mode, true)
	t.Cleanup(func() {
		stop()
		if err := proxy.Cleanup(context.Background(), proxy.Config{Mode: mode, TableName: table, IPv6: true, NetNS: filepath.Join("/run/netns", n.node)}); err != nil {
			t.Error(err)
		}
	})
	dual := func(ips ...string) func(*api.Service) {
		return func(s *api.Service) {
			s.Spec.ClusterIPs = ips
			s.Spec.IPFamilies = []api.IPFamily{api.IPv4Protocol, api.IPv6Protocol}
			s.Spec.IPFamilyPolicy = ptr(api.IPFamilyPolicyRequireDualStack)
		}
	}
	must(cs.Services().Create(ctx, service("web", "10.96.0.20", 0, dual("10.96.0.20", "fd00:96::20"))))
	must(cs.EndpointSlices().Create(ctx, slice("web", ep{ip1, true}, ep{ip2, true})))
	s6 := slice("web", ep{v6a, true}, ep{v6b, true})
	s6.Name, s6.AddressType = "web-2", discovery.AddressTypeIPv6
	must(cs.EndpointSlices().Create(ctx, s6))
	must(cs.Services().Create(ctx, service("empty", "10.96.0.21", 0, dual("10.96.0.21", "fd00:96::21"))))
	for _, addr := range []string{"[fd00:96::20]:80", "10.96.0.20:80"} {
		controllertest.Eventually(t, "both pods answer through "+addr, func() error {
			got, err := hits(t, n.pods["client"], addr, 20)
			if err != nil {
				return err
			}
			if got["pod1"] == 0 || got["pod2"] == 0 {
				return fmt.Errorf("answers by pod: %v", got)
			}
			return nil
		})
	}
	controllertest.Eventually(t, "the IPv6 service without endpoints refuses", func() error {
		c, err := dial(t, n.pods["client"], "[fd00:96::21]:80")
		if err == nil {
			c.Close()
			return errors.New("connected")
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("want connection refused, got %w", err)
		}
		return nil
	})
}

// mustFn returns a check of (object, error) results that fails t on an error.
func mustFn(t *testing.T) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}
