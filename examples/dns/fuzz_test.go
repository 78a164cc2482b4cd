package dns

import (
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
)

// offline returns a server that answers from a zone built from objs,
// without an apiserver or sockets (for the fuzz and stress tests).
func offline(t testing.TB, in zoneInput) *Server {
	t.Helper()
	m, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: Config{UDPSize: DefaultUDPSize, UpstreamTimeout: DefaultUpstreamTimeout},
		log: slog.New(slog.DiscardHandler), metrics: m}
	s.zone.Store(buildZone(in))
	return s
}

func testInput() zoneInput {
	in := zoneInput{domain: zoneName, ttl: 30, serial: 1, nsSvc: [2]string{"kube-system", "kube-dns"}}
	for _, o := range clusterObjects() {
		switch o := o.(type) {
		case *api.Service:
			in.services = append(in.services, o)
		case *discovery.EndpointSlice:
			in.slices = append(in.slices, o)
		}
	}
	return in
}

// FuzzReply feeds arbitrary messages to the query handler: it never
// panics, and every response packs, carries the query's id, is a response,
// has a DNS error code the package documents, and fits the transport.
func FuzzReply(f *testing.F) {
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"web.default.svc.cluster.local.", mdns.TypeA}, {"_pg._tcp.db.default.svc.cluster.local.", mdns.TypeSRV},
		{"1.0.1.10.in-addr.arpa.", mdns.TypePTR}, {"missing.default.svc.cluster.local.", mdns.TypeAAAA},
		{"ext.default.svc.cluster.local.", mdns.TypeA}, {"cluster.local.", mdns.TypeANY}, {"example.org.", mdns.TypeMX},
	} {
		m := new(mdns.Msg)
		m.SetQuestion(q.name, q.qtype)
		b, _ := m.Pack()
		f.Add(b)
		m.SetEdns0(4096, true)
		b, _ = m.Pack()
		f.Add(b)
		m.Opcode = mdns.OpcodeUpdate
		b, _ = m.Pack()
		f.Add(b)
	}
	f.Add([]byte{0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0})
	s := offline(f, testInput())
	allowed := []int{mdns.RcodeSuccess, mdns.RcodeNameError, mdns.RcodeFormatError, mdns.RcodeNotImplemented,
		mdns.RcodeRefused, mdns.RcodeBadVers}
	f.Fuzz(func(t *testing.T, data []byte) {
		q := new(mdns.Msg)
		if q.Unpack(data) != nil {
			return // miekg/dns's server answers FORMERR itself (TestBadInput)
		}
		for _, udp := range []bool{true, false} {
			resp := s.reply(q, udp)
			b, err := resp.Pack()
			if err != nil {
				t.Fatalf("response to %v does not pack: %v", q, err)
			}
			if resp.Id != q.Id || !resp.Response || !slices.Contains(allowed, resp.Rcode) {
				t.Fatalf("response id %d (query %d), QR %v, rcode %d", resp.Id, q.Id, resp.Response, resp.Rcode)
			}
			limit := mdns.MaxMsgSize
			if udp {
				limit = DefaultUDPSize
				if q.IsEdns0() == nil {
					limit = mdns.MinMsgSize
				}
			}
			if len(b) > limit {
				t.Fatalf("udp %v: response of %d bytes over %d", udp, len(b), limit)
			}
			if err := new(mdns.Msg).Unpack(b); err != nil {
				t.Fatalf("response does not parse: %v", err)
			}
		}
	})
}

// TestSnapshotStress answers queries from many goroutines while the zone
// is swapped between two states: every answer is wholly one state or the
// other, never a mix (run with -race).
func TestSnapshotStress(t *testing.T) {
	mk := func(addrs ...string) zoneInput {
		in := zoneInput{domain: zoneName, ttl: 30}
		in.services = append(in.services, service("default", "db", api.ClusterIPNone))
		var eps []ep
		for _, a := range addrs {
			eps = append(eps, ep{addr: a, ready: ptr(true)})
		}
		in.slices = append(in.slices, slice("default", "s", "db", discovery.AddressTypeIPv4, nil, eps...))
		return in
	}
	states := []zoneInput{mk("10.0.0.1", "10.0.0.2", "10.0.0.3"), mk("10.0.1.1", "10.0.1.2")}
	want := []string{"10.0.0.1,10.0.0.2,10.0.0.3", "10.0.1.1,10.0.1.2"}
	s := offline(t, states[0])
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 400; i++ {
			s.zone.Store(buildZone(states[i%2]))
		}
		stop.Store(true)
	}()
	var bad atomic.Int64
	var answered atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := new(mdns.Msg)
			q.SetQuestion("db.default.svc.cluster.local.", mdns.TypeA)
			for !stop.Load() {
				m := s.reply(q, true)
				var got []string
				for _, rr := range m.Answer {
					got = append(got, rr.(*mdns.A).A.String())
				}
				if g := strings.Join(got, ","); g != want[0] && g != want[1] {
					bad.Add(1)
				}
				if _, err := m.Pack(); err != nil {
					bad.Add(1)
				}
				answered.Add(1)
			}
		}()
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d of %d answers mixed two snapshots or did not pack", bad.Load(), answered.Load())
	}
	if answered.Load() == 0 {
		t.Fatal("no query answered")
	}
}
