package dns

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
)

// SchemaVersion is the version of the Kubernetes DNS schema the server
// implements, served as TXT at dns-version.<domain>.
const SchemaVersion = "1.1.0"

// node holds the records of one owner name. A node with no records is an
// empty non-terminal: the name exists (NODATA, not NXDOMAIN).
type node struct {
	rrs   map[uint16][]mdns.RR // answer records by type
	extra map[uint16][]mdns.RR // additional-section records by query type (SRV targets' addresses)
}

func (n *node) add(rr mdns.RR) {
	if n.rrs == nil {
		n.rrs = map[uint16][]mdns.RR{}
	}
	t := rr.Header().Rrtype
	for _, have := range n.rrs[t] {
		if mdns.IsDuplicate(have, rr) {
			return
		}
	}
	n.rrs[t] = append(n.rrs[t], rr)
}

// zone is an immutable snapshot of every record the server answers from
// the cluster: built from the informers' caches, swapped in atomically,
// read without locks.
type zone struct {
	domain string // lower case, fully qualified: "cluster.local."
	ttl    uint32
	names  map[string]*node
	soa    *mdns.SOA   // the cluster domain's SOA (authority of negative answers)
	revSOA []*mdns.SOA // in-addr.arpa. and ip6.arpa. SOAs

	svcRev, sliceRev int64 // the caches' revisions it was built from
}

// zoneInput is what a zone is built from.
type zoneInput struct {
	domain   string // fully qualified, lower case
	ttl      uint32
	serial   uint32
	services []*api.Service
	slices   []*discovery.EndpointSlice
	nsSvc    [2]string // namespace, name of the DNS server's own Service (ns.dns.<domain>)
}

// buildZone computes every record of the Kubernetes DNS schema (see the
// package documentation) from the services and endpoint slices.
func buildZone(in zoneInput) *zone {
	z := &zone{domain: in.domain, ttl: in.ttl, names: map[string]*node{}}
	hdr := func(name string, t uint16) mdns.RR_Header {
		return mdns.RR_Header{Name: name, Rrtype: t, Class: mdns.ClassINET, Ttl: in.ttl}
	}
	nsName := "ns.dns." + in.domain
	z.soa = &mdns.SOA{Hdr: hdr(in.domain, mdns.TypeSOA), Ns: nsName, Mbox: "hostmaster." + in.domain,
		Serial: in.serial, Refresh: 7200, Retry: 1800, Expire: 86400, Minttl: in.ttl}
	for _, rev := range []string{"in-addr.arpa.", "ip6.arpa."} {
		s := *z.soa
		s.Hdr.Name = rev
		z.revSOA = append(z.revSOA, &s)
	}
	z.put(z.soa)
	z.put(&mdns.NS{Hdr: hdr(in.domain, mdns.TypeNS), Ns: nsName})
	z.put(&mdns.TXT{Hdr: hdr("dns-version."+in.domain, mdns.TypeTXT), Txt: []string{SchemaVersion}})

	byService := map[[2]string][]*discovery.EndpointSlice{}
	for _, s := range in.slices {
		if name := s.Labels[discovery.LabelServiceName]; name != "" {
			k := [2]string{s.Namespace, name}
			byService[k] = append(byService[k], s)
		}
	}
	for _, svc := range in.services {
		base := svc.Name + "." + svc.Namespace + ".svc." + in.domain
		switch {
		case svc.Spec.Type == api.ServiceTypeExternalName:
			if svc.Spec.ExternalName != "" {
				z.put(&mdns.CNAME{Hdr: hdr(base, mdns.TypeCNAME), Target: mdns.Fqdn(strings.ToLower(svc.Spec.ExternalName))})
			}
		case svc.Spec.ClusterIP == api.ClusterIPNone:
			z.headless(svc, base, byService[[2]string{svc.Namespace, svc.Name}], hdr)
		default:
			z.clusterIP(svc, base, hdr)
			if svc.Namespace == in.nsSvc[0] && svc.Name == in.nsSvc[1] {
				for _, ip := range serviceIPs(svc) {
					z.put(addrRR(hdr(nsName, 0), ip))
				}
			}
		}
	}
	z.sortAll()
	return z
}

