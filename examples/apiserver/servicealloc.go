package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// Service address allocation.
//
// Every ClusterIP and NodePort in use is recorded as its own key in
// storage, <prefix>/serviceallocations/clusterips/<ip> and
// <prefix>/serviceallocations/nodeports/<port>, whose value names the
// owning Service (as Kubernetes' IPAddress objects do, rather than its
// older bitmap). A Service create writes its allocation keys in the same
// transaction as the Service, each required not to exist
// (store.WithSideWrites): two apiservers can therefore never hand out the
// same address — the second create fails as a whole. An address the client
// asked for that another Service holds is 422 naming the field; an address
// the server picked (at random in the range) that another apiserver took a
// moment earlier is 409 Conflict, and the client retries. Updates that need
// new addresses (a type change to NodePort, say) reserve them before the
// write and give them back if the write fails; deletes and updates give
// back what the Service no longer uses. At startup the server repairs the
// keys: it removes those whose Service is gone or no longer uses the
// address and records those a Service uses without a key.

// Defaults of the service address ranges, Kubernetes' (kubeadm's service
// subnet and the default --service-node-port-range).
var (
	DefaultServiceCIDR   = netip.MustParsePrefix("10.96.0.0/12")
	DefaultNodePortRange = PortRange{First: 30000, Last: 32767}
)

// PortRange is an inclusive range of ports.
type PortRange struct{ First, Last int32 }

func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.First, r.Last) }

func (r PortRange) contains(p int32) bool { return p >= r.First && p <= r.Last }

// allocation is the value of an allocation key.
type allocation struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

type serviceAllocator struct {
	backend  store.Backend
	prefix   string
	cidrs    []netip.Prefix // at most one per family
	ports    PortRange
	services *store.Store[*api.Service]
	log      *slog.Logger
}

var (
	_ rest.MutatingAdmission   = (*serviceAllocator)(nil)
	_ rest.ValidatingAdmission = (*serviceAllocator)(nil)
)

func newServiceAllocator(b store.Backend, services *store.Store[*api.Service], cidrs []netip.Prefix, ports PortRange, log *slog.Logger) *serviceAllocator {
	return &serviceAllocator{backend: b, prefix: store.DefaultKeyPrefix + "/serviceallocations/", cidrs: cidrs, ports: ports, services: services, log: log}
}

// Name implements rest.AdmissionPlugin.
func (s *serviceAllocator) Name() string { return "ServiceAllocation" }

func (s *serviceAllocator) ipKey(a netip.Addr) string { return s.prefix + "clusterips/" + a.String() }
func (s *serviceAllocator) portKey(p int32) string {
	return s.prefix + "nodeports/" + strconv.Itoa(int(p))
}

func isServiceWrite(a rest.Attributes) bool {
	return a.Resource == api.ServiceResource && a.Subresource == ""
}

