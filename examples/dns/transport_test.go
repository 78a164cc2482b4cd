package dns

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/store"
)

// bigService is a headless service with n ready endpoints: its A answer
// is n*16 bytes of records, more than fits in 512 bytes for n = 100.
func bigService(n int) []store.Object {
	var eps []ep
	for i := range n {
		eps = append(eps, ep{addr: fmt.Sprintf("10.2.%d.%d", i/250, i%250+1), ready: ptr(true)})
	}
	return []store.Object{
		service("default", "big", api.ClusterIPNone),
		slice("default", "big-1", "big", discovery.AddressTypeIPv4, nil, eps...),
	}
}

// TestTruncation: an answer longer than the UDP limit comes truncated
// (TC, whole records only); the same query over TCP has every record.
func TestTruncation(t *testing.T) {
	e := start(t, nil, bigService(100)...)
	const name = "big.default.svc.cluster.local."
	m := e.query("udp", name, mdns.TypeA)
	if !m.Truncated || len(m.Answer) >= 100 {
		t.Fatalf("UDP without EDNS0: TC %v, %d records; want truncated", m.Truncated, len(m.Answer))
	}
	m.Compress = true // Len of the wire form, which is compressed
	if n := m.Len(); n > mdns.MinMsgSize {
		t.Errorf("UDP answer is %d bytes, over 512", n)
	}
	full := e.query("tcp", name, mdns.TypeA)
	if full.Truncated || len(full.Answer) != 100 {
		t.Fatalf("TCP: TC %v, %d records; want 100", full.Truncated, len(full.Answer))
	}
	// EDNS0 with 4096 bytes: capped at the server's 1232, so the 100
	// records (about 1.6 kB) still do not fit; 1232 is honoured.
	q := new(mdns.Msg)
	q.SetQuestion(name, mdns.TypeA)
	q.SetEdns0(4096, false)
	m = e.exchange("udp", q)
	m.Compress = true
	opt := m.IsEdns0()
	if opt == nil || opt.UDPSize() != DefaultUDPSize || opt.Version() != 0 {
		t.Fatalf("EDNS0 response OPT: %v", opt)
	}
	if !m.Truncated || m.Len() > DefaultUDPSize || len(m.Answer) <= 30 {
		t.Errorf("EDNS0 4096: TC %v, %d bytes, %d records; want truncated within 1232 bytes", m.Truncated, m.Len(), len(m.Answer))
	}
	// A small answer fits: no TC.
	e2 := start(t, func(c *Config) { c.UDPSize = 4096 }, bigService(100)...)
	m = e2.exchange("udp", q)
	if m.Truncated || len(m.Answer) != 100 {
		t.Errorf("UDPSize 4096, EDNS0 4096: TC %v, %d records; want all 100", m.Truncated, len(m.Answer))
	}
}

// rawUDP sends b to the server and returns the parsed response.
func rawUDP(t *testing.T, addr string, b []byte) *mdns.Msg {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	m := new(mdns.Msg)
	if err := m.Unpack(buf[:n]); err != nil {
		t.Fatalf("response does not parse: %v", err)
	}
	return m
}

