package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/runtime"
)

// Defaults of Config and NodeConfig.
const (
	// DefaultClusterCIDR is the range node pod subnets are cut from.
	DefaultClusterCIDR = "10.244.0.0/16"
	// DefaultNodeMaskSize is the prefix length of each node's pod subnet.
	DefaultNodeMaskSize = 24
	// DefaultContainerdAddress is the containerd socket of real nodes.
	DefaultContainerdAddress = "/run/containerd/containerd.sock"
	// BridgePrefix starts the name of every bridge a node makes, so that
	// `setpoint cluster down` finds them after a crash.
	BridgePrefix = "spc"
	// NamespacePrefix starts the containerd namespace of every node.
	NamespacePrefix = "setpoint-"
	// DefaultClusterDomain is the DNS domain of Services and pods.
	DefaultClusterDomain = "cluster.local"
	// DefaultLoadBalancerPool is the range the service load balancer
	// hands LoadBalancer Services their addresses from.
	DefaultLoadBalancerPool = "10.255.255.0/24"
	// KubeconfigName is the admin kubeconfig's file name in DataDir.
	KubeconfigName = "admin.kubeconfig"
)

// Config configures a Server: the control plane and, optionally, nodes
// run in the same process. DataDir is required; every other field has a
// documented default.
type Config struct {
	// DataDir holds the embedded etcd (DataDir/etcd), the PKI
	// (DataDir/pki), the authorization rules, the admin kubeconfig and
	// each local node's state (DataDir/nodes/<name>).
	DataDir string
	// EtcdServers are external etcd client URLs; empty means an embedded
	// etcd in DataDir/etcd.
	EtcdServers []string
	// Listen is the apiserver's address (default apiserver.DefaultListen;
	// port 0 picks a free one, which Server.URL reports).
	Listen string
	// TLSSANs are extra IP addresses and DNS names of the apiserver's
	// serving certificate (see apiserver.Config.TLSSANs), as k3s's
	// --tls-san: the addresses clients reach the server at besides
	// loopback and localhost. Default none.
	TLSSANs []string
	// ExtraKinds are further API kinds the apiserver serves, after the
	// offers group (examples/offers) it always serves; see
	// apiserver.Config.ExtraKinds (for example hub.Kinds(), the
	// multi-cluster group, for a hub's parent). Default none.
	ExtraKinds []apiserver.ExtraKind
	// KubeconfigOut receives the admin kubeconfig once the apiserver
	// serves (default DataDir/admin.kubeconfig).
	KubeconfigOut string
	// AuthzFile is an extra rules file the apiserver consults before the
	// Node and RBAC authorizers (see apiserver.Config.AuthzFile). Default:
	// none, so that only system:masters may do everything and every
	// component is held to the RBAC roles Kubernetes binds to its
	// identity.
	AuthzFile string
	// Controllers chooses the controller-manager's controllers (default
	// every known one); see controllermanager.Config.Controllers.
	Controllers []string
	// ClusterCIDR is the range the controller-manager's node IPAM cuts
	// each node's pod subnet from (default DefaultClusterCIDR), as
	// kube-controller-manager's --cluster-cidr with --allocate-node-cidrs.
	ClusterCIDR string
	// NodeMaskSize is the prefix length of a node's pod subnet (default
	// DefaultNodeMaskSize).
	NodeMaskSize int
	// ServiceCIDR is the IPv4 range ClusterIPs come from (default
	// apiserver.DefaultServiceCIDR). Its first address is the kubernetes
	// Service's and its tenth the DNS's (the kube-dns Service in
	// kube-system), as in Kubernetes.
	ServiceCIDR string
	// ClusterDomain is the DNS domain the DNS serves and the kubelets
	// write in pods' search paths (default DefaultClusterDomain).
	ClusterDomain string
	// DNSListen is the address the cluster DNS serves on (UDP and TCP), the
	// endpoint of the kube-dns Service: pods reach it through the proxy's
	// rules for that Service's ClusterIP. Unless its address is loopback
	// or already an address of the host, the server puts it on a link
	// of its own (DNSLinkName, a bridge without ports) and removes the link when it stops.
	// Default: port 53 on a link-local address (169.254.100.0-169.254.199.255)
	// derived from DataDir, so clusters on one machine do not collide.
	DNSListen string
	// DNSUpstreams are the servers (host:port) the DNS forwards names
	// outside ClusterDomain to. Default none: such names are refused.
	DNSUpstreams []string
	// LoadBalancerPool is the IPv4 range the service load balancer gives
	// LoadBalancer Services their addresses from (default
	// DefaultLoadBalancerPool).
	LoadBalancerPool string
	// Nodes are nodes run in the same process, each a kubelet with its own
	// credentials, runtime, bridge and pod subnet (from node IPAM unless
	// its NodeConfig names one).
	Nodes []NodeConfig
	// EtcdNoFsync makes the embedded etcd skip fsync (tests only).
	EtcdNoFsync bool
	// EtcdLogLevel is the embedded etcd's log level (default "error").
	EtcdLogLevel string
	// MetricsResolution is how often the apiserver scrapes the kubelets
	// for the resource metrics API behind kubectl top (apiserver default
	// when zero); MetricsClock times the scrapes (default the real
	// clock), so that a test can advance it.
	MetricsResolution time.Duration
	MetricsClock      clockwork.Clock
	// LeaseDuration, RenewDeadline and RetryPeriod time the
	// controller-manager's leader election (controllermanager defaults
	// when zero).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// ComponentQPS and ComponentBurst limit the clients of the
	// controller-manager, the scheduler, the service load balancer and the DNS
	// (client defaults when zero; a negative ComponentQPS means no
	// limit), as kube-controller-manager's and kube-scheduler's
	// --kube-api-qps and --kube-api-burst, which large clusters raise.
	ComponentQPS   float64
	ComponentBurst int
	// Logger receives every component's logs, keyed by component. Default
	// discard.
	Logger *slog.Logger
}