// wants lists the allocation keys svc uses.
func (s *serviceAllocator) wants(svc *api.Service) []string {
	if svc == nil {
		return nil
	}
	var keys []string
	for _, ip := range svc.Spec.ClusterIPs {
		if a, err := netip.ParseAddr(ip); err == nil {
			keys = append(keys, s.ipKey(a))
		}
	}
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			keys = append(keys, s.portKey(p.NodePort))
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// invalid is the 422 for field of a Service, in Kubernetes' wording.
func invalid(field, value, msg string) error {
	return store.FieldErrors{{Field: field, Value: value, Reason: "Invalid value: " + msg}}
}

// owner reads the Service holding key, if any.
func (s *serviceAllocator) owner(ctx context.Context, key string) (*allocation, error) {
	kv, err := s.backend.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var al allocation
	if err := json.Unmarshal(kv.Value, &al); err != nil {
		return nil, fmt.Errorf("allocation %s: %w", key, err)
	}
	return &al, nil
}

func (s *serviceAllocator) heldByOther(ctx context.Context, key string, svc *api.Service) (bool, error) {
	al, err := s.owner(ctx, key)
	if err != nil || al == nil {
		return false, err
	}
	return al.Namespace != svc.Namespace || al.Name != svc.Name, nil
}

// Admit assigns the addresses a Service needs and checks the ones it asks
// for: in range and not held by another Service.
func (s *serviceAllocator) Admit(ctx context.Context, a rest.Attributes) error {
	if !isServiceWrite(a) || (a.Verb != "create" && a.Verb != "update" && a.Verb != "patch") {
		return nil
	}
	svc, _ := a.Object.(*api.Service)
	old, _ := a.OldObject.(*api.Service)
	if svc == nil {
		return nil
	}
	if err := s.admitClusterIPs(ctx, svc, old); err != nil {
		return err
	}
	return s.admitNodePorts(ctx, svc, old)
}

func (s *serviceAllocator) cidrFor(f api.IPFamily) (netip.Prefix, bool) {
	for _, c := range s.cidrs {
		if c.Addr().Is4() == (f != api.IPv6Protocol) {
			return c, true
		}
	}
	return netip.Prefix{}, false
}

func (s *serviceAllocator) admitClusterIPs(ctx context.Context, svc, old *api.Service) error {
	sp := &svc.Spec
	if sp.Type == api.ServiceTypeExternalName || sp.ClusterIP == api.ClusterIPNone {
		return nil
	}
	if old != nil && old.Spec.ClusterIP != "" && old.Spec.ClusterIP != api.ClusterIPNone && sp.ClusterIP == "" {
		sp.ClusterIP, sp.ClusterIPs = old.Spec.ClusterIP, slices.Clone(old.Spec.ClusterIPs) // kept, as Kubernetes does
	}
	families := sp.IPFamilies
	if len(families) == 0 {
		families = []api.IPFamily{api.IPv4Protocol}
	}
	dual := sp.IPFamilyPolicy != nil && *sp.IPFamilyPolicy != api.IPFamilyPolicySingleStack
	if dual && len(families) == 1 && len(s.cidrs) == 2 {
		other := api.IPv6Protocol
		if families[0] == api.IPv6Protocol {
			other = api.IPv4Protocol
		}
		families = append(families, other)
		sp.IPFamilies = families
	}
	if dual && *sp.IPFamilyPolicy == api.IPFamilyPolicyRequireDualStack && len(s.cidrs) < 2 {
		return invalid("spec.ipFamilyPolicy", string(*sp.IPFamilyPolicy), "this cluster is not configured for dual-stack services")
	}
	for i, f := range families {
		field := fmt.Sprintf("spec.clusterIPs[%d]", i)
		cidr, ok := s.cidrFor(f)
		if !ok {
			return invalid(fmt.Sprintf("spec.ipFamilies[%d]", i), string(f), "not configured on this cluster")
		}
		if i < len(sp.ClusterIPs) && sp.ClusterIPs[i] != "" {
			ip, err := netip.ParseAddr(sp.ClusterIPs[i])
			if err != nil {
				continue // validation names it
			}
			if !cidr.Contains(ip) || ip == cidr.Masked().Addr() || (ip.Is4() && ip == lastAddr(cidr)) {
				return invalid(field, sp.ClusterIPs[i], fmt.Sprintf("failed to allocate IP %s: provided IP is not in the valid range. The range of valid IPs is %s", ip, cidr))
			}
			if old != nil && slices.Contains(old.Spec.ClusterIPs, sp.ClusterIPs[i]) {
				continue
			}
			if other, err := s.heldByOther(ctx, s.ipKey(ip), svc); err != nil {
				return err
			} else if other {
				return invalid(field, sp.ClusterIPs[i], fmt.Sprintf("failed to allocate IP %s: provided IP is already allocated", ip))
			}
			continue
		}
		ip, err := s.pickIP(ctx, cidr)
		if err != nil {
			return err
		}
		sp.ClusterIPs = append(sp.ClusterIPs[:i], ip.String())
	}
	if len(sp.ClusterIPs) > 0 {
		sp.ClusterIP = sp.ClusterIPs[0]
	}
	return nil
}

// lastAddr is the broadcast address of an IPv4 prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	for i := p.Bits(); i < 32; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	return netip.AddrFrom4(b)
}

