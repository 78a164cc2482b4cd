package containerd

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/containerd/containerd/v2/pkg/identifiers"
	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/runtime"
)

// Config configures a Runtime. Zero fields take the documented defaults.
type Config struct {
	// Address is the containerd socket. Required.
	Address string
	// Namespace is the containerd namespace holding everything this runtime
	// makes. Default "setpoint".
	Namespace string
	// StateDir holds the CNI result cache and IPAM state. Runtimes that
	// should adopt each other's sandboxes share it. Default
	// /var/lib/setpoint/runtime.
	StateDir string
	// LogDir holds container log files, as
	// <LogDir>/<namespace>_<pod>_<uid>_<sandbox attempt>/<container>/<attempt>.log.
	// Default /var/log/setpoint/pods.
	LogDir string
	// NetNSDir is where sandbox network namespaces are pinned. Default
	// /var/run/netns (where `ip netns` looks).
	NetNSDir string
	// Network configures pod networking through CNI.
	Network NetworkConfig
	// NodeIP is reported as the IP of host-network sandboxes. Default: the
	// first global unicast IPv4 address of an interface that is up (none:
	// empty).
	NodeIP string
	// Snapshotter is the containerd snapshotter. Default "overlayfs".
	Snapshotter string
	// PullTimeout bounds pulling an image by reference. Default 30s.
	PullTimeout time.Duration
	// StopGrace is the grace period StopSandbox gives each container.
	// Default 10s.
	StopGrace time.Duration
	// Clock times the grace periods of StopContainer and StopSandbox;
	// tests pass clockwork.NewFakeClock(). nil (the default) is the real
	// clock.
	Clock clockwork.Clock
	// Logger receives the runtime's logs. Default: discarded.
	Logger *slog.Logger
	// Registerer, when set, receives the runtime's metrics.
	Registerer prometheus.Registerer
}

// NetworkConfig configures pod networking: a bridge with host-local IPAM
// (and the portmap plugin for host ports, when its binary is in BinDirs),
// or any CNI network configuration list.
type NetworkConfig struct {
	// BinDirs are searched for CNI plugins. Default /usr/lib/cni and
	// /opt/cni/bin.
	BinDirs []string
	// ConfList, when set, is the CNI network configuration list (JSON) used
	// for pods instead of the bridge below.
	ConfList []byte
	// Bridge is the bridge device name. Default "setpoint0". Nodes that
	// share a machine need their own.
	Bridge string
	// Subnet is the pod subnet (the node's pod CIDR), from which
	// host-local IPAM gives sandboxes their IPs. Default 10.88.0.0/16.
	Subnet string
	// Gateway gives the bridge the subnet's first address and routes pod
	// traffic through it (this enables IPv4 forwarding on the node).
	Gateway bool
}

// Validate checks c and reports the first invalid field.
func (c Config) Validate() error {
	if c.Address == "" {
		return &runtime.FieldError{Field: "Address", Reason: "is required"}
	}
	if c.Namespace != "" {
		if err := identifiers.Validate(c.Namespace); err != nil {
			return &runtime.FieldError{Field: "Namespace", Value: c.Namespace, Reason: err.Error()}
		}
	}
	for name, dir := range map[string]string{"StateDir": c.StateDir, "LogDir": c.LogDir, "NetNSDir": c.NetNSDir} {
		if dir != "" && !filepath.IsAbs(dir) {
			return &runtime.FieldError{Field: name, Value: dir, Reason: "must be an absolute path"}
		}
	}
	if c.NodeIP != "" && net.ParseIP(c.NodeIP) == nil {
		return &runtime.FieldError{Field: "NodeIP", Value: c.NodeIP, Reason: "is not an IP address"}
	}
	if c.PullTimeout < 0 {
		return &runtime.FieldError{Field: "PullTimeout", Value: c.PullTimeout.String(), Reason: "must not be negative"}
	}
	if c.StopGrace < 0 {
		return &runtime.FieldError{Field: "StopGrace", Value: c.StopGrace.String(), Reason: "must not be negative"}
	}
	n := c.Network
	if len(n.ConfList) > 0 {
		var v struct {
			Name    string            `json:"name"`
			Plugins []json.RawMessage `json:"plugins"`
		}
		if err := json.Unmarshal(n.ConfList, &v); err != nil || v.Name == "" || len(v.Plugins) == 0 {
			return &runtime.FieldError{Field: "Network.ConfList", Reason: "must be a CNI configuration list with a name and plugins"}
		}
	}
	if n.Subnet != "" {
		if _, _, err := net.ParseCIDR(n.Subnet); err != nil {
			return &runtime.FieldError{Field: "Network.Subnet", Value: n.Subnet, Reason: "is not a CIDR"}
		}
	}
	if len(n.Bridge) > 15 {
		return &runtime.FieldError{Field: "Network.Bridge", Value: n.Bridge, Reason: "must be at most 15 characters"}
	}
	return nil
}

