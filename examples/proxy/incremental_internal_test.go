package proxy

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/knftables"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/store"
)

// world is a random cluster state: Services and EndpointSlices drawn from
// small pools, so that ports share addresses, endpoints and node ports.
type world struct {
	rnd      *rand.Rand
	services map[string]*api.Service
	slices   map[string]*discovery.EndpointSlice
}

func (w *world) pick(pool ...string) string { return pool[w.rnd.IntN(len(pool))] }

func (w *world) service() *api.Service {
	r := w.rnd
	svc := &api.Service{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: w.pick("s0", "s1", "s2", "s3", "s4", "s5")}}
	svc.Spec.Type = api.ServiceType(w.pick(string(api.ServiceTypeClusterIP), string(api.ServiceTypeNodePort),
		string(api.ServiceTypeLoadBalancer), string(api.ServiceTypeClusterIP), string(api.ServiceTypeExternalName)))
	svc.Spec.ClusterIP = w.pick("10.96.0.1", "10.96.0.2", "10.96.0.3", "10.96.0.4", "10.96.0.5", "None")
	if r.IntN(5) == 0 {
		svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP, "fd00::1"}
	}
	for range r.IntN(3) {
		svc.Spec.ExternalIPs = append(svc.Spec.ExternalIPs, w.pick("192.0.2.1", "192.0.2.2", "10.96.0.1", "2001:db8::1"))
	}
	if svc.Spec.Type == api.ServiceTypeLoadBalancer && r.IntN(2) == 0 {
		svc.Status.LoadBalancer.Ingress = []api.LoadBalancerIngress{{IP: w.pick("192.0.2.1", "198.51.100.1")}}
	}
	if r.IntN(3) == 0 {
		svc.Spec.SessionAffinity = api.ServiceAffinityClientIP
		if r.IntN(2) == 0 {
			t := int32(10 + r.IntN(2))
			svc.Spec.SessionAffinityConfig = &api.SessionAffinityConfig{ClientIP: &api.ClientIPConfig{TimeoutSeconds: &t}}
		}
	}
	if r.IntN(3) == 0 {
		svc.Spec.ExternalTrafficPolicy = api.ServiceExternalTrafficPolicyLocal
	}
	if r.IntN(3) == 0 {
		local := api.ServiceInternalTrafficPolicyLocal
		svc.Spec.InternalTrafficPolicy = &local
	}
	for i := range 1 + r.IntN(2) {
		proto := api.Protocol(w.pick(string(api.ProtocolTCP), string(api.ProtocolUDP)))
		svc.Spec.Ports = append(svc.Spec.Ports, api.ServicePort{Name: fmt.Sprintf("p%d", i), Protocol: proto,
			Port: int32(80 + r.IntN(2)), NodePort: int32(30000 + r.IntN(3))})
	}
	return svc
}

func (w *world) slice() *discovery.EndpointSlice {
	r := w.rnd
	s := &discovery.EndpointSlice{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: w.pick("e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7"),
		Labels: map[string]string{discovery.LabelServiceName: w.pick("s0", "s1", "s2", "s3", "s4", "s5", "")}},
		AddressType: discovery.AddressTypeIPv4}
	if r.IntN(6) == 0 {
		s.AddressType = discovery.AddressTypeIPv6
	}
	for i := range 2 {
		name, proto, port := fmt.Sprintf("p%d", i), api.Protocol(w.pick(string(api.ProtocolTCP), string(api.ProtocolUDP))), int32(8080+r.IntN(2))
		s.Ports = append(s.Ports, discovery.EndpointPort{Name: &name, Protocol: &proto, Port: &port})
	}
	for range r.IntN(5) {
		addr := w.pick("10.244.0.1", "10.244.0.2", "10.244.1.1", "10.244.1.2", "10.244.2.1")
		if s.AddressType == discovery.AddressTypeIPv6 {
			addr = w.pick("fd00:244::1", "fd00:244::2")
		}
		node := w.pick("node1", "node2")
		yes, no := true, false
		c := discovery.EndpointConditions{}
		switch r.IntN(4) {
		case 0:
			c.Ready = &no
		case 1:
			c.Ready, c.Serving, c.Terminating = &no, &yes, &yes
		case 2:
			c.Ready = &yes
		}
		s.Endpoints = append(s.Endpoints, discovery.Endpoint{Addresses: []string{addr}, NodeName: &node, Conditions: c})
	}
	return s
}

// change makes one random change and returns the Services (namespace/name)
// whose handlers would have marked them.
func (w *world) change() []string {
	key := func(s *discovery.EndpointSlice) []string {
		if k, ok := sliceService(s); ok {
			return []string{k}
		}
		return nil
	}
	switch w.rnd.IntN(4) {
	case 0:
		s := w.service()
		w.services[s.Name] = s
		return []string{"default/" + s.Name}
	case 1:
		name := w.pick("s0", "s1", "s2", "s3", "s4", "s5")
		delete(w.services, name)
		return []string{"default/" + name}
	case 2:
		s := w.slice()
		var out []string
		if old, ok := w.slices[s.Name]; ok {
			out = key(old)
		}
		w.slices[s.Name] = s
		return append(out, key(s)...)
	default:
		name := w.pick("e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7")
		old, ok := w.slices[name]
		if !ok {
			return nil
		}
		delete(w.slices, name)
		return key(old)
	}
}