// pickIP picks a free address of cidr at random, skipping the network
// address, the first usable one (kept for the kubernetes Service, as
// Kubernetes does) and the IPv4 broadcast address.
func (s *serviceAllocator) pickIP(ctx context.Context, cidr netip.Prefix) (netip.Addr, error) {
	base := new(big.Int).SetBytes(cidr.Masked().Addr().AsSlice())
	bits := cidr.Addr().BitLen() - cidr.Bits()
	size := new(big.Int).Lsh(big.NewInt(1), uint(min(bits, 62)))
	n := size.Int64() - 3 // network, first (kubernetes), broadcast
	if n <= 0 {
		return netip.Addr{}, fmt.Errorf("%w: the service range %s is too small", store.ErrInvalid, cidr)
	}
	start := rand.Int64N(n)
	for i := range min(n, 4096) {
		off := big.NewInt(2 + (start+i)%n)
		b := new(big.Int).Add(base, off).FillBytes(make([]byte, cidr.Addr().BitLen()/8))
		ip, _ := netip.AddrFromSlice(b)
		al, err := s.owner(ctx, s.ipKey(ip))
		if err != nil {
			return netip.Addr{}, err
		}
		if al == nil {
			return ip, nil
		}
	}
	return netip.Addr{}, watch.NewStatusError(http.StatusInternalServerError, watch.StatusReasonInternalError, fmt.Sprintf("no free address left in the service range %s", cidr))
}

func (s *serviceAllocator) admitNodePorts(ctx context.Context, svc, old *api.Service) error {
	sp := &svc.Spec
	needs := sp.Type == api.ServiceTypeNodePort || (sp.Type == api.ServiceTypeLoadBalancer && (sp.AllocateLoadBalancerNodePorts == nil || *sp.AllocateLoadBalancerNodePorts))
	seen := map[string]bool{}
	for i := range sp.Ports {
		p := &sp.Ports[i]
		field := fmt.Sprintf("spec.ports[%d].nodePort", i)
		if p.NodePort == 0 {
			if !needs {
				continue
			}
			if old != nil {
				for _, op := range old.Spec.Ports {
					if op.NodePort != 0 && op.Port == p.Port && op.Protocol == p.Protocol {
						p.NodePort = op.NodePort // kept across updates
					}
				}
			}
		}
		if p.NodePort == 0 {
			port, err := s.pickPort(ctx, sp.Ports)
			if err != nil {
				return err
			}
			p.NodePort = port
		} else {
			v := strconv.Itoa(int(p.NodePort))
			if k := v + "/" + string(p.Protocol); seen[k] {
				return store.FieldErrors{{Field: field, Value: v, Reason: "Duplicate value"}}
			} else {
				seen[k] = true
			}
			if !s.ports.contains(p.NodePort) {
				return invalid(field, v, fmt.Sprintf("provided port is not in the valid range. The range of valid ports is %s", s.ports))
			}
			if old != nil && slices.ContainsFunc(old.Spec.Ports, func(op api.ServicePort) bool { return op.NodePort == p.NodePort }) {
				continue
			}
			if other, err := s.heldByOther(ctx, s.portKey(p.NodePort), svc); err != nil {
				return err
			} else if other {
				return invalid(field, v, "provided port is already allocated")
			}
		}
		seen[strconv.Itoa(int(p.NodePort))+"/"+string(p.Protocol)] = true
	}
	return nil
}

// pickPort picks a free node port at random, not one of ports.
func (s *serviceAllocator) pickPort(ctx context.Context, ports []api.ServicePort) (int32, error) {
	n := s.ports.Last - s.ports.First + 1
	start := rand.Int32N(n)
	for i := range n {
		p := s.ports.First + (start+i)%n
		if slices.ContainsFunc(ports, func(sp api.ServicePort) bool { return sp.NodePort == p }) {
			continue
		}
		al, err := s.owner(ctx, s.portKey(p))
		if err != nil {
			return 0, err
		}
		if al == nil {
			return p, nil
		}
	}
	return 0, watch.NewStatusError(http.StatusInternalServerError, watch.StatusReasonInternalError, fmt.Sprintf("no free node port left in %s", s.ports))
}

