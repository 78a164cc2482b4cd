package endpointslice

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
)

// ShouldInclude reports whether pod p backs a service at all: it has an
// address, has not finished (phase Succeeded or Failed), and is not
// terminating unless includeTerminating (Kubernetes' ShouldPodBeInEndpoints).
func ShouldInclude(p *api.Pod, includeTerminating bool) bool {
	if p.Status.PodIP == "" && len(p.Status.PodIPs) == 0 {
		return false
	}
	if p.Status.Phase == api.PodSucceeded || p.Status.Phase == api.PodFailed {
		return false
	}
	return includeTerminating || p.DeletionTimestamp == nil
}

// ResolvePort returns the port number sp targets on pod p: a numeric
// targetPort as is (the service port when it is unset), a named one
// through the pod's container ports of that name and protocol. ok is
// false when a name does not resolve on this pod.
func ResolvePort(p *api.Pod, sp *api.ServicePort) (port int32, ok bool) {
	proto := sp.Protocol
	if proto == "" {
		proto = api.ProtocolTCP
	}
	tp := sp.TargetPort
	if !tp.IsString {
		if tp.IntVal == 0 {
			return sp.Port, true
		}
		return tp.IntVal, true
	}
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			cproto := cp.Protocol
			if cproto == "" {
				cproto = api.ProtocolTCP
			}
			if cp.Name == tp.StrVal && cproto == proto {
				return cp.ContainerPort, true
			}
		}
	}
	return 0, false
}

// ShouldSetHostname reports whether p's endpoint carries p's hostname for
// svc: p names a hostname and svc as its subdomain, in svc's namespace.
func ShouldSetHostname(p *api.Pod, svc *api.Service) bool {
	return p.Spec.Hostname != "" && p.Spec.Subdomain == svc.Name && p.Namespace == svc.Namespace
}

// podIPs returns p's addresses (status.podIPs, else status.podIP).
func podIPs(p *api.Pod) []string {
	if len(p.Status.PodIPs) > 0 {
		out := make([]string, 0, len(p.Status.PodIPs))
		for _, ip := range p.Status.PodIPs {
			out = append(out, ip.IP)
		}
		return out
	}
	return []string{p.Status.PodIP}
}

// addressType returns the slice address type of ip, or "" if ip does not
// parse.
func addressType(ip string) discovery.AddressType {
	a, err := netip.ParseAddr(ip)
	switch {
	case err != nil:
		return ""
	case a.Is4() || a.Is4In6():
		return discovery.AddressTypeIPv4
	}
	return discovery.AddressTypeIPv6
}

// desiredEndpoint is one pod's endpoint of a service, with its port set.
type desiredEndpoint struct {
	ep    discovery.Endpoint
	ports []discovery.EndpointPort
	group string // address type and ports: endpoints of one group share slices
	pod   string // namespace/name
}

// portsKey is the identity of a port set (sorted by name).
func portsKey(ports []discovery.EndpointPort) string {
	var b strings.Builder
	for _, p := range ports {
		fmt.Fprintf(&b, "%s/%s/%d/%s;", deref(p.Name), deref(p.Protocol), deref(p.Port), deref(p.AppProtocol))
	}
	return b.String()
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

// endpointsFor computes the endpoints of svc from the pods its selector
// matches, as Kubernetes' podToEndpoint does: serving is the pod's Ready
// condition, terminating its deletion mark, and ready is serving and not
// terminating — or always true with publishNotReadyAddresses. Pods whose
// named ports do not all resolve get the ports that do (their own group).
func endpointsFor(svc *api.Service, pods []*api.Pod, nodeZone func(node string) (string, bool)) []desiredEndpoint {
	var out []desiredEndpoint
	for _, p := range pods {
		if !ShouldInclude(p, true) {
			continue
		}
		var ports []discovery.EndpointPort
		for i := range svc.Spec.Ports {
			sp := &svc.Spec.Ports[i]
			n, ok := ResolvePort(p, sp)
			if !ok {
				continue
			}
			proto := sp.Protocol
			if proto == "" {
				proto = api.ProtocolTCP
			}
			ports = append(ports, discovery.EndpointPort{Name: ptr(sp.Name), Protocol: ptr(proto), Port: ptr(n), AppProtocol: sp.AppProtocol})
		}
		slices.SortFunc(ports, func(a, b discovery.EndpointPort) int { return cmp.Compare(deref(a.Name), deref(b.Name)) })
		serving := controllerutil.IsPodReady(p)
		terminating := p.DeletionTimestamp != nil
		ready := svc.Spec.PublishNotReadyAddresses || (serving && !terminating)
		for _, ip := range podIPs(p) {
			at := addressType(ip)
			if at == "" {
				continue
			}
			ep := discovery.Endpoint{
				Addresses:  []string{ip},
				Conditions: discovery.EndpointConditions{Ready: ptr(ready), Serving: ptr(serving), Terminating: ptr(terminating)},
				TargetRef:  &api.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID},
			}
			if ShouldSetHostname(p, svc) {
				ep.Hostname = ptr(p.Spec.Hostname)
			}
			if p.Spec.NodeName != "" {
				ep.NodeName = ptr(p.Spec.NodeName)
				if zone, ok := nodeZone(p.Spec.NodeName); ok {
					ep.Zone = ptr(zone)
				}
			}
			out = append(out, desiredEndpoint{ep: ep, ports: ports, group: string(at) + "|" + portsKey(ports), pod: p.Namespace + "/" + p.Name})
		}
	}
	return out
}

// endpointKey identifies an endpoint across slices: its pod (or, without
// one, its first address) and address.
func endpointKey(ep *discovery.Endpoint) string {
	addr := ""
	if len(ep.Addresses) > 0 {
		addr = ep.Addresses[0]
	}
	if ep.TargetRef != nil {
		return ep.TargetRef.Namespace + "/" + ep.TargetRef.Name + "|" + addr
	}
	return "|" + addr
}

// sliceGroup is the group key of an existing slice.
func sliceGroup(s *discovery.EndpointSlice) string {
	ports := slices.Clone(s.Ports)
	slices.SortFunc(ports, func(a, b discovery.EndpointPort) int { return cmp.Compare(deref(a.Name), deref(b.Name)) })
	return string(s.AddressType) + "|" + portsKey(ports)
}

// endpointEqual reports whether two endpoints carry the same content.
func endpointEqual(a, b *discovery.Endpoint) bool {
	return slices.Equal(a.Addresses, b.Addresses) &&
		deref(a.Conditions.Ready) == deref(b.Conditions.Ready) &&
		deref(a.Conditions.Serving) == deref(b.Conditions.Serving) &&
		deref(a.Conditions.Terminating) == deref(b.Conditions.Terminating) &&
		deref(a.Hostname) == deref(b.Hostname) && deref(a.NodeName) == deref(b.NodeName) && deref(a.Zone) == deref(b.Zone) &&
		(a.TargetRef == nil) == (b.TargetRef == nil) && (a.TargetRef == nil || *a.TargetRef == *b.TargetRef)
}
