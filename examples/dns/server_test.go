package dns

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	mdns "github.com/miekg/dns"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/store"
)

// clusterObjects are the services and slices most tests serve.
func clusterObjects() []store.Object {
	ext := service("default", "ext", "")
	ext.Spec.Type, ext.Spec.ExternalName, ext.Spec.Ports = api.ServiceTypeExternalName, "www.example.com", nil
	v6 := service("default", "v6", "fd00::10", port("http", api.ProtocolTCP, 80))
	pub := service("default", "pub", api.ClusterIPNone)
	pub.Spec.PublishNotReadyAddresses = true
	return []store.Object{
		service("default", "web", "10.96.0.10", port("http", api.ProtocolTCP, 80), port("dns", api.ProtocolUDP, 53)),
		v6,
		service("kube-system", "kube-dns", "10.96.0.53", port("dns", api.ProtocolUDP, 53)),
		service("default", "db", api.ClusterIPNone, port("pg", api.ProtocolTCP, 5432)),
		slice("default", "db-abc", "db", discovery.AddressTypeIPv4, map[string]int32{"pg": 5432},
			ep{addr: "10.1.0.1", host: "db-0", ready: ptr(true)},
			ep{addr: "10.1.0.2", host: "db-1", ready: ptr(true)},
			ep{addr: "10.1.0.3"}, // readiness unknown: ready
			ep{addr: "10.1.0.4", host: "db-3", ready: ptr(false)}),
		slice("default", "db-v6", "db", discovery.AddressTypeIPv6, nil, ep{addr: "fd00:1::5", ready: ptr(true)}),
		pub,
		slice("default", "pub-x", "pub", discovery.AddressTypeIPv4, nil, ep{addr: "10.1.1.1", ready: ptr(false)}),
		ext,
	}
}

const zoneName = "cluster.local."

