package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/runtime/fake"
)

// TestValidate: each bad field is refused with an error naming it, and New
// then writes nothing (not even DataDir).
func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		mutate     func(*Config)
	}{
		{"no data dir", "DataDir is required", func(c *Config) { c.DataDir = "" }},
		{"bad cluster CIDR", `ClusterCIDR "10.0.0.0/33"`, func(c *Config) { c.ClusterCIDR = "10.0.0.0/33" }},
		{"bad mask", "NodeMaskSize must be 0-30", func(c *Config) { c.NodeMaskSize = 31 }},
		{"negative component burst", "ComponentBurst must not be negative", func(c *Config) { c.ComponentBurst = -1 }},
		{"no node name", "Nodes[0]: node: Name is required", func(c *Config) { c.Nodes = []NodeConfig{{}} }},
		{"duplicate node", `duplicate node name "a"`, func(c *Config) { c.Nodes = []NodeConfig{{Name: "a"}, {Name: "a"}} }},
		{"bad node IP", `NodeIP "x" is not an IP`, func(c *Config) { c.Nodes = []NodeConfig{{Name: "a", NodeIP: "x"}} }},
		{"bad pod CIDR", `PodCIDR "10.1.0.0"`, func(c *Config) { c.Nodes = []NodeConfig{{Name: "a", PodCIDR: "10.1.0.0"}} }},
		{"long bridge", "longer than 15", func(c *Config) {
			c.Nodes = []NodeConfig{{Name: "a", Containerd: ContainerdConfig{Bridge: "a-very-long-bridge"}}}
		}},
		{"relative state dir", "must be absolute", func(c *Config) {
			c.Nodes = []NodeConfig{{Name: "a", Containerd: ContainerdConfig{StateDir: "state"}}}
		}},
		{"node mask shorter than the cluster CIDR", "hold subnets of NodeMaskSize 24 bits", func(c *Config) { c.ClusterCIDR = "10.9.0.0/25" }},
		{"small service CIDR", `ServiceCIDR "10.96.0.0/29"`, func(c *Config) { c.ServiceCIDR = "10.96.0.0/29" }},
		{"IPv6 pool", `LoadBalancerPool "fd00::/64"`, func(c *Config) { c.LoadBalancerPool = "fd00::/64" }},
		{"bad DNS listen", `DNSListen "dns:53"`, func(c *Config) { c.DNSListen = "dns:53" }},
		{"bad domain", `ClusterDomain ".local"`, func(c *Config) { c.ClusterDomain = ".local" }},
		{"bad kubelet port", "KubeletPort must be -1 (none), 0 (a free port) or a port number, got 70000", func(c *Config) {
			c.Nodes = []NodeConfig{{Name: "a", KubeletPort: 70000}}
		}},
		{"negative metrics resolution", "MetricsResolution must not be negative", func(c *Config) { c.MetricsResolution = -1 }},
		{"bad TLS SAN", `TLSSANs[1] "bad_name"`, func(c *Config) { c.TLSSANs = []string{"10.0.0.1", "bad_name"} }},
		{"bad cluster DNS", `ClusterDNS "x"`, func(c *Config) { c.Nodes = []NodeConfig{{Name: "a", ClusterDNS: []string{"x"}}} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			cfg := Config{DataDir: dir, Listen: "127.0.0.1:0"}
			tc.mutate(&cfg)
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tc.want)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("New wrote %s after refusing the config", dir)
			}
		})
	}
}

// TestNewNodeRequires: NewNode refuses a node without credentials, or a
// containerd node without a directory.
func TestNewNodeRequires(t *testing.T) {
	for _, tc := range []struct {
		cfg  NodeConfig
		want string
	}{
		{NodeConfig{Name: "a", Runtime: fake.New()}, "Kubeconfig is required"},
		{NodeConfig{Name: "a", Kubeconfig: []byte("x")}, "Dir is required"},
		{NodeConfig{Name: "a", Kubeconfig: []byte("x"), Dir: "rel", PodCIDR: "10.0.0.0/24"}, "must be an absolute path"},
	} {
		if _, err := NewNode(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewNode(%+v): %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestBridgeName(t *testing.T) {
	a, b := BridgeName("/x/nodes/a"), BridgeName("/x/nodes/b")
	if a == b || len(a) > 15 || !strings.HasPrefix(a, BridgePrefix) {
		t.Errorf("BridgeName: %q and %q", a, b)
	}
}