// Validate records the Service's addresses with its write and gives back
// those it no longer uses; see the comment at the top of this file.
func (s *serviceAllocator) Validate(ctx context.Context, a rest.Attributes, write func(context.Context) error) error {
	if !isServiceWrite(a) || store.DryRunFrom(ctx) {
		return write(ctx)
	}
	switch a.Verb {
	case "create":
		svc := a.Object.(*api.Service)
		value, _ := json.Marshal(allocation{Namespace: a.Namespace, Name: svc.Name})
		var side []store.SideWrite
		for _, k := range s.wants(svc) {
			side = append(side, store.SideWrite{Key: k, Value: value})
		}
		err := write(store.WithSideWrites(ctx, side...))
		var ce *store.ConflictError
		if errors.As(err, &ce) && strings.HasPrefix(ce.Key, s.prefix) {
			return watch.NewStatusError(http.StatusConflict, watch.StatusReasonConflict, fmt.Sprintf(
				"Operation cannot be fulfilled on services %q: the address %s was allocated concurrently; please try again", svc.Name, strings.TrimPrefix(ce.Key, s.prefix)))
		}
		return err
	case "update", "patch":
		svc, old := a.Object.(*api.Service), a.OldObject.(*api.Service)
		value, _ := json.Marshal(allocation{Namespace: a.Namespace, Name: svc.Name})
		have := s.wants(old)
		var reserved []string
		for _, k := range s.wants(svc) {
			if slices.Contains(have, k) {
				continue
			}
			if _, err := s.backend.Create(ctx, k, value); err != nil {
				s.release(ctx, reserved)
				if errors.Is(err, store.ErrAlreadyExists) {
					return watch.NewStatusError(http.StatusConflict, watch.StatusReasonConflict, fmt.Sprintf(
						"Operation cannot be fulfilled on services %q: the address %s was allocated concurrently; please try again", svc.Name, strings.TrimPrefix(k, s.prefix)))
				}
				return err
			}
			reserved = append(reserved, k)
		}
		if err := write(ctx); err != nil {
			s.release(ctx, reserved)
			return err
		}
		want := s.wants(svc)
		s.release(ctx, slices.DeleteFunc(have, func(k string) bool { return slices.Contains(want, k) }))
		return nil
	case "delete":
		old, err := s.services.Get(ctx, a.Namespace, a.Name)
		if err != nil {
			return write(ctx)
		}
		if err := write(ctx); err != nil {
			return err
		}
		if _, err := s.services.Get(ctx, a.Namespace, a.Name); errors.Is(err, store.ErrNotFound) {
			s.release(ctx, s.wants(old))
		}
		return nil
	}
	return write(ctx)
}

// release deletes allocation keys; a failure leaves them to the repair at
// the next start.
func (s *serviceAllocator) release(ctx context.Context, keys []string) {
	for _, k := range keys {
		if _, _, err := s.backend.Delete(ctx, k, 0); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.Warn("service address not released", "key", k, "err", err)
		}
	}
}

// repair makes the allocation keys match the stored Services: keys of
// gone Services, or addresses a Service no longer uses, are removed; an
// address a Service uses without a key gets one. Two Services holding the
// same address (written before allocation existed) are logged.
func (s *serviceAllocator) repair(ctx context.Context) error {
	list, err := s.services.List(ctx, "", store.ListOptions{})
	if err != nil {
		return fmt.Errorf("service allocation repair: %w", err)
	}
	owners := map[string]allocation{}
	for _, svc := range list.Items {
		for _, k := range s.wants(svc) {
			if prev, dup := owners[k]; dup {
				s.log.Warn("service address held twice", "address", strings.TrimPrefix(k, s.prefix), "service", svc.Namespace+"/"+svc.Name, "other", prev.Namespace+"/"+prev.Name)
				continue
			}
			owners[k] = allocation{Namespace: svc.Namespace, Name: svc.Name}
		}
	}
	res, err := s.backend.Range(ctx, s.prefix, store.RangeOptions{})
	for err == nil {
		for _, kv := range res.KVs {
			var al allocation
			if json.Unmarshal(kv.Value, &al) == nil && owners[kv.Key] == al {
				delete(owners, kv.Key)
				continue
			}
			if _, _, err := s.backend.Delete(ctx, kv.Key, kv.ModRevision); err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("service allocation repair: %w", err)
			}
			s.log.Info("released leaked service address", "address", strings.TrimPrefix(kv.Key, s.prefix))
		}
		if !res.More || len(res.KVs) == 0 {
			break
		}
		res, err = s.backend.Range(ctx, s.prefix, store.RangeOptions{StartKey: res.KVs[len(res.KVs)-1].Key + "\x00", Revision: res.Revision})
	}
	if err != nil {
		return fmt.Errorf("service allocation repair: %w", err)
	}
	for k, al := range owners {
		value, _ := json.Marshal(al)
		if _, err := s.backend.Create(ctx, k, value); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return fmt.Errorf("service allocation repair: %w", err)
		}
	}
	return nil
}