// TestRecords asks every record type of the schema over UDP and TCP and
// compares the answers with the records the specification prescribes.
func TestRecords(t *testing.T) {
	e := start(t, nil, clusterObjects()...)
	cases := []struct {
		name  string
		qtype uint16
		want  []string
		extra []string
	}{
		{"web.default.svc.cluster.local.", mdns.TypeA, []string{"web.default.svc.cluster.local.\t30\tIN\tA\t10.96.0.10"}, nil},
		{"WEB.Default.SVC.cluster.LOCAL.", mdns.TypeA, []string{"web.default.svc.cluster.local.\t30\tIN\tA\t10.96.0.10"}, nil},
		{"v6.default.svc.cluster.local.", mdns.TypeAAAA, []string{"v6.default.svc.cluster.local.\t30\tIN\tAAAA\tfd00::10"}, nil},
		{"_http._tcp.web.default.svc.cluster.local.", mdns.TypeSRV,
			[]string{"_http._tcp.web.default.svc.cluster.local.\t30\tIN\tSRV\t0 100 80 web.default.svc.cluster.local."},
			[]string{"web.default.svc.cluster.local.\t30\tIN\tA\t10.96.0.10"}},
		{"_dns._udp.web.default.svc.cluster.local.", mdns.TypeSRV,
			[]string{"_dns._udp.web.default.svc.cluster.local.\t30\tIN\tSRV\t0 100 53 web.default.svc.cluster.local."},
			[]string{"web.default.svc.cluster.local.\t30\tIN\tA\t10.96.0.10"}},
		{"10.0.96.10.in-addr.arpa.", mdns.TypePTR, []string{"10.0.96.10.in-addr.arpa.\t30\tIN\tPTR\tweb.default.svc.cluster.local."}, nil},
		{"0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", mdns.TypePTR,
			[]string{"0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.\t30\tIN\tPTR\tv6.default.svc.cluster.local."}, nil},
		// Headless: every ready endpoint (unknown readiness counts as ready), not 10.1.0.4.
		{"db.default.svc.cluster.local.", mdns.TypeA, []string{
			"db.default.svc.cluster.local.\t30\tIN\tA\t10.1.0.1",
			"db.default.svc.cluster.local.\t30\tIN\tA\t10.1.0.2",
			"db.default.svc.cluster.local.\t30\tIN\tA\t10.1.0.3"}, nil},
		{"db.default.svc.cluster.local.", mdns.TypeAAAA, []string{"db.default.svc.cluster.local.\t30\tIN\tAAAA\tfd00:1::5"}, nil},
		// StatefulSet-style pod names through the slice's hostnames.
		{"db-0.db.default.svc.cluster.local.", mdns.TypeA, []string{"db-0.db.default.svc.cluster.local.\t30\tIN\tA\t10.1.0.1"}, nil},
		{"db-1.db.default.svc.cluster.local.", mdns.TypeA, []string{"db-1.db.default.svc.cluster.local.\t30\tIN\tA\t10.1.0.2"}, nil},
		{"10-1-0-3.db.default.svc.cluster.local.", mdns.TypeA, []string{"10-1-0-3.db.default.svc.cluster.local.\t30\tIN\tA\t10.1.0.3"}, nil},
		{"fd00-0001-0000-0000-0000-0000-0000-0005.db.default.svc.cluster.local.", mdns.TypeAAAA,
			[]string{"fd00-0001-0000-0000-0000-0000-0000-0005.db.default.svc.cluster.local.\t30\tIN\tAAAA\tfd00:1::5"}, nil},
		{"_pg._tcp.db.default.svc.cluster.local.", mdns.TypeSRV, []string{
			"_pg._tcp.db.default.svc.cluster.local.\t30\tIN\tSRV\t0 33 5432 10-1-0-3.db.default.svc.cluster.local.",
			"_pg._tcp.db.default.svc.cluster.local.\t30\tIN\tSRV\t0 33 5432 db-0.db.default.svc.cluster.local.",
			"_pg._tcp.db.default.svc.cluster.local.\t30\tIN\tSRV\t0 33 5432 db-1.db.default.svc.cluster.local."}, []string{
			"10-1-0-3.db.default.svc.cluster.local.\t30\tIN\tA\t10.1.0.3",
			"db-0.db.default.svc.cluster.local.\t30\tIN\tA\t10.1.0.1",
			"db-1.db.default.svc.cluster.local.\t30\tIN\tA\t10.1.0.2"}},
		{"1.0.1.10.in-addr.arpa.", mdns.TypePTR, []string{"1.0.1.10.in-addr.arpa.\t30\tIN\tPTR\tdb-0.db.default.svc.cluster.local."}, nil},
		// publishNotReadyAddresses serves the not-ready endpoint.
		{"pub.default.svc.cluster.local.", mdns.TypeA, []string{"pub.default.svc.cluster.local.\t30\tIN\tA\t10.1.1.1"}, nil},
		{"ext.default.svc.cluster.local.", mdns.TypeA, []string{"ext.default.svc.cluster.local.\t30\tIN\tCNAME\twww.example.com."}, nil},
		{"ext.default.svc.cluster.local.", mdns.TypeCNAME, []string{"ext.default.svc.cluster.local.\t30\tIN\tCNAME\twww.example.com."}, nil},
		{"dns-version.cluster.local.", mdns.TypeTXT, []string{"dns-version.cluster.local.\t30\tIN\tTXT\t\"1.1.0\""}, nil},
		{"cluster.local.", mdns.TypeNS, []string{"cluster.local.\t30\tIN\tNS\tns.dns.cluster.local."}, nil},
		{"ns.dns.cluster.local.", mdns.TypeA, []string{"ns.dns.cluster.local.\t30\tIN\tA\t10.96.0.53"}, nil},
	}
	for _, netw := range []string{"udp", "tcp"} {
		for _, c := range cases {
			m := e.query(netw, c.name, c.qtype)
			if m.Rcode != mdns.RcodeSuccess || !m.Authoritative {
				t.Errorf("%s %s %s: rcode %s, aa %v; want NOERROR, authoritative", netw, c.name, mdns.TypeToString[c.qtype],
					mdns.RcodeToString[m.Rcode], m.Authoritative)
			}
			got := answers(m)
			slices.Sort(got)
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("%s %s %s: answer (-want +got):\n%s", netw, c.name, mdns.TypeToString[c.qtype], d)
			}
			var extra []string
			for _, rr := range m.Extra {
				if rr.Header().Rrtype != mdns.TypeOPT {
					extra = append(extra, rr.String())
				}
			}
			slices.Sort(extra)
			if d := cmp.Diff(c.extra, extra); d != "" {
				t.Errorf("%s %s %s: additional (-want +got):\n%s", netw, c.name, mdns.TypeToString[c.qtype], d)
			}
		}
	}
}

