package cluster

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"strconv"

	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/dns"
	"github.com/setpoint-dev/setpoint/store"
)

// Names of the DNS's objects and identity, as Kubernetes' DNS add-on has
// them.
const (
	// DNSServiceName is the DNS's Service in kube-system.
	DNSServiceName = "kube-dns"
	// DNSUser is the DNS's identity: the kube-dns service account, which
	// the bootstrap binding system:kube-dns lets read services and
	// endpoint slices.
	DNSUser = "system:serviceaccount:kube-system:kube-dns"
	// DNSManagedBy is the managed-by label of the EndpointSlice the server
	// writes for the kube-dns Service (the endpoint-slice controller leaves
	// slices of other managers alone).
	DNSManagedBy = "setpoint-server"
)

// DNSLinkName returns the name of the link that holds the DNS's
// address of the cluster whose DataDir is dataDir (see Config.DNSListen).
func DNSLinkName(dataDir string) string { return BridgeName(dataDir + "/dns") }

// defaultDNSAddress returns the DNS's default address for dataDir: a
// link-local address (169.254.0.0/16, as NodeLocal DNSCache's
// 169.254.20.10) derived from a hash of dataDir, so clusters on one
// machine do not share it.
func defaultDNSAddress(dataDir string) string {
	sum := sha256.Sum256([]byte(dataDir))
	return netip.AddrFrom4([4]byte{169, 254, 100 + sum[0]%100, 1 + sum[1]%254}).String()
}

// runDNS runs the cluster DNS as the kube-dns service account: it serves
// on Config.DNSListen (on a link it makes, unless that address is a
// loopback or already local one) and, once serving, makes the kube-dns
// Service (ClusterIP: the tenth address of the service CIDR) and its
// EndpointSlice point at it, so that pods reach it through the proxy's
// rules for the ClusterIP, as they reach Kubernetes' DNS pods.
func (s *Server) runDNS(ctx context.Context) error {
	host, _, err := net.SplitHostPort(s.cfg.DNSListen)
	if err != nil {
		return fmt.Errorf("cluster: DNSListen: %w", err)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("cluster: DNSListen %q: %w", s.cfg.DNSListen, err)
	}
	if !addr.IsLoopback() && !localAddr(addr) {
		link := DNSLinkName(s.cfg.DataDir)
		if err := addDummy(link, addr); err != nil {
			return err
		}
		defer func() {
			if err := DeleteLink(link); err != nil {
				s.log.Warn("removing the DNS link", "err", err)
			}
		}()
	}
	cs, err := s.componentClient(DNSUser, "system:serviceaccounts", "system:serviceaccounts:kube-system")
	if err != nil {
		return err
	}
	d, err := dns.New(dns.Config{Client: cs, Domain: s.cfg.ClusterDomain, Listen: s.cfg.DNSListen, Upstreams: s.cfg.DNSUpstreams,
		Logger: s.log.With("component", "dns")})
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return cs.Informers().Run(gctx) })
	g.Go(func() error { return d.Run(gctx) })
	g.Go(func() error {
		select {
		case <-d.Ready():
		case <-gctx.Done():
			return nil
		}
		_, port, _ := net.SplitHostPort(d.Addr())
		p, _ := strconv.Atoi(port)
		admin, err := s.adminClient()
		if err != nil {
			return err
		}
		if err := ensureDNSObjects(gctx, admin, s.dnsIP, addr, int32(p)); err != nil && gctx.Err() == nil {
			return err
		}
		return nil
	})
	return g.Wait()
}

// ensureDNSObjects creates or repairs the kube-dns Service at clusterIP
// (ports dns/UDP and dns-tcp/TCP 53, no selector) and its EndpointSlice,
// whose one endpoint is the DNS's address and port.
func ensureDNSObjects(ctx context.Context, cs *client.Clientset, clusterIP, addr netip.Addr, port int32) error {
	labels := map[string]string{"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"}
	svc := &api.Service{}
	svc.Namespace, svc.Name, svc.Labels = "kube-system", DNSServiceName, labels
	svc.Spec.ClusterIP, svc.Spec.ClusterIPs = clusterIP.String(), []string{clusterIP.String()}
	svc.Spec.Ports = []api.ServicePort{
		{Name: "dns", Protocol: api.ProtocolUDP, Port: 53, TargetPort: api.FromInt(port)},
		{Name: "dns-tcp", Protocol: api.ProtocolTCP, Port: 53, TargetPort: api.FromInt(port)},
	}
	if _, err := cs.Services().Create(ctx, svc); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("cluster: creating the kube-dns Service: %w", err)
	}
	udp, tcp, ready := api.ProtocolUDP, api.ProtocolTCP, true
	nameDNS, nameTCP := "dns", "dns-tcp"
	want := discovery.EndpointSlice{AddressType: discovery.AddressTypeIPv4,
		Endpoints: []discovery.Endpoint{{Addresses: []string{addr.String()},
			Conditions: discovery.EndpointConditions{Ready: &ready, Serving: &ready}}},
		Ports: []discovery.EndpointPort{{Name: &nameDNS, Protocol: &udp, Port: &port}, {Name: &nameTCP, Protocol: &tcp, Port: &port}}}
	es := want
	es.Namespace, es.Name = "kube-system", DNSServiceName+"-server"
	es.Labels = map[string]string{discovery.LabelServiceName: DNSServiceName, discovery.LabelManagedBy: DNSManagedBy}
	_, err := cs.EndpointSlices().Create(ctx, &es)
	if errors.Is(err, store.ErrAlreadyExists) {
		// A restarted server's DNS may serve on another port.
		_, err = cs.EndpointSlices().GuaranteedUpdate(ctx, es.Namespace, es.Name, func(have *discovery.EndpointSlice) (*discovery.EndpointSlice, error) {
			have.Endpoints, have.Ports, have.Labels = want.Endpoints, want.Ports, es.Labels
			return have, nil
		})
	}
	if err != nil {
		return fmt.Errorf("cluster: writing the kube-dns EndpointSlice: %w", err)
	}
	return nil
}

// localAddr reports whether addr is an address of this host.
func localAddr(addr netip.Addr) bool {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap() == addr {
				return true
			}
		}
	}
	return false
}

// addDummy makes a link name holding addr/32 (replacing a link of
// that name left by a crash): a bridge without ports, since the kernels
// this runs on may lack the link type; an address of the host on
// any link is delivered locally.
func addDummy(name string, addr netip.Addr) error {
	if err := DeleteLink(name); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"link", "add", name, "type", "bridge"},
		{"addr", "add", addr.String() + "/32", "dev", name},
		{"link", "set", name, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			_ = DeleteLink(name)
			return fmt.Errorf("cluster: DNS link: ip %v: %v: %s", args, err, out)
		}
	}
	return nil
}
