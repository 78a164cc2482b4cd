package proxy

import (
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// udpService is what a sync programmed for one UDP service port: the
// addresses and ports that reach it and its endpoints.
type udpService struct {
	dsts     []netip.Addr // cluster IP, external and load-balancer IPs
	port     int32
	nodePort int32
	eps      []endpoint
}

func udpServices(sps []*servicePort) map[string]udpService {
	out := map[string]udpService{}
	for _, sp := range sps {
		if sp.protocol != "udp" {
			continue
		}
		out[sp.key()] = udpService{dsts: append([]netip.Addr{sp.clusterIP}, sp.externalIPs...),
			port: sp.port, nodePort: sp.nodePort, eps: sp.endpoints}
	}
	return out
}

// udpFlowFilter matches the UDP conntrack entries that a change of the
// rules left stale.
type udpFlowFilter struct {
	svc udpService
	// ep set: entries of this service NATed to ep (a removed endpoint).
	// Unset: entries of this service that were not NATed at all (made
	// while it had no endpoint).
	ep *endpoint
}

func (f udpFlowFilter) MatchConntrackFlow(fl *netlink.ConntrackFlow) bool {
	if fl.Forward.Protocol != unix.IPPROTO_UDP {
		return false
	}
	dst, ok := netip.AddrFromSlice(fl.Forward.DstIP)
	if !ok {
		return false
	}
	dst = dst.Unmap()
	toService := (slices.Contains(f.svc.dsts, dst) && int32(fl.Forward.DstPort) == f.svc.port) ||
		(f.svc.nodePort != 0 && int32(fl.Forward.DstPort) == f.svc.nodePort)
	if !toService {
		return false
	}
	replySrc, _ := netip.AddrFromSlice(fl.Reverse.SrcIP)
	replySrc = replySrc.Unmap()
	if f.ep == nil {
		return replySrc == dst && fl.Reverse.SrcPort == fl.Forward.DstPort
	}
	return replySrc == f.ep.addr && int32(fl.Reverse.SrcPort) == f.ep.port
}

// staleUDPFilters compares two syncs' UDP services and returns filters for
// the conntrack entries to delete, as kube-proxy does: entries NATed to an
// endpoint that is gone (else a client's datagrams keep flowing to it, as
// UDP "connections" never end), and, for a service that had no endpoint
// and now has some, its entries that were not NATed.
func staleUDPFilters(old, cur map[string]udpService) []netlink.CustomConntrackFilter {
	var out []netlink.CustomConntrackFilter
	for key, o := range old {
		c := cur[key]
		for _, ep := range o.eps {
			if !slices.Contains(c.eps, ep) {
				out = append(out, udpFlowFilter{svc: o, ep: &ep})
			}
		}
	}
	for key, c := range cur {
		if o, ok := old[key]; len(c.eps) > 0 && (!ok || len(o.eps) == 0) {
			out = append(out, udpFlowFilter{svc: c})
		}
	}
	return out
}

// flushConntrack deletes the entries the filters match, in the network
// namespace of the calling thread. It returns how many it deleted.
func flushConntrack(filters []netlink.CustomConntrackFilter) (uint, error) {
	if len(filters) == 0 {
		return 0, nil
	}
	var n uint
	for _, fam := range []netlink.InetFamily{unix.AF_INET, unix.AF_INET6} {
		k, err := netlink.ConntrackDeleteFilters(netlink.ConntrackTable, fam, filters...)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