// clusterIP adds the records of a Service with a ClusterIP (spec 2.3).
func (z *zone) clusterIP(svc *api.Service, base string, hdr func(string, uint16) mdns.RR_Header) {
	ips := serviceIPs(svc)
	z.ensure(base) // an unallocated service's name exists, with no address (NODATA)
	var addrs []mdns.RR
	for _, ip := range ips {
		rr := addrRR(hdr(base, 0), ip)
		addrs = append(addrs, rr)
		z.put(rr)
		z.put(&mdns.PTR{Hdr: hdr(reverse(ip), mdns.TypePTR), Ptr: base})
	}
	for _, p := range svc.Spec.Ports {
		if p.Name == "" {
			continue // unnamed ports have no SRV record
		}
		name := srvName(p.Name, string(p.Protocol), base)
		z.put(&mdns.SRV{Hdr: hdr(name, mdns.TypeSRV), Priority: 0, Weight: 100, Port: uint16(p.Port), Target: base})
		z.addExtra(name, addrs)
	}
}

// headless adds the records of a headless Service (spec 2.4): one address
// per ready endpoint (every endpoint with publishNotReadyAddresses), one
// name per endpoint hostname, SRV records to those names, PTR records.
// With no ready endpoint the service name does not exist (NXDOMAIN).
func (z *zone) headless(svc *api.Service, base string, eps []*discovery.EndpointSlice, hdr func(string, uint16) mdns.RR_Header) {
	type target struct {
		host string
		port uint16
	}
	srv := map[string][]target{} // SRV owner -> targets
	for _, s := range eps {
		if s.AddressType != discovery.AddressTypeIPv4 && s.AddressType != discovery.AddressTypeIPv6 {
			continue // FQDN slices carry no addresses for DNS
		}
		for _, ep := range s.Endpoints {
			if !svc.Spec.PublishNotReadyAddresses && ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue // nil means unknown, which consumers treat as ready
			}
			for _, a := range ep.Addresses {
				ip, err := netip.ParseAddr(a)
				if err != nil {
					continue
				}
				ip = ip.Unmap()
				host := endpointHostname(ep, ip)
				fqdn := host + "." + base
				z.put(addrRR(hdr(base, 0), ip))
				z.put(addrRR(hdr(fqdn, 0), ip))
				z.put(&mdns.PTR{Hdr: hdr(reverse(ip), mdns.TypePTR), Ptr: fqdn})
				for _, p := range s.Ports {
					if p.Name == nil || *p.Name == "" || p.Port == nil {
						continue
					}
					proto := string(api.ProtocolTCP)
					if p.Protocol != nil {
						proto = string(*p.Protocol)
					}
					name := srvName(*p.Name, proto, base)
					t := target{fqdn, uint16(*p.Port)}
					if !slices.Contains(srv[name], t) {
						srv[name] = append(srv[name], t)
					}
				}
			}
		}
	}
	for name, ts := range srv {
		w := uint16(max(1, 100/len(ts)))
		for _, t := range ts {
			z.put(&mdns.SRV{Hdr: hdr(name, mdns.TypeSRV), Priority: 0, Weight: w, Port: t.port, Target: t.host})
			if n := z.names[t.host]; n != nil {
				z.addExtra(name, n.rrs[mdns.TypeA])
				z.addExtra(name, n.rrs[mdns.TypeAAAA])
			}
		}
	}
}

// endpointHostname is the spec's hostname of an endpoint: its hostname
// field, else a unique name derived from its address (as CoreDNS does:
// 10-1-2-3, or the IPv6 address with ':' replaced by '-').
func endpointHostname(ep discovery.Endpoint, ip netip.Addr) string {
	if ep.Hostname != nil && *ep.Hostname != "" {
		return strings.ToLower(*ep.Hostname)
	}
	if ip.Is4() {
		return strings.ReplaceAll(ip.String(), ".", "-")
	}
	return strings.ReplaceAll(ip.StringExpanded(), ":", "-")
}

// serviceIPs returns a service's valid cluster IPs (clusterIPs, or the
// single clusterIP of objects written before dual stack).
func serviceIPs(svc *api.Service) []netip.Addr {
	raw := svc.Spec.ClusterIPs
	if len(raw) == 0 && svc.Spec.ClusterIP != "" {
		raw = []string{svc.Spec.ClusterIP}
	}
	var out []netip.Addr
	for _, s := range raw {
		if ip, err := netip.ParseAddr(s); err == nil {
			out = append(out, ip.Unmap())
		}
	}
	return out
}