func (c Config) withDefaults() Config {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Namespace, "setpoint")
	def(&c.StateDir, "/var/lib/setpoint/runtime")
	def(&c.LogDir, "/var/log/setpoint/pods")
	def(&c.NetNSDir, "/var/run/netns")
	def(&c.Snapshotter, "overlayfs")
	def(&c.Network.Bridge, "setpoint0")
	def(&c.Network.Subnet, "10.88.0.0/16")
	if len(c.Network.BinDirs) == 0 {
		c.Network.BinDirs = []string{"/usr/lib/cni", "/opt/cni/bin"}
	}
	if c.PullTimeout == 0 {
		c.PullTimeout = 30 * time.Second
	}
	if c.StopGrace == 0 {
		c.StopGrace = 10 * time.Second
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	if c.NodeIP == "" {
		c.NodeIP = detectNodeIP()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// bridgeConfList is the CNI configuration list for the default network.
func (c Config) bridgeConfList() []byte {
	type ipam struct {
		Type    string                `json:"type"`
		Ranges  [][]map[string]string `json:"ranges"`
		Routes  []map[string]string   `json:"routes,omitempty"`
		DataDir string                `json:"dataDir"`
	}
	bridge := map[string]any{
		"type": "bridge", "bridge": c.Network.Bridge, "isGateway": c.Network.Gateway, "ipMasq": false, "hairpinMode": true,
		"ipam": ipam{Type: "host-local", Ranges: [][]map[string]string{{{"subnet": c.Network.Subnet}}}, DataDir: filepath.Join(c.StateDir, "ipam")},
	}
	if c.Network.Gateway {
		bridge["ipam"] = ipam{Type: "host-local", Ranges: [][]map[string]string{{{"subnet": c.Network.Subnet}}},
			Routes: []map[string]string{{"dst": "0.0.0.0/0"}}, DataDir: filepath.Join(c.StateDir, "ipam")}
	}
	plugins := []any{bridge}
	if c.hasPlugin("portmap") {
		plugins = append(plugins, map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}, "snat": true})
	}
	b, err := json.Marshal(map[string]any{"cniVersion": "1.0.0", "name": "setpoint", "plugins": plugins})
	if err != nil {
		panic(fmt.Sprintf("containerd: marshal CNI config: %v", err))
	}
	return b
}

// hasPlugin reports whether a CNI plugin binary is in Network.BinDirs.
func (c Config) hasPlugin(name string) bool {
	for _, dir := range c.Network.BinDirs {
		if st, err := os.Stat(filepath.Join(dir, name)); err == nil && st.Mode()&0o111 != 0 {
			return true
		}
	}
	return false
}

// detectNodeIP returns the first global unicast IPv4 address of an
// interface that is up and not a loopback, or "".
func detectNodeIP() string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && ipn.IP.IsGlobalUnicast() {
				return ipn.IP.String()
			}
		}
	}
	return ""
}
