package dns

import (
	"net/netip"
	"slices"
	"testing"

	mdns "github.com/miekg/dns"
)

// TestReverse checks reverse names against the specification's examples
// (sections 2.3.3 and 2.4.3).
func TestReverse(t *testing.T) {
	for ip, want := range map[string]string{
		"10.3.0.1":    "1.0.3.10.in-addr.arpa.",
		"10.3.0.100":  "100.0.3.10.in-addr.arpa.",
		"2001:db8::1": "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
	} {
		if got := reverse(netip.MustParseAddr(ip)); got != want {
			t.Errorf("reverse(%s) = %s, want %s", ip, got, want)
		}
	}
}

// TestBuildZoneOrder: the records do not depend on the order the caches
// list objects in.
func TestBuildZoneOrder(t *testing.T) {
	in := testInput()
	dump := func(z *zone) []string {
		var out []string
		for name, n := range z.names {
			out = append(out, name)
			for _, rrs := range n.rrs {
				for _, rr := range rrs {
					out = append(out, rr.String())
				}
			}
			for _, rrs := range n.extra {
				for _, rr := range rrs {
					out = append(out, "extra "+rr.String())
				}
			}
		}
		slices.Sort(out)
		return out
	}
	a := dump(buildZone(in))
	slices.Reverse(in.services)
	slices.Reverse(in.slices)
	if b := dump(buildZone(in)); !slices.Equal(a, b) {
		t.Errorf("zone differs with reversed input:\n%v\n%v", a, b)
	}
	z := buildZone(in)
	want := []string{
		"db-0.db.default.svc.cluster.local.\t30\tIN\tA\t10.1.0.1",
	}
	var got []string
	for _, rr := range z.names["db-0.db.default.svc.cluster.local."].rrs[mdns.TypeA] {
		got = append(got, rr.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("db-0: %v", got)
	}
}