// TestNegative checks NXDOMAIN for names that do not exist and NODATA
// (NOERROR, no answer) for names that exist with another type, both with
// the zone's SOA in authority.
func TestNegative(t *testing.T) {
	e := start(t, nil, clusterObjects()...)
	cases := []struct {
		name  string
		qtype uint16
		rcode int
		zone  string
	}{
		{"missing.default.svc.cluster.local.", mdns.TypeA, mdns.RcodeNameError, zoneName},
		{"web.other.svc.cluster.local.", mdns.TypeA, mdns.RcodeNameError, zoneName},
		{"db-3.db.default.svc.cluster.local.", mdns.TypeA, mdns.RcodeNameError, zoneName}, // not ready
		{"_nope._tcp.web.default.svc.cluster.local.", mdns.TypeSRV, mdns.RcodeNameError, zoneName},
		{"web.default.svc.cluster.local.", mdns.TypeAAAA, mdns.RcodeSuccess, zoneName}, // NODATA
		{"web.default.svc.cluster.local.", mdns.TypeSRV, mdns.RcodeSuccess, zoneName},
		{"v6.default.svc.cluster.local.", mdns.TypeA, mdns.RcodeSuccess, zoneName},
		{"default.svc.cluster.local.", mdns.TypeA, mdns.RcodeSuccess, zoneName}, // empty non-terminal
		{"svc.cluster.local.", mdns.TypeA, mdns.RcodeSuccess, zoneName},
		{"_tcp.web.default.svc.cluster.local.", mdns.TypeA, mdns.RcodeSuccess, zoneName},
		{"10.0.96.10.in-addr.arpa.", mdns.TypeA, mdns.RcodeSuccess, "in-addr.arpa."},
		{"9.9.9.9.in-addr.arpa.", mdns.TypePTR, mdns.RcodeNameError, "in-addr.arpa."},
		{"pub.default.svc.cluster.local.", mdns.TypeAAAA, mdns.RcodeSuccess, zoneName},
	}
	for _, netw := range []string{"udp", "tcp"} {
		for _, c := range cases {
			m := e.query(netw, c.name, c.qtype)
			if err := negative(m, c.rcode, c.zone); err != nil {
				t.Errorf("%s %s %s: %v\n%s", netw, c.name, mdns.TypeToString[c.qtype], err, m)
			}
			if !m.Authoritative {
				t.Errorf("%s %s: not authoritative", netw, c.name)
			}
			if soa, ok := m.Ns[0].(*mdns.SOA); ok && (soa.Minttl != 30 || soa.Hdr.Ttl != 30) {
				t.Errorf("%s %s: SOA TTL %d minimum %d, want 30", netw, c.name, soa.Hdr.Ttl, soa.Minttl)
			}
		}
	}
	// Outside the cluster and no upstream: REFUSED, nothing answered.
	m := e.query("udp", "example.org.", mdns.TypeA)
	if m.Rcode != mdns.RcodeRefused || len(m.Answer) != 0 || m.Authoritative {
		t.Errorf("example.org without upstreams: %s", m)
	}
}

