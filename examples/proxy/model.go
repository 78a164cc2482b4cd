package proxy

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
)

// servicePort is one port of one Service with the endpoints that serve it,
// the unit the proxy programs.
type servicePort struct {
	namespace, name, portName string
	protocol                  string // tcp, udp or sctp
	v6                        bool   // the IPv6 half of a (dual-stack) service
	clusterIP                 netip.Addr
	port                      int32
	nodePort                  int32
	externalIPs               []netip.Addr // externalIPs and load-balancer ingress IPs
	affinitySeconds           int32        // 0: no session affinity
	externalLocal             bool         // externalTrafficPolicy Local
	internalLocal             bool         // internalTrafficPolicy Local
	// endpoints are the usable endpoints (ready ones, or serving
	// terminating ones when none is ready), sorted; local marks those on
	// this node.
	endpoints []endpoint
	k         string // the key, once computed
}

type endpoint struct {
	addr  netip.Addr
	port  int32
	local bool
}

func (e endpoint) String() string {
	return netip.AddrPortFrom(e.addr, uint16(e.port)).String()
}

// key identifies the service port: namespace/name/protocol/port name,
// and /v6 for the IPv6 half (computed once; it is the sort key).
func (sp *servicePort) key() string {
	if sp.k != "" {
		return sp.k
	}
	k := sp.namespace + "/" + sp.name + "/" + sp.protocol + "/" + sp.portName
	if sp.v6 {
		k += "/v6"
	}
	sp.k = k
	return k
}

// localEndpoints returns the endpoints on this node.
func (sp *servicePort) localEndpoints() []endpoint {
	var out []endpoint
	for _, e := range sp.endpoints {
		if e.local {
			out = append(out, e)
		}
	}
	return out
}

// buildServicePorts turns the cached Services and EndpointSlices into the
// service ports to program, sorted by key: one per port and cluster IP
// (spec.clusterIPs, or spec.clusterIP), IPv6 ones only if v6 is set.
// Services without a cluster IP (headless, ExternalName) are skipped.
func buildServicePorts(services []*api.Service, slices_ []*discovery.EndpointSlice, node string, v6 bool) []*servicePort {
	bySvc := map[string][]*discovery.EndpointSlice{}
	for _, s := range slices_ {
		if k, ok := sliceService(s); ok {
			bySvc[k] = append(bySvc[k], s)
		}
	}
	var out []*servicePort
	for _, svc := range services {
		out = append(out, servicePortsOf(svc, bySvc[svc.Namespace+"/"+svc.Name], node, v6)...)
	}
	slices.SortFunc(out, func(a, b *servicePort) int { return cmp.Compare(a.key(), b.key()) })
	return out
}

// sliceService returns the namespace/name of the Service a slice belongs
// to, if it names one and holds IP addresses.
func sliceService(s *discovery.EndpointSlice) (string, bool) {
	name := s.Labels[discovery.LabelServiceName]
	if name == "" || (s.AddressType != discovery.AddressTypeIPv4 && s.AddressType != discovery.AddressTypeIPv6) {
		return "", false
	}
	return s.Namespace + "/" + name, true
}

// servicePortsOf returns the service ports of svc (unsorted) given the
// slices that belong to it (those of other services are ignored).
func servicePortsOf(svc *api.Service, sl []*discovery.EndpointSlice, node string, v6 bool) []*servicePort {
	if svc.Spec.Type == api.ServiceTypeExternalName {
		return nil
	}
	byFamily := map[string][]*discovery.EndpointSlice{}
	for _, s := range sl {
		if k, ok := sliceService(s); ok && k == svc.Namespace+"/"+svc.Name {
			k += "/" + string(s.AddressType)
			byFamily[k] = append(byFamily[k], s)
		}
	}
	cips := svc.Spec.ClusterIPs
	if len(cips) == 0 {
		cips = []string{svc.Spec.ClusterIP}
	}
	var out []*servicePort
	seen := map[bool]bool{}
	for _, s := range cips {
		cip, err := netip.ParseAddr(s)
		if err != nil || (cip.Is6() && !v6) || seen[cip.Is6()] {
			continue
		}
		seen[cip.Is6()] = true
		out = append(out, familyServicePorts(svc, cip, byFamily, node)...)
	}
	return out
}

// equal reports whether sp and o program the same rules: every field but
// the cached key.
func (sp *servicePort) equal(o *servicePort) bool {
	return sp.namespace == o.namespace && sp.name == o.name && sp.portName == o.portName &&
		sp.protocol == o.protocol && sp.v6 == o.v6 && sp.clusterIP == o.clusterIP && sp.port == o.port &&
		sp.nodePort == o.nodePort && slices.Equal(sp.externalIPs, o.externalIPs) &&
		sp.affinitySeconds == o.affinitySeconds && sp.externalLocal == o.externalLocal &&
		sp.internalLocal == o.internalLocal && slices.Equal(sp.endpoints, o.endpoints)
}

