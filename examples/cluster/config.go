package cluster

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"time"

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
	// KubeconfigOut receives the admin kubeconfig once the apiserver
	// serves (default DataDir/admin.kubeconfig).
	KubeconfigOut string
	// AuthzFile is the apiserver's rules file. Default: a file written to
	// DataDir/authz.json that lets system:masters, the controller-manager,
	// the scheduler and the system:nodes group do everything (until RBAC
	// and node authorization land; see doc.go).
	AuthzFile string
	// Controllers chooses the controller-manager's controllers (default
	// every known one); see controllermanager.Config.Controllers.
	Controllers []string
	// ClusterCIDR is the range each node's pod subnet comes from (default
	// DefaultClusterCIDR): node i (from 0) of Nodes gets the (i+1)-th
	// subnet of NodeMaskSize bits, unless its NodeConfig names one.
	ClusterCIDR string
	// NodeMaskSize is the prefix length of a node's pod subnet (default
	// DefaultNodeMaskSize).
	NodeMaskSize int
	// Nodes are nodes run in the same process, each a kubelet with its own
	// credentials, runtime, bridge and pod subnet.
	Nodes []NodeConfig
	// EtcdNoFsync makes the embedded etcd skip fsync (tests only).
	EtcdNoFsync bool
	// EtcdLogLevel is the embedded etcd's log level (default "error").
	EtcdLogLevel string
	// LeaseDuration, RenewDeadline and RetryPeriod time the
	// controller-manager's leader election (controllermanager defaults
	// when zero).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
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
	// its bridge. Default: allocated from the server's ClusterCIDR.
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
	// Kubeconfig is the node's kubeconfig (credentials of
	// system:node:<Name>); Server fills it for its Nodes. Required by
	// NewNode.
	Kubeconfig []byte
	// Dir holds the node's files (runtime state, container logs); Server
	// sets DataDir/nodes/<Name>. Required for containerd nodes.
	Dir string
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
	if c.ClusterCIDR != "" {
		if _, err := netip.ParsePrefix(c.ClusterCIDR); err != nil {
			return fmt.Errorf("cluster: ClusterCIDR %q: %v", c.ClusterCIDR, err)
		}
	}
	if c.NodeMaskSize < 0 || c.NodeMaskSize > 30 {
		return fmt.Errorf("cluster: NodeMaskSize must be 0-30, got %d", c.NodeMaskSize)
	}
	cc := c.withDefaults()
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
		if n.PodCIDR == "" {
			if _, err := NodeSubnet(cc.ClusterCIDR, cc.NodeMaskSize, i+1); err != nil {
				return fmt.Errorf("cluster: Nodes[%d]: %w", i, err)
			}
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
	case n.SyncPeriod < 0 || n.NodeStatusCheckInterval < 0:
		return fmt.Errorf("node %q: SyncPeriod and NodeStatusCheckInterval must not be negative", n.Name)
	}
	if n.PodCIDR != "" {
		if _, err := netip.ParsePrefix(n.PodCIDR); err != nil {
			return fmt.Errorf("node %q: PodCIDR %q: %v", n.Name, n.PodCIDR, err)
		}
	}
	for _, d := range []string{n.Containerd.StateDir, n.Containerd.LogDir} {
		if d != "" && !filepath.IsAbs(d) {
			return fmt.Errorf("node %q: Containerd.StateDir and LogDir must be absolute paths, got %q", n.Name, d)
		}
	}
	return nil
}

// NodeSubnet returns the index-th subnet of maskSize bits in clusterCIDR
// (index 0 is the first). It is the stand-in for the controller-manager's
// node IPAM, which will allocate pod CIDRs once it lands.
func NodeSubnet(clusterCIDR string, maskSize, index int) (string, error) {
	p, err := netip.ParsePrefix(clusterCIDR)
	if err != nil {
		return "", fmt.Errorf("cluster CIDR %q: %v", clusterCIDR, err)
	}
	p = p.Masked()
	if !p.Addr().Is4() {
		return "", fmt.Errorf("cluster CIDR %q: only IPv4 is supported", clusterCIDR)
	}
	if maskSize < p.Bits() || maskSize > 30 {
		return "", fmt.Errorf("cluster CIDR %q: node mask size %d must be between %d and 30", clusterCIDR, maskSize, p.Bits())
	}
	if index < 0 || uint64(index) >= uint64(1)<<(maskSize-p.Bits()) {
		return "", fmt.Errorf("cluster CIDR %q has no subnet /%d number %d (it holds %d)", clusterCIDR, maskSize, index, uint64(1)<<(maskSize-p.Bits()))
	}
	b := p.Addr().As4()
	base := binary.BigEndian.Uint32(b[:]) + uint32(index)<<(32-maskSize)
	binary.BigEndian.PutUint32(b[:], base)
	return netip.PrefixFrom(netip.AddrFrom4(b), maskSize).String(), nil
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