// TestBadInput sends malformed and unsupported queries: each gets the DNS
// error code for it, and the server keeps answering.
func TestBadInput(t *testing.T) {
	e := start(t, nil, clusterObjects()...)
	good := new(mdns.Msg)
	good.SetQuestion("web.default.svc.cluster.local.", mdns.TypeA)
	good.Id = 4242
	wire, err := good.Pack()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("opcodes", func(t *testing.T) {
		for _, op := range []int{mdns.OpcodeNotify, mdns.OpcodeUpdate, mdns.OpcodeStatus, mdns.OpcodeIQuery} {
			q := good.Copy()
			q.Opcode = op
			m := e.exchange("udp", q)
			if m.Rcode != mdns.RcodeNotImplemented || len(m.Answer) != 0 {
				t.Errorf("opcode %s: rcode %s, want NOTIMP", mdns.OpcodeToString[op], mdns.RcodeToString[m.Rcode])
			}
		}
	})
	t.Run("formerr", func(t *testing.T) {
		twoQ := append([]byte(nil), wire...)
		binary.BigEndian.PutUint16(twoQ[4:], 2) // QDCOUNT 2, one question present
		noQ := append([]byte(nil), wire[:12]...)
		binary.BigEndian.PutUint16(noQ[4:], 0)
		cut := append([]byte(nil), wire[:len(wire)-3]...) // question cut short
		badLabel := append([]byte(nil), wire...)
		badLabel[12] = 0xC0 // a compression pointer to itself
		badLabel[13] = 12
		for name, b := range map[string][]byte{"two questions": twoQ, "no question": noQ, "cut": cut, "pointer loop": badLabel} {
			m := rawUDP(t, e.srv.Addr(), b)
			if m.Rcode != mdns.RcodeFormatError || m.Id != 4242 || !m.Response {
				t.Errorf("%s: rcode %s id %d; want FORMERR for id 4242", name, mdns.RcodeToString[m.Rcode], m.Id)
			}
		}
	})
	t.Run("edns version", func(t *testing.T) {
		q := good.Copy()
		q.SetEdns0(1232, false)
		q.IsEdns0().SetVersion(1)
		m := e.exchange("udp", q)
		if m.Rcode != mdns.RcodeBadVers || len(m.Answer) != 0 || m.IsEdns0() == nil {
			t.Errorf("EDNS version 1: rcode %s; want BADVERS with OPT", mdns.RcodeToString[m.Rcode])
		}
	})
	t.Run("class and transfers", func(t *testing.T) {
		q := good.Copy()
		q.Question[0].Qclass = mdns.ClassCHAOS
		if m := e.exchange("udp", q); m.Rcode != mdns.RcodeRefused {
			t.Errorf("class CH: %s, want REFUSED", mdns.RcodeToString[m.Rcode])
		}
		for _, qt := range []uint16{mdns.TypeAXFR, mdns.TypeIXFR} {
			if m := e.query("tcp", zoneName, qt); m.Rcode != mdns.RcodeRefused || len(m.Answer) != 0 {
				t.Errorf("%s: %s, want REFUSED", mdns.TypeToString[qt], mdns.RcodeToString[m.Rcode])
			}
		}
	})
	t.Run("oversize", func(t *testing.T) {
		// A query padded (RFC 7830) to 3 kB on UDP and 60 kB on TCP is
		// read whole and answered.
		for netw, pad := range map[string]int{"udp": 3000, "tcp": 60000} {
			q := good.Copy()
			q.SetEdns0(1232, false)
			q.IsEdns0().Option = append(q.IsEdns0().Option, &mdns.EDNS0_PADDING{Padding: make([]byte, pad)})
			m := e.exchange(netw, q)
			if m.Rcode != mdns.RcodeSuccess || len(m.Answer) != 1 {
				t.Errorf("%s query of %d bytes: %s", netw, q.Len(), m)
			}
		}
		// A name longer than 255 octets cannot be sent: FORMERR.
		long := append([]byte(nil), wire[:12]...)
		for range 5 {
			long = append(long, 63)
			long = append(long, []byte(strings.Repeat("a", 63))...)
		}
		long = append(long, 0, 0, 1, 0, 1)
		if m := rawUDP(t, e.srv.Addr(), long); m.Rcode != mdns.RcodeFormatError {
			t.Errorf("name of 320 octets: %s, want FORMERR", mdns.RcodeToString[m.Rcode])
		}
	})
	// Still serving.
	if m := e.exchange("udp", good); m.Rcode != mdns.RcodeSuccess || len(m.Answer) != 1 {
		t.Errorf("after bad input: %s", m)
	}
}