// TestTTL checks a configured TTL reaches answers and the SOA.
func TestTTL(t *testing.T) {
	e := start(t, func(c *Config) { c.TTL = 5e9 }, clusterObjects()...)
	m := e.query("udp", "web.default.svc.cluster.local.", mdns.TypeA)
	if len(m.Answer) != 1 || m.Answer[0].Header().Ttl != 5 {
		t.Errorf("answer with TTL 5s: %v", answers(m))
	}
	m = e.query("udp", "missing.default.svc.cluster.local.", mdns.TypeA)
	if err := negative(m, mdns.RcodeNameError, zoneName); err != nil || m.Ns[0].(*mdns.SOA).Minttl != 5 {
		t.Errorf("NXDOMAIN with TTL 5s: %v %s", err, m)
	}
}

// TestFollowsChanges deletes a service and turns endpoints not ready, and
// checks the records go.
func TestFollowsChanges(t *testing.T) {
	e := start(t, nil, clusterObjects()...)
	ctx := t.Context()
	if _, err := e.cs.Services().Delete(ctx, "default", "web"); err != nil {
		t.Fatal(err)
	}
	// A service written after the delete: once the cache holds it, it
	// holds the delete too.
	e.sync(e.create(service("default", "marker-1", "10.96.1.1")), 0)
	for _, q := range []struct {
		name  string
		qtype uint16
	}{{"web.default.svc.cluster.local.", mdns.TypeA}, {"_http._tcp.web.default.svc.cluster.local.", mdns.TypeSRV}} {
		if err := negative(e.query("udp", q.name, q.qtype), mdns.RcodeNameError, zoneName); err != nil {
			t.Errorf("%s after delete: %v", q.name, err)
		}
	}
	if err := negative(e.query("udp", "10.0.96.10.in-addr.arpa.", mdns.TypePTR), mdns.RcodeNameError, "in-addr.arpa."); err != nil {
		t.Errorf("PTR of the deleted service: %v", err)
	}

	// db-1 turns not ready: its name and address go, the others stay.
	s, err := e.cs.EndpointSlices().Get(ctx, "default", "db-abc")
	if err != nil {
		t.Fatal(err)
	}
	s = s.DeepCopy()
	s.Endpoints[1].Conditions.Ready = ptr(false)
	s, err = e.cs.EndpointSlices().Update(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	e.sync(0, rv(t, s))
	if err := negative(e.query("tcp", "db-1.db.default.svc.cluster.local.", mdns.TypeA), mdns.RcodeNameError, zoneName); err != nil {
		t.Errorf("db-1 after not ready: %v", err)
	}
	got := answers(e.query("udp", "db.default.svc.cluster.local.", mdns.TypeA))
	if slices.ContainsFunc(got, func(s string) bool { return strings.HasSuffix(s, "10.1.0.2") }) || len(got) != 2 {
		t.Errorf("db after db-1 not ready: %v", got)
	}

	// No ready endpoint left: the headless name is NXDOMAIN (spec 2.4.1).
	for i := range s.Endpoints {
		s.Endpoints[i].Conditions.Ready = ptr(false)
	}
	if s, err = e.cs.EndpointSlices().Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := e.cs.EndpointSlices().DeleteNow(ctx, "default", "db-v6"); err != nil {
		t.Fatal(err)
	}
	e.sync(0, e.create(slice("default", "marker-2", "nothing", discovery.AddressTypeIPv4, nil)))
	if err := negative(e.query("udp", "db.default.svc.cluster.local.", mdns.TypeA), mdns.RcodeNameError, zoneName); err != nil {
		t.Errorf("db with no ready endpoint: %v", err)
	}
	// A new service appears.
	r := e.create(service("default", "late", "10.96.0.77"))
	e.sync(r, 0)
	if got := answers(e.query("udp", "late.default.svc.cluster.local.", mdns.TypeA)); len(got) != 1 || !strings.HasSuffix(got[0], "10.96.0.77") {
		t.Errorf("new service: %v", got)
	}
}