func srvName(port, proto, base string) string {
	return "_" + strings.ToLower(port) + "._" + strings.ToLower(proto) + "." + base
}

// addrRR returns the A or AAAA record of ip with header h (its type set here).
func addrRR(h mdns.RR_Header, ip netip.Addr) mdns.RR {
	if ip.Is4() {
		h.Rrtype = mdns.TypeA
		b := ip.As4()
		return &mdns.A{Hdr: h, A: b[:]}
	}
	h.Rrtype = mdns.TypeAAAA
	b := ip.As16()
	return &mdns.AAAA{Hdr: h, AAAA: b[:]}
}

// reverse returns the in-addr.arpa. or ip6.arpa. name of ip (IPv6 as 32
// nibbles, spec 2.3.3).
func reverse(ip netip.Addr) string {
	var b strings.Builder
	if ip.Is4() {
		a := ip.As4()
		for i := 3; i >= 0; i-- {
			b.WriteString(strconv.Itoa(int(a[i])))
			b.WriteByte('.')
		}
		b.WriteString("in-addr.arpa.")
		return b.String()
	}
	const hex = "0123456789abcdef"
	a := ip.As16()
	for i := 15; i >= 0; i-- {
		b.WriteByte(hex[a[i]&0xf])
		b.WriteByte('.')
		b.WriteByte(hex[a[i]>>4])
		b.WriteByte('.')
	}
	b.WriteString("ip6.arpa.")
	return b.String()
}

// put adds rr at its owner name, creating the name and its ancestors
// inside the cluster domain (empty non-terminals).
func (z *zone) put(rr mdns.RR) {
	z.ensure(rr.Header().Name).add(rr)
}

// ensure returns the node of name, creating it and, inside the cluster
// domain, every missing ancestor down from the apex.
func (z *zone) ensure(name string) *node {
	n := z.names[name]
	if n != nil {
		return n
	}
	n = &node{}
	z.names[name] = n
	if name != z.domain && strings.HasSuffix(name, "."+z.domain) {
		if i := strings.IndexByte(name, '.'); i >= 0 {
			z.ensure(name[i+1:])
		}
	}
	return n
}

func (z *zone) addExtra(name string, rrs []mdns.RR) {
	if len(rrs) == 0 {
		return
	}
	n := z.ensure(name)
	if n.extra == nil {
		n.extra = map[uint16][]mdns.RR{}
	}
	for _, rr := range rrs {
		if !slices.ContainsFunc(n.extra[mdns.TypeSRV], func(h mdns.RR) bool { return mdns.IsDuplicate(h, rr) }) {
			n.extra[mdns.TypeSRV] = append(n.extra[mdns.TypeSRV], rr)
		}
	}
}

// sortAll orders every record set, so answers do not depend on the order
// the informers listed objects in.
func (z *zone) sortAll() {
	for _, n := range z.names {
		// Clipped, so that appending to an answer built from a set
		// copies it instead of writing into the shared snapshot.
		for t, rrs := range n.rrs {
			slices.SortFunc(rrs, func(a, b mdns.RR) int { return cmp.Compare(a.String(), b.String()) })
			n.rrs[t] = slices.Clip(rrs)
		}
		for t, rrs := range n.extra {
			slices.SortFunc(rrs, func(a, b mdns.RR) int { return cmp.Compare(a.String(), b.String()) })
			n.extra[t] = slices.Clip(rrs)
		}
	}
}

// inZone reports whether name is the cluster domain or below it.
func (z *zone) inZone(name string) bool {
	return name == z.domain || strings.HasSuffix(name, "."+z.domain)
}

// reverseSOA returns the SOA to put in the authority section of a negative
// answer for a reverse name, or nil if name is not a reverse name.
func (z *zone) reverseSOA(name string) *mdns.SOA {
	for _, s := range z.revSOA {
		if name == s.Hdr.Name || strings.HasSuffix(name, "."+s.Hdr.Name) {
			return s
		}
	}
	return nil
}
