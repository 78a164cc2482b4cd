package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/kubelet"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/containerd"
)

// ErrNodeAlreadyRunning is returned by a second call of Node.Run.
var ErrNodeAlreadyRunning = errors.New("cluster: node already running")

// Node is one node: a kubelet on its runtime. Create it with NewNode and
// run it with Run.
type Node struct {
	cfg NodeConfig
	log *slog.Logger

	mu      sync.Mutex
	ran     bool
	rt      runtime.Runtime
	started chan struct{}
}

// NewNode checks cfg and returns a Node; it creates nothing.
func NewNode(cfg NodeConfig) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	switch {
	case len(cfg.Kubeconfig) == 0:
		return nil, fmt.Errorf("cluster: node %q: Kubeconfig is required", cfg.Name)
	case cfg.Runtime == nil && cfg.Dir == "":
		return nil, fmt.Errorf("cluster: node %q: Dir is required for a containerd node", cfg.Name)
	case cfg.Runtime == nil && cfg.PodCIDR == "":
		return nil, fmt.Errorf("cluster: node %q: PodCIDR is required for a containerd node (its bridge's subnet)", cfg.Name)
	case cfg.Dir != "" && !filepath.IsAbs(cfg.Dir):
		return nil, fmt.Errorf("cluster: node %q: Dir %q must be an absolute path", cfg.Name, cfg.Dir)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Runtime == nil {
		c := &cfg.Containerd
		def := func(s *string, v string) {
			if *s == "" {
				*s = v
			}
		}
		def(&c.Address, DefaultContainerdAddress)
		def(&c.Namespace, NamespacePrefix+cfg.Name)
		def(&c.StateDir, filepath.Join(cfg.Dir, "state"))
		def(&c.LogDir, filepath.Join(cfg.Dir, "logs"))
		def(&c.Bridge, BridgeName(cfg.Dir))
		def(&cfg.NodeIP, firstAddr(cfg.PodCIDR))
	}
	return &Node{cfg: cfg, log: cfg.Logger.With("node", cfg.Name), started: make(chan struct{})}, nil
}

// Name returns the node's name.
func (n *Node) Name() string { return n.cfg.Name }

// Config returns the node's configuration with its defaults filled in.
func (n *Node) Config() NodeConfig { return n.cfg }

// Started is closed once Run has its runtime (Runtime is then set) and
// starts the kubelet.
func (n *Node) Started() <-chan struct{} { return n.started }

// Runtime returns the node's runtime; nil before Started.
func (n *Node) Runtime() runtime.Runtime {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.rt
}

// Run connects to the runtime (a containerd node: to containerd, with the
// node's namespace, bridge and pod subnet), runs the kubelet until ctx
// ends, and then, unless Keep is set, removes what the node made: its
// sandboxes and containers, images, bridge and directory. It returns nil
// when ctx ended, or the error that stopped the node.
func (n *Node) Run(ctx context.Context) (err error) {
	n.mu.Lock()
	if n.ran {
		n.mu.Unlock()
		return ErrNodeAlreadyRunning
	}
	n.ran = true
	n.mu.Unlock()
	cs, err := client.New(client.Config{Kubeconfig: n.cfg.Kubeconfig, Logger: n.log})
	if err != nil {
		return fmt.Errorf("cluster: node %s: %w", n.cfg.Name, err)
	}
	rt := n.cfg.Runtime
	if rt == nil {
		crt, err := n.startContainerd(ctx)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, n.teardown(crt)) }()
		rt = crt
	}
	n.mu.Lock()
	n.rt = rt
	n.mu.Unlock()
	close(n.started)
	rootDir := ""
	if n.cfg.Dir != "" {
		rootDir = filepath.Join(n.cfg.Dir, "kubelet")
	}
	k, err := kubelet.New(kubelet.Config{Client: cs, NodeName: n.cfg.Name, Runtime: rt, NodeIP: n.cfg.NodeIP, RootDir: rootDir,
		PodCIDR: n.cfg.PodCIDR, Labels: n.cfg.Labels, SyncPeriod: n.cfg.SyncPeriod,
		NodeStatusCheckInterval: n.cfg.NodeStatusCheckInterval, Logger: n.log})
	if err != nil {
		return fmt.Errorf("cluster: node %s: %w", n.cfg.Name, err)
	}
	n.log.Info("node starting", "podCIDR", n.cfg.PodCIDR, "nodeIP", n.cfg.NodeIP)
	return k.Run(ctx)
}

// startContainerd makes the node's directories and connects to containerd.
func (n *Node) startContainerd(ctx context.Context) (*containerd.Runtime, error) {
	c := n.cfg.Containerd
	for _, d := range []string{c.StateDir, c.LogDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("cluster: node %s: %w", n.cfg.Name, err)
		}
	}
	rt, err := containerd.New(ctx, containerd.Config{Address: c.Address, Namespace: c.Namespace, StateDir: c.StateDir,
		LogDir: c.LogDir, NodeIP: n.cfg.NodeIP, PullTimeout: c.PullTimeout, StopGrace: c.StopGrace, Logger: n.log,
		Network: containerd.NetworkConfig{BinDirs: c.CNIBinDirs, Bridge: c.Bridge, Subnet: n.cfg.PodCIDR, Gateway: true}})
	if err != nil {
		return nil, fmt.Errorf("cluster: node %s: %w", n.cfg.Name, err)
	}
	return rt, nil
}

// teardown removes what a containerd node made, unless Keep is set, and
// closes its runtime.
func (n *Node) teardown(rt *containerd.Runtime) error {
	if n.cfg.Keep {
		return rt.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs := []error{RemoveAll(ctx, rt)}
	errs = append(errs, rt.Close(), DeleteLink(n.cfg.Containerd.Bridge), os.RemoveAll(n.cfg.Dir))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cluster: node %s: teardown: %w", n.cfg.Name, err)
	}
	n.log.Info("node removed its containers, bridge and files")
	return nil
}

// RemoveAll removes every sandbox (with its containers) and image of rt.
func RemoveAll(ctx context.Context, rt runtime.Runtime) error {
	var errs []error
	sbs, err := rt.ListSandboxes(ctx, runtime.SandboxFilter{})
	errs = append(errs, err)
	for _, s := range sbs {
		errs = append(errs, rt.RemoveSandbox(ctx, s.ID))
	}
	cs, err := rt.ListContainers(ctx, runtime.ContainerFilter{})
	errs = append(errs, err)
	for _, c := range cs {
		errs = append(errs, rt.RemoveContainer(ctx, c.ID))
	}
	imgs, err := rt.ListImages(ctx)
	errs = append(errs, err)
	for _, img := range imgs {
		if err := rt.RemoveImage(ctx, img.Name); err != nil && !errors.Is(err, runtime.ErrImageNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// DeleteLink deletes the network device name (`ip link delete`); a
// missing device is not an error.
func DeleteLink(name string) error {
	if _, err := net.InterfaceByName(name); err != nil {
		return nil
	}
	if out, err := exec.Command("ip", "link", "delete", name).CombinedOutput(); err != nil {
		if _, err2 := net.InterfaceByName(name); err2 != nil {
			return nil // gone meanwhile
		}
		return fmt.Errorf("ip link delete %s: %v: %s", name, err, out)
	}
	return nil
}

// nodeReady reports whether node's Ready condition is True.
func nodeReady(node *api.Node) bool {
	for _, c := range node.Status.Conditions {
		if c.Type == api.NodeReady {
			return c.Status == api.ConditionTrue
		}
	}
	return false
}