// NodeConfig configures one node: a kubelet on a runtime. Name is
// required.
type NodeConfig struct {
	// Name is the Node's name, a DNS subdomain.
	Name string
	// Runtime, if set, runs the node's pods (runtime/fake for simulated
	// nodes). The node does not close it. nil means a containerd runtime
	// configured by Containerd.
	Runtime runtime.Runtime
	// Containerd configures the containerd runtime when Runtime is nil.
	Containerd ContainerdConfig
	// PodCIDR is the node's pod subnet, reported in its spec and used by
	// its bridge. Default: the one the controller-manager's node IPAM
	// writes to the Node's spec.podCIDR; a containerd node registers its
	// Node and waits for it before it starts its runtime.
	PodCIDR string
	// NodeIP is the node's InternalIP. Default: the first address of
	// PodCIDR for containerd nodes (the bridge's, which the host reaches),
	// none for nodes on a given Runtime.
	NodeIP string
	// Labels are added to the Node's labels.
	Labels map[string]string
	// SyncPeriod is the kubelet's sync period (kubelet default when zero).
	SyncPeriod time.Duration
	// NodeStatusCheckInterval is how often the kubelet computes the node
	// status (kubelet default when zero).
	NodeStatusCheckInterval time.Duration
	// ClusterDNS and ClusterDomain are the nameservers and domain the
	// kubelet writes into pods' resolv.conf (dnsPolicy ClusterFirst);
	// Server sets the kube-dns Service's ClusterIP and its ClusterDomain.
	ClusterDNS    []string
	ClusterDomain string
	// ClusterCIDR is the pod network, for the node proxy's masquerade
	// rules; Server sets its own.
	ClusterCIDR string
	// ProxyKubeconfig, if set, runs the node proxy (examples/proxy) on a
	// containerd node with these credentials (system:kube-proxy), in an
	// nftables table of its own named like the node's bridge. Server
	// fills it for its containerd nodes.
	ProxyKubeconfig []byte
	// Kubeconfig is the node's kubeconfig (credentials of
	// system:node:<Name>); Server fills it for its Nodes. Required by
	// NewNode.
	Kubeconfig []byte
	// Dir holds the node's files (runtime state, container logs); Server
	// sets DataDir/nodes/<Name>. Required for containerd nodes.
	Dir string
	// KubeletPort is the port of the kubelet's HTTPS API (logs, exec,
	// attach, port-forward, stats: what kubectl logs, exec and top reach
	// through the apiserver) on NodeIP. A containerd node serves it by
	// default on a free port (0), published in its Node's status
	// (daemonEndpoints.kubeletEndpoint), where the apiserver finds it;
	// -1 serves none. It trusts client certificates signed by the CA of
	// Kubeconfig's cluster (the apiserver's kubelet client certificate
	// is) and serves a self-signed certificate for its name and NodeIP,
	// as a Kubernetes kubelet without serverTLSBootstrap does. Nodes on a
	// given Runtime serve none (their NodeIP is not an address of the
	// host).
	KubeletPort int
	// Logger receives the node's logs; default discard.
	Logger *slog.Logger
	// Keep leaves the node's containers, bridge and files in place when
	// the node stops (a restarted node adopts them), as a kubelet restart
	// does. By default a stopped node removes everything it made.
	Keep bool
}