func (w *world) lists() ([]*api.Service, []*discovery.EndpointSlice) {
	return slices.Collect(maps.Values(w.services)), slices.Collect(maps.Values(w.slices))
}

// slicesOf is what the proxy's slice index returns for the Service.
func (w *world) slicesOf(k string) []*discovery.EndpointSlice {
	var out []*discovery.EndpointSlice
	for _, s := range w.slices {
		if sk, ok := sliceService(s); ok && sk == k {
			out = append(out, s)
		}
	}
	return out
}

// fakeWriter writes the netlink path's chains into a knftables.Fake, as
// nft text taken from the backend's ruleset.
type fakeWriter struct {
	nft    *knftables.Fake
	b      *nftBackend
	chains []string // of the last write
	n      int
}

func (f *fakeWriter) rewrite(_ string, chains map[string]*fastChain) error {
	f.n++
	f.chains = slices.Sorted(maps.Keys(chains))
	tx := f.nft.NewTransaction()
	for _, name := range f.chains {
		if !reflect.DeepEqual(chains[name], f.b.cur.fast[name]) {
			return fmt.Errorf("chain %s: fast chain differs from the ruleset's", name)
		}
		tx.Flush(&knftables.Chain{Name: name})
		for _, r := range f.b.cur.chains[name] {
			tx.Add(&knftables.Rule{Chain: name, Rule: r})
		}
	}
	return f.nft.Run(context.Background(), tx)
}

// TestIncrementalEqualsFull: over random sequences of changes to random
// Services and EndpointSlices, the ports the proxy rebuilds for the
// changed Services equal a fresh build of all of them, the backend's
// incrementally kept ruleset equals a fresh build, each sync goes
// through netlink exactly when only fast chains changed (the full
// comparison of the rulesets decides the same), and the table after the
// incremental syncs equals the table one fresh sync writes.
func TestIncrementalEqualsFull(t *testing.T) {
	ctx := context.Background()
	cfg := Config{TableName: "spinc", NodeName: "node1", ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16")}
	cfg.setDefaults()
	for seed := range uint64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w := &world{rnd: rand.New(rand.NewPCG(seed, 17)), services: map[string]*api.Service{}, slices: map[string]*discovery.EndpointSlice{}}
			pc := newPortCache(cfg.NodeName, false)
			nft := knftables.NewFake(knftables.IPv4Family, cfg.TableName)
			b := newNFTBackend(nft, &cfg, false)
			fw := &fakeWriter{nft: nft, b: b}
			b.writer = fw
			var prev *ruleset
			for step := range 150 {
				dirty := map[string]struct{}{}
				for range 1 + w.rnd.IntN(3) {
					for _, k := range w.change() {
						dirty[k] = struct{}{}
					}
				}
				svcs, sls := w.lists()
				if w.rnd.IntN(20) == 0 {
					pc.reset(svcs, sls) // the SyncPeriod resync
				} else {
					for k := range dirty {
						_, name, _ := strings.Cut(k, "/")
						pc.update(k, w.services[name], w.slicesOf(k))
					}
				}
				want := buildServicePorts(svcs, sls, cfg.NodeName, false)
				got := pc.list()
				if len(got) != len(want) {
					t.Fatalf("step %d: %d ports, want %d", step, len(got), len(want))
				}
				for i := range want {
					if got[i].key() != want[i].key() || !got[i].equal(want[i]) {
						t.Fatalf("step %d: port %d is %+v, want %+v", step, i, *got[i], *want[i])
					}
				}
				if w.rnd.IntN(15) == 0 {
					b.synced = false // as after a failed sync: a full one
				}
				wasSynced := b.synced
				writes := fw.n
				if _, err := b.apply(ctx, got); err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
				fresh := newNFTBackend(nil, &cfg, false).build(want)
				if !reflect.DeepEqual(b.cur, fresh) {
					t.Fatalf("step %d: incremental ruleset differs from a fresh build", step)
				}
				if prev != nil && wasSynced {
					chains, ok := fastChanges(prev, fresh)
					viaNetlink := fw.n > writes
					if viaNetlink != (ok && len(chains) > 0) {
						t.Fatalf("step %d: netlink used %v, full comparison says %v (%d chains)", step, viaNetlink, ok, len(chains))
					}
					if viaNetlink && !slices.Equal(fw.chains, slices.Sorted(maps.Keys(chains))) {
						t.Fatalf("step %d: netlink wrote %v, want %v", step, fw.chains, slices.Sorted(maps.Keys(chains)))
					}
				}
				prev = fresh
				nft2 := knftables.NewFake(knftables.IPv4Family, cfg.TableName)
				if _, err := newNFTBackend(nft2, &cfg, false).apply(ctx, want); err != nil {
					t.Fatal(err)
				}
				if got, want := sortedElements(nft.Dump()), sortedElements(nft2.Dump()); got != want {
					t.Fatalf("step %d: table after incremental syncs:\n%s\nwant (one fresh sync):\n%s", step, got, want)
				}
			}
		})
	}
}

// sortedElements sorts the element lines of a knftables.Fake dump (which
// lists elements in the order they were added; nft itself sorts them).
func sortedElements(dump string) string {
	var other, elems []string
	for _, l := range strings.Split(dump, "\n") {
		if strings.HasPrefix(l, "add element ") {
			elems = append(elems, l)
		} else {
			other = append(other, l)
		}
	}
	slices.Sort(elems)
	return strings.Join(append(other, elems...), "\n")
}