// familyServicePorts returns the service ports of svc in the family of cip.
func familyServicePorts(svc *api.Service, cip netip.Addr, bySvc map[string][]*discovery.EndpointSlice, node string) []*servicePort {
	is6 := cip.Is6()
	at := discovery.AddressTypeIPv4
	if is6 {
		at = discovery.AddressTypeIPv6
	}
	var out []*servicePort
	var ext []netip.Addr
	for _, s := range svc.Spec.ExternalIPs {
		if a, err := netip.ParseAddr(s); err == nil && a.Is6() == is6 {
			ext = append(ext, a)
		}
	}
	if svc.Spec.Type == api.ServiceTypeLoadBalancer {
		for _, ing := range svc.Status.LoadBalancer.Ingress {
			if a, err := netip.ParseAddr(ing.IP); err == nil && a.Is6() == is6 {
				ext = append(ext, a)
			}
		}
	}
	slices.SortFunc(ext, netip.Addr.Compare)
	ext = slices.Compact(ext)
	var affinity int32
	if svc.Spec.SessionAffinity == api.ServiceAffinityClientIP {
		affinity = 10800 // Kubernetes' default timeout
		if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
			affinity = *c.ClientIP.TimeoutSeconds
		}
	}
	for _, p := range svc.Spec.Ports {
		proto := protoName(p.Protocol)
		sp := &servicePort{
			namespace: svc.Namespace, name: svc.Name, portName: p.Name, protocol: proto, v6: is6,
			clusterIP: cip, port: p.Port, externalIPs: ext, affinitySeconds: affinity,
			externalLocal: svc.Spec.ExternalTrafficPolicy == api.ServiceExternalTrafficPolicyLocal,
			internalLocal: svc.Spec.InternalTrafficPolicy != nil && *svc.Spec.InternalTrafficPolicy == api.ServiceInternalTrafficPolicyLocal,
		}
		if svc.Spec.Type == api.ServiceTypeNodePort || svc.Spec.Type == api.ServiceTypeLoadBalancer {
			sp.nodePort = p.NodePort
		}
		sp.endpoints = pickEndpoints(bySvc[svc.Namespace+"/"+svc.Name+"/"+string(at)], p, node)
		if sp.portName == "" {
			sp.portName = strconv.Itoa(int(p.Port))
		}
		sp.k = sp.key()
		out = append(out, sp)
	}
	return out
}

// pickEndpoints returns the endpoints of p: the ready ones, or, when none
// is ready, the serving terminating ones (Kubernetes' fallback that lets a
// rolling update drain). Endpoints are deduplicated and sorted.
func pickEndpoints(sl []*discovery.EndpointSlice, p api.ServicePort, node string) []endpoint {
	var ready, terminating []endpoint
	for _, s := range sl {
		port, ok := slicePort(s, p)
		if !ok {
			continue
		}
		for _, e := range s.Endpoints {
			if len(e.Addresses) == 0 {
				continue
			}
			a, err := netip.ParseAddr(e.Addresses[0])
			if err != nil {
				continue
			}
			ep := endpoint{addr: a, port: port, local: e.NodeName != nil && *e.NodeName == node}
			c := e.Conditions
			switch {
			case c.Ready == nil || *c.Ready:
				ready = append(ready, ep)
			case c.Serving != nil && *c.Serving && c.Terminating != nil && *c.Terminating:
				terminating = append(terminating, ep)
			}
		}
	}
	out := ready
	if len(out) == 0 {
		out = terminating
	}
	slices.SortFunc(out, func(a, b endpoint) int {
		if c := a.addr.Compare(b.addr); c != 0 {
			return c
		}
		return cmp.Compare(a.port, b.port)
	})
	return slices.CompactFunc(out, func(a, b endpoint) bool { return a.addr == b.addr && a.port == b.port })
}

// slicePort finds the slice's port for the service port: same name and
// protocol, as Kubernetes matches them.
func slicePort(s *discovery.EndpointSlice, p api.ServicePort) (int32, bool) {
	for _, sp := range s.Ports {
		name, proto := "", api.ProtocolTCP
		if sp.Name != nil {
			name = *sp.Name
		}
		if sp.Protocol != nil {
			proto = *sp.Protocol
		}
		if name == p.Name && proto == p.Protocol && sp.Port != nil {
			return *sp.Port, true
		}
	}
	return 0, false
}

func protoName(p api.Protocol) string {
	switch p {
	case api.ProtocolUDP:
		return "udp"
	case api.ProtocolSCTP:
		return "sctp"
	}
	return "tcp"
}
