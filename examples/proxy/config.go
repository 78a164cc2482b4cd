package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/client"
)

// Mode is how the proxy programs the node.
type Mode string

// The modes. IPVS is left out: it needs the ip_vs kernel module, which the
// kernels this project runs on lack.
const (
	// ModeNFTables programs one nftables table of the proxy's own.
	ModeNFTables Mode = "nftables"
	// ModeIPTables programs chains of the proxy's own through
	// iptables-restore, for hosts without nftables.
	ModeIPTables Mode = "iptables"
)

// Defaults of Config. Kubernetes' kube-proxy uses the same minimum sync
// period (1s) for its nftables mode; its full-resync period is longer, we
// recheck every 30s.
const (
	DefaultMinSyncPeriod = time.Second
	DefaultSyncPeriod    = 30 * time.Second
	DefaultTableName     = "setpoint-proxy"
	// DefaultMasqueradeBit is the packet-mark bit that asks for masquerade
	// (kube-proxy's default bit 14).
	DefaultMasqueradeBit = 14
)

// Config configures a Proxy. Client and NodeName are required; every other
// field has a documented default.
type Config struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// NodeName is this node's name, for the Local traffic policies.
	NodeName string
	// Mode is the backend. Default ModeNFTables.
	Mode Mode
	// TableName is the nftables table the proxy owns (family ip). Default
	// DefaultTableName. Nothing outside this table is touched. In
	// ModeIPTables it names the proxy's chains instead: they start with
	// "SP" and four characters of the name's hash.
	TableName string
	// ClusterCIDR is the pod network. Traffic to a ClusterIP from outside
	// it is masqueraded. Zero: never masquerade ClusterIP traffic on that
	// ground (kube-proxy's behaviour without --cluster-cidr).
	ClusterCIDR netip.Prefix
	// IPv6, if set, also programs the IPv6 half of services (spec.clusterIPs
	// of family IPv6, IPv6 EndpointSlices, IPv6 external IPs): an nftables
	// table of family ip6 with the same name, or ip6tables chains. Default
	// false: IPv4 only.
	IPv6 bool
	// ClusterCIDR6 is the IPv6 pod network, used as ClusterCIDR is for
	// IPv4 (only with IPv6).
	ClusterCIDR6 netip.Prefix
	// NodePortAddresses limits NodePorts to these prefixes of the node's
	// addresses. Empty: every local address (kube-proxy's default).
	NodePortAddresses []netip.Prefix
	// MasqueradeBit is the packet-mark bit used to request masquerade,
	// 0..31. Default DefaultMasqueradeBit (use -1 for bit 0).
	MasqueradeBit int
	// MinSyncPeriod is the least time between two syncs; changes arriving
	// sooner are batched into the next one. Default DefaultMinSyncPeriod;
	// negative means no batching.
	MinSyncPeriod time.Duration
	// SyncPeriod is how often the rules are resynced even without a change.
	// Default DefaultSyncPeriod.
	SyncPeriod time.Duration
	// NetNS, if set, is the path of the network namespace to program (for
	// example /run/netns/node1); empty is the process's own. Tests and
	// benchmarks use it to keep their rules inside a namespace they made.
	NetNS string
	// Clock times the batching. Default the real clock.
	Clock clockwork.Clock
	// Logger receives the logs. Default discard.
	Logger *slog.Logger
	// Registerer, if set, receives the sync metrics.
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("proxy: Client is required")
	case c.NodeName == "":
		return errors.New("proxy: NodeName is required")
	case c.Mode != "" && c.Mode != ModeNFTables && c.Mode != ModeIPTables:
		return fmt.Errorf("proxy: Mode %q is not supported (want %q or %q)", c.Mode, ModeNFTables, ModeIPTables)
	case c.MasqueradeBit < -1 || c.MasqueradeBit > 31:
		return fmt.Errorf("proxy: MasqueradeBit %d is out of range 0..31", c.MasqueradeBit)
	case c.SyncPeriod < 0:
		return fmt.Errorf("proxy: SyncPeriod %v is negative", c.SyncPeriod)
	case c.ClusterCIDR.IsValid() && !c.ClusterCIDR.Addr().Is4():
		return fmt.Errorf("proxy: ClusterCIDR %v is not IPv4 (ClusterCIDR6 takes the IPv6 one)", c.ClusterCIDR)
	case c.ClusterCIDR6.IsValid() && (!c.ClusterCIDR6.Addr().Is6() || !c.IPv6):
		return fmt.Errorf("proxy: ClusterCIDR6 %v needs IPv6 set and an IPv6 prefix", c.ClusterCIDR6)
	}
	for i, p := range c.NodePortAddresses {
		if !p.IsValid() || (p.Addr().Is6() && !c.IPv6) {
			return fmt.Errorf("proxy: NodePortAddresses[%d] %v is not an IPv4 prefix (IPv6 ones need IPv6 set)", i, p)
		}
	}
	return nil
}

func (c *Config) setDefaults() {
	if c.Mode == "" {
		c.Mode = ModeNFTables
	}
	if c.TableName == "" {
		c.TableName = DefaultTableName
	}
	switch c.MasqueradeBit {
	case 0:
		c.MasqueradeBit = DefaultMasqueradeBit
	case -1:
		c.MasqueradeBit = 0
	}
	switch {
	case c.MinSyncPeriod == 0:
		c.MinSyncPeriod = DefaultMinSyncPeriod
	case c.MinSyncPeriod < 0:
		c.MinSyncPeriod = 0
	}
	if c.SyncPeriod == 0 {
		c.SyncPeriod = DefaultSyncPeriod
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// clusterCIDR returns the pod network of the family (invalid if unset).
func (c *Config) clusterCIDR(v6 bool) netip.Prefix {
	if v6 {
		return c.ClusterCIDR6
	}
	return c.ClusterCIDR
}

// nodePortPrefixes returns the NodePortAddresses of the family, and
// whether NodePorts are served in that family at all (NodePortAddresses
// empty: on every local address).
func (c *Config) nodePortPrefixes(v6 bool) ([]netip.Prefix, bool) {
	if len(c.NodePortAddresses) == 0 {
		return nil, true
	}
	var out []netip.Prefix
	for _, p := range c.NodePortAddresses {
		if p.Addr().Is6() == v6 {
			out = append(out, p)
		}
	}
	return out, len(out) > 0
}