// TestForward: with upstreams, names outside the cluster go to them, and
// an ExternalName's CNAME target is resolved through them.
func TestForward(t *testing.T) {
	up := upstream(t, map[string]string{"example.org.": "192.0.2.1", "www.example.com.": "192.0.2.2"})
	e := start(t, func(c *Config) {
		c.Upstreams = []string{"127.0.0.1:1" /* nothing there */, up}
		c.UpstreamTimeout = 2 * time.Second
	}, clusterObjects()...)
	for _, netw := range []string{"udp", "tcp"} {
		m := e.query(netw, "example.org.", mdns.TypeA)
		if got := answers(m); m.Rcode != mdns.RcodeSuccess || len(got) != 1 || got[0] != "example.org.\t60\tIN\tA\t192.0.2.1" || m.Authoritative {
			t.Errorf("%s forwarded: %s", netw, m)
		}
		m = e.query(netw, "missing.example.org.", mdns.TypeA)
		if m.Rcode != mdns.RcodeNameError {
			t.Errorf("%s forwarded NXDOMAIN: %s", netw, m)
		}
		m = e.query(netw, "ext.default.svc.cluster.local.", mdns.TypeA)
		want := []string{"ext.default.svc.cluster.local.\t30\tIN\tCNAME\twww.example.com.", "www.example.com.\t60\tIN\tA\t192.0.2.2"}
		if got := answers(m); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("%s ExternalName chased: %v", netw, got)
		}
	}
	// Unknown reverse names go upstream too (which says NXDOMAIN).
	if m := e.query("udp", "9.9.9.9.in-addr.arpa.", mdns.TypePTR); m.Rcode != mdns.RcodeNameError || m.Authoritative {
		t.Errorf("reverse forwarded: %s", m)
	}
	if v := testutil.ToFloat64(e.srv.metrics.forwards.WithLabelValues("error")); v < 1 {
		t.Errorf("forward errors counted %v, want >= 1 (the dead upstream)", v)
	}
}

// upstream runs a DNS server on loopback UDP and TCP answering A records
// from recs (TTL 60), NXDOMAIN for other names.
func upstream(t *testing.T, recs map[string]string) string {
	t.Helper()
	h := mdns.HandlerFunc(func(w mdns.ResponseWriter, r *mdns.Msg) {
		m := new(mdns.Msg)
		m.SetReply(r)
		if ip, ok := recs[strings.ToLower(r.Question[0].Name)]; ok && r.Question[0].Qtype == mdns.TypeA {
			rr, _ := mdns.NewRR(r.Question[0].Name + " 60 IN A " + ip)
			m.Answer = append(m.Answer, rr)
		} else if !ok {
			m.Rcode = mdns.RcodeNameError
		}
		w.WriteMsg(m)
	})
	pc, ln, err := listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*mdns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		go s.ActivateAndServe()
		t.Cleanup(func() { s.Shutdown() })
	}
	return ln.Addr().String()
}

// TestMetricsAndHealth: queries are counted by type and rcode; /readyz
// says 503 until the server serves.
func TestMetricsAndHealth(t *testing.T) {
	e := start(t, nil, clusterObjects()...)
	e.query("udp", "web.default.svc.cluster.local.", mdns.TypeA)
	e.query("tcp", "web.default.svc.cluster.local.", mdns.TypeA)
	e.query("udp", "missing.default.svc.cluster.local.", mdns.TypeAAAA)
	// The server counts a query after writing its answer: wait (bounded)
	// until the last one is counted.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if testutil.ToFloat64(e.srv.metrics.queries.WithLabelValues("AAAA", "NXDOMAIN")) == 1 && testutil.CollectAndCount(e.srv.metrics.duration) == 2 {
			break
		}
	}
	if v := testutil.ToFloat64(e.srv.metrics.queries.WithLabelValues("A", "NOERROR")); v != 2 {
		t.Errorf("A NOERROR counted %v, want 2", v)
	}
	if v := testutil.ToFloat64(e.srv.metrics.queries.WithLabelValues("AAAA", "NXDOMAIN")); v != 1 {
		t.Errorf("AAAA NXDOMAIN counted %v, want 1", v)
	}
	if n := testutil.CollectAndCount(e.srv.metrics.duration); n != 2 {
		t.Errorf("latency histograms %d, want 2 (udp, tcp)", n)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("%s: %d", path, rec.Code)
		}
	}
	// A server that has not run is not ready.
	idle, err := New(Config{Client: e.cs})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	idle.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before Run: %d, want 503", rec.Code)
	}
}
