package runtime

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// DNSConfig is a sandbox's DNS resolver configuration, written as its
// containers' /etc/resolv.conf.
type DNSConfig struct {
	// Servers are the name servers' IP addresses (at most 3 are used by
	// the C library).
	Servers []string
	// Searches are the search domains.
	Searches []string
	// Options are resolver options, for example "ndots:5".
	Options []string
}

// Protocol is a port mapping's transport protocol.
type Protocol string

// The protocols a port mapping may use.
const (
	TCP  Protocol = "TCP"
	UDP  Protocol = "UDP"
	SCTP Protocol = "SCTP"
)

// PortMapping forwards a port of the node to a port of a sandbox: packets
// to HostPort on the node (on HostIP, or on any of its addresses) go to
// ContainerPort at the sandbox's IP.
type PortMapping struct {
	// Protocol is TCP (the default when empty), UDP or SCTP.
	Protocol Protocol
	// ContainerPort is the sandbox's port, 1..65535.
	ContainerPort uint16
	// HostPort is the node's port, 1..65535.
	HostPort uint16
	// HostIP, when set, limits the mapping to that node address.
	HostIP string
}

// Proto returns the mapping's protocol, TCP when empty.
func (p PortMapping) Proto() Protocol {
	if p.Protocol == "" {
		return TCP
	}
	return p.Protocol
}

// Key identifies the node side of the mapping: protocol, host IP and host
// port. Two mappings with the same key cannot coexist on a node.
func (p PortMapping) Key() string {
	return fmt.Sprintf("%s/%s:%d", p.Proto(), p.HostIP, p.HostPort)
}

// Conflicts reports whether p and q claim the same node port: the same
// protocol and port, and the same host IP or either on every address.
func (p PortMapping) Conflicts(q PortMapping) bool {
	return p.Proto() == q.Proto() && p.HostPort == q.HostPort && (p.HostIP == "" || q.HostIP == "" || p.HostIP == q.HostIP)
}

func checkNetwork(cfg SandboxConfig) error {
	if d := cfg.DNS; d != nil {
		if len(d.Servers) == 0 && len(d.Searches) == 0 && len(d.Options) == 0 {
			return fieldErr("dns", "", "is empty; leave it unset for the node's resolver configuration")
		}
		for i, s := range d.Servers {
			if net.ParseIP(s) == nil {
				return fieldErr(fmt.Sprintf("dns.servers[%d]", i), s, "is not an IP address")
			}
		}
		if len(d.Searches) > 32 {
			return fieldErr("dns.searches", strconv.Itoa(len(d.Searches)), "must be at most 32 domains")
		}
		for i, s := range d.Searches {
			if err := checkDNS(fmt.Sprintf("dns.searches[%d]", i), strings.TrimSuffix(s, "."), 253, true); err != nil {
				return err
			}
		}
		for i, o := range d.Options {
			if o == "" || strings.ContainsFunc(o, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
				return fieldErr(fmt.Sprintf("dns.options[%d]", i), o, "must be a non-empty word")
			}
		}
	}
	for i, p := range cfg.PortMappings {
		f := func(name string) string { return fmt.Sprintf("portMappings[%d].%s", i, name) }
		switch p.Protocol {
		case "", TCP, UDP, SCTP:
		default:
			return fieldErr(f("protocol"), string(p.Protocol), "must be TCP, UDP or SCTP")
		}
		if p.ContainerPort == 0 {
			return fieldErr(f("containerPort"), "0", "must be between 1 and 65535")
		}
		if p.HostPort == 0 {
			return fieldErr(f("hostPort"), "0", "must be between 1 and 65535")
		}
		if p.HostIP != "" && net.ParseIP(p.HostIP) == nil {
			return fieldErr(f("hostIP"), p.HostIP, "is not an IP address")
		}
		if cfg.HostNetwork && p.HostPort != p.ContainerPort {
			return fieldErr(f("hostPort"), strconv.Itoa(int(p.HostPort)), "must equal containerPort in a host-network sandbox")
		}
		for j := 0; j < i; j++ {
			if p.Conflicts(cfg.PortMappings[j]) {
				return fieldErr(f("hostPort"), strconv.Itoa(int(p.HostPort)), fmt.Sprintf("is also claimed by portMappings[%d]", j))
			}
		}
	}
	return nil
}
