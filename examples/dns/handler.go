package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// ServeDNS answers one query; it implements miekg/dns's Handler, so the
// server can also be mounted in another miekg/dns server. Queries are
// answered from the current snapshot of the cluster's records; names
// outside the cluster domain go to the upstreams, if any are configured.
func (s *Server) ServeDNS(w mdns.ResponseWriter, r *mdns.Msg) {
	start := time.Now()
	_, udp := w.RemoteAddr().(*net.UDPAddr)
	m := s.reply(r, udp)
	if err := w.WriteMsg(m); err != nil {
		s.log.Debug("dns: write response", "err", err, "client", w.RemoteAddr().String())
	}
	proto := "tcp"
	if udp {
		proto = "udp"
	}
	s.metrics.observe(r, m, proto, time.Since(start))
}

// reply computes the response to r for a client on UDP (udp) or TCP.
func (s *Server) reply(r *mdns.Msg, udp bool) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetReply(r)
	m.RecursionAvailable = len(s.cfg.Upstreams) > 0
	switch {
	case r.Opcode != mdns.OpcodeQuery:
		m.Opcode = r.Opcode
		m.Rcode = mdns.RcodeNotImplemented
		return m
	case len(r.Question) != 1 || r.Response:
		m.Rcode = mdns.RcodeFormatError
		return m
	}
	size := mdns.MinMsgSize
	opt := r.IsEdns0()
	if opt != nil {
		if opt.Version() != 0 {
			// RFC 6891 6.1.3: answer BADVERS with our OPT and nothing else.
			m.SetEdns0(uint16(s.cfg.UDPSize), false)
			m.Rcode = mdns.RcodeBadVers
			return m
		}
		size = max(mdns.MinMsgSize, min(int(opt.UDPSize()), s.cfg.UDPSize))
	}
	if !udp {
		size = mdns.MaxMsgSize
	}
	s.answer(m, r)
	if opt != nil && m.IsEdns0() == nil {
		m.SetEdns0(uint16(s.cfg.UDPSize), false)
	}
	m.Compress = true
	m.Truncate(size)
	return m
}

// answer fills m, the reply to r (one question, opcode QUERY).
func (s *Server) answer(m, r *mdns.Msg) {
	q := r.Question[0]
	if q.Qclass != mdns.ClassINET && q.Qclass != mdns.ClassANY {
		m.Rcode = mdns.RcodeRefused
		return
	}
	if q.Qtype == mdns.TypeAXFR || q.Qtype == mdns.TypeIXFR {
		m.Rcode = mdns.RcodeRefused // no zone transfers
		return
	}
	z := s.zone.Load()
	if z == nil {
		m.Rcode = mdns.RcodeServerFailure // not synced yet (Run serves only after)
		return
	}
	name := strings.ToLower(q.Name)
	n := z.names[name]
	switch {
	case n != nil:
		m.Authoritative = true
		s.fromNode(m, z, n, name, q.Qtype)
	case z.inZone(name):
		m.Authoritative = true
		m.Rcode = mdns.RcodeNameError
		m.Ns = []mdns.RR{z.soa}
	case len(s.cfg.Upstreams) > 0:
		s.forward(m, r)
	case z.reverseSOA(name) != nil:
		// A reverse name of no service or endpoint, and nowhere to ask.
		m.Authoritative = true
		m.Rcode = mdns.RcodeNameError
		m.Ns = []mdns.RR{z.reverseSOA(name)}
	default:
		m.Rcode = mdns.RcodeRefused // not our zone and no forwarding
	}
}

// fromNode answers from a name that exists: its records of the type, a
// CNAME (followed inside the cluster or through the upstreams), or NODATA
// (NOERROR, no answer, the SOA in authority).
func (s *Server) fromNode(m *mdns.Msg, z *zone, n *node, name string, qtype uint16) {
	if c := n.rrs[mdns.TypeCNAME]; len(c) > 0 && qtype != mdns.TypeCNAME && qtype != mdns.TypeANY {
		m.Answer = c
		target := c[0].(*mdns.CNAME).Target
		if t := z.names[target]; t != nil {
			m.Answer = append(m.Answer, t.rrs[qtype]...)
		} else if !z.inZone(target) && len(s.cfg.Upstreams) > 0 {
			q := new(mdns.Msg)
			q.SetQuestion(target, qtype)
			q.RecursionDesired = true
			if resp, err := s.exchange(q); err == nil && resp.Rcode == mdns.RcodeSuccess {
				m.Answer = append(m.Answer, resp.Answer...)
			}
		}
		return
	}
	if qtype == mdns.TypeANY {
		for _, rrs := range n.rrs {
			m.Answer = append(m.Answer, rrs...)
		}
	} else {
		m.Answer = n.rrs[qtype]
		m.Extra = n.extra[qtype]
	}
	if len(m.Answer) == 0 {
		soa := z.soa
		if !z.inZone(name) {
			soa = z.reverseSOA(name)
		}
		if soa != nil {
			m.Ns = []mdns.RR{soa}
		}
	}
}

// forward asks the upstreams r's question and copies the answer into m;
// SERVFAIL when none answers.
func (s *Server) forward(m, r *mdns.Msg) {
	resp, err := s.exchange(r)
	if err != nil {
		s.log.Debug("dns: forward failed", "name", r.Question[0].Name, "err", err)
		m.Rcode = mdns.RcodeServerFailure
		return
	}
	m.Rcode = resp.Rcode
	m.Authoritative = false
	m.Answer, m.Ns = resp.Answer, resp.Ns
	for _, rr := range resp.Extra {
		if rr.Header().Rrtype != mdns.TypeOPT {
			m.Extra = append(m.Extra, rr)
		}
	}
	s.metrics.forwards.WithLabelValues(mdns.RcodeToString[resp.Rcode]).Inc()
}

// exchange sends q to each upstream in order until one answers, over UDP
// and again over TCP when the UDP answer was truncated.
func (s *Server) exchange(q *mdns.Msg) (*mdns.Msg, error) {
	var errs []error
	for _, up := range s.cfg.Upstreams {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.UpstreamTimeout)
		c := &mdns.Client{Net: "udp", UDPSize: uint16(s.cfg.UDPSize)}
		resp, _, err := c.ExchangeContext(ctx, q, up)
		if err == nil && resp.Truncated {
			c.Net = "tcp"
			resp, _, err = c.ExchangeContext(ctx, q, up)
		}
		cancel()
		if err == nil {
			return resp, nil
		}
		s.metrics.forwards.WithLabelValues("error").Inc()
		errs = append(errs, fmt.Errorf("upstream %s: %w", up, err))
	}
	if len(errs) == 0 {
		return nil, errors.New("no upstream configured")
	}
	return nil, errors.Join(errs...)
}