// ContainerdConfig configures a real node's containerd runtime.
type ContainerdConfig struct {
	// Address is the containerd socket (default DefaultContainerdAddress).
	Address string
	// Namespace is the containerd namespace of the node's containers
	// (default NamespacePrefix + the node name).
	Namespace string
	// StateDir and LogDir hold the runtime's state and the container logs
	// (defaults <dir>/state and <dir>/logs, where dir is the node's
	// directory).
	StateDir, LogDir string
	// Bridge is the node's bridge (default BridgeName(dir)).
	Bridge string
	// CNIBinDirs are searched for CNI plugins (runtime default when empty).
	CNIBinDirs []string
	// PullTimeout bounds an image pull (runtime default when zero).
	PullTimeout time.Duration
	// StopGrace is the grace StopSandbox gives containers (runtime
	// default when zero).
	StopGrace time.Duration
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("cluster: DataDir is required (etcd data, PKI and node state live there)")
	}
	if err := apiserver.CheckSANs(c.TLSSANs); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if c.ClusterCIDR != "" {
		if _, err := netip.ParsePrefix(c.ClusterCIDR); err != nil {
			return fmt.Errorf("cluster: ClusterCIDR %q: %v", c.ClusterCIDR, err)
		}
	}
	if c.MetricsResolution < 0 {
		return fmt.Errorf("cluster: MetricsResolution must not be negative, got %v", c.MetricsResolution)
	}
	if c.ComponentBurst < 0 {
		return fmt.Errorf("cluster: ComponentBurst must not be negative, got %d", c.ComponentBurst)
	}
	if c.NodeMaskSize < 0 || c.NodeMaskSize > 30 {
		return fmt.Errorf("cluster: NodeMaskSize must be 0-30, got %d", c.NodeMaskSize)
	}
	cc := c.withDefaults()
	if cp := netip.MustParsePrefix(cc.ClusterCIDR); !cp.Addr().Is4() || cc.NodeMaskSize < cp.Bits() {
		return fmt.Errorf("cluster: ClusterCIDR %s must be IPv4 and hold subnets of NodeMaskSize %d bits", cc.ClusterCIDR, cc.NodeMaskSize)
	}
	for _, f := range []struct{ name, v string }{{"ServiceCIDR", c.ServiceCIDR}, {"LoadBalancerPool", c.LoadBalancerPool}} {
		if f.v == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f.v); err != nil || !p.Addr().Is4() || p != p.Masked() || p.Bits() > 28 {
			return fmt.Errorf("cluster: %s %q is not an IPv4 network prefix of at least 16 addresses", f.name, f.v)
		}
	}
	if c.DNSListen != "" {
		if h, _, err := net.SplitHostPort(c.DNSListen); err != nil || net.ParseIP(h) == nil {
			return fmt.Errorf("cluster: DNSListen %q is not an IP address and port", c.DNSListen)
		}
	}
	if d := c.ClusterDomain; d != "" && (strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") || strings.Contains(d, " ")) {
		return fmt.Errorf("cluster: ClusterDomain %q must be a domain name without leading or trailing dot", d)
	}
	seen := map[string]bool{}
	for i := range c.Nodes {
		n := &c.Nodes[i]
		if seen[n.Name] {
			return fmt.Errorf("cluster: Nodes[%d]: duplicate node name %q", i, n.Name)
		}
		seen[n.Name] = true
		if err := n.Validate(); err != nil {
			return fmt.Errorf("cluster: Nodes[%d]: %w", i, err)
		}
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.ClusterCIDR == "" {
		c.ClusterCIDR = DefaultClusterCIDR
	}
	if c.NodeMaskSize == 0 {
		c.NodeMaskSize = DefaultNodeMaskSize
	}
	if c.ServiceCIDR == "" {
		c.ServiceCIDR = apiserver.DefaultServiceCIDR.String()
	}
	if c.ClusterDomain == "" {
		c.ClusterDomain = DefaultClusterDomain
	}
	if c.DNSListen == "" {
		c.DNSListen = net.JoinHostPort(defaultDNSAddress(c.DataDir), "53")
	}
	if c.LoadBalancerPool == "" {
		c.LoadBalancerPool = DefaultLoadBalancerPool
	}
	if c.KubeconfigOut == "" {
		c.KubeconfigOut = filepath.Join(c.DataDir, KubeconfigName)
	}
	if c.Listen == "" {
		c.Listen = apiserver.DefaultListen
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first invalid field of a node; it changes nothing.
func (n *NodeConfig) Validate() error {
	switch {
	case n.Name == "":
		return errors.New("node: Name is required")
	case len(n.Name) > 63:
		return fmt.Errorf("node %q: Name is longer than 63 characters", n.Name)
	case n.NodeIP != "" && net.ParseIP(n.NodeIP) == nil:
		return fmt.Errorf("node %q: NodeIP %q is not an IP address", n.Name, n.NodeIP)
	case len(n.Containerd.Bridge) > 15:
		return fmt.Errorf("node %q: Containerd.Bridge %q is longer than 15 characters", n.Name, n.Containerd.Bridge)
	case n.KubeletPort < -1 || n.KubeletPort > 65535:
		return fmt.Errorf("node %q: KubeletPort must be -1 (none), 0 (a free port) or a port number, got %d", n.Name, n.KubeletPort)
	case n.SyncPeriod < 0 || n.NodeStatusCheckInterval < 0:
		return fmt.Errorf("node %q: SyncPeriod and NodeStatusCheckInterval must not be negative", n.Name)
	}
	for _, f := range []struct{ name, v string }{{"PodCIDR", n.PodCIDR}, {"ClusterCIDR", n.ClusterCIDR}} {
		if f.v == "" {
			continue
		}
		if _, err := netip.ParsePrefix(f.v); err != nil {
			return fmt.Errorf("node %q: %s %q: %v", n.Name, f.name, f.v, err)
		}
	}
	for _, a := range n.ClusterDNS {
		if net.ParseIP(a) == nil {
			return fmt.Errorf("node %q: ClusterDNS %q is not an IP address", n.Name, a)
		}
	}
	for _, d := range []string{n.Containerd.StateDir, n.Containerd.LogDir} {
		if d != "" && !filepath.IsAbs(d) {
			return fmt.Errorf("node %q: Containerd.StateDir and LogDir must be absolute paths, got %q", n.Name, d)
		}
	}
	return nil
}

// firstAddr returns the first host address of cidr (the bridge gateway).
func firstAddr(cidr string) string {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return ""
	}
	return p.Masked().Addr().Next().String()
}

// BridgeName returns the bridge name of the node whose directory is dir:
// BridgePrefix and a hash of dir, short enough for a Linux device name,
// distinct for distinct clusters on one machine.
func BridgeName(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return BridgePrefix + hex.EncodeToString(sum[:4])
}

// DNSServiceIP returns the ClusterIP of the kube-dns Service in
// serviceCIDR: its tenth address, as kubeadm and k3s choose it
// (10.96.0.10 for 10.96.0.0/12).
func DNSServiceIP(serviceCIDR string) (netip.Addr, error) {
	p, err := netip.ParsePrefix(serviceCIDR)
	if err != nil || !p.Addr().Is4() || p.Bits() > 28 {
		return netip.Addr{}, fmt.Errorf("cluster: service CIDR %q is not an IPv4 prefix of at least 16 addresses", serviceCIDR)
	}
	b := p.Masked().Addr().As4()
	b[3] += 10 // the prefix holds at least 16 addresses, so no carry
	return netip.AddrFrom4(b), nil
}
