package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/localvolume"
	"github.com/setpoint-dev/setpoint/examples/kubelet"
	"github.com/setpoint-dev/setpoint/examples/proxy"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/containerd"
	"github.com/setpoint-dev/setpoint/store"
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
		if cfg.PodCIDR != "" {
			def(&cfg.NodeIP, firstAddr(cfg.PodCIDR))
		}
	}
	return &Node{cfg: cfg, log: cfg.Logger.With("node", cfg.Name), started: make(chan struct{})}, nil
}

// hasRun reports whether Run was called.
func (n *Node) hasRun() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ran
}

// abandon makes the node leave what it made in place when it stops, as a
// killed kubelet does.
func (n *Node) abandon() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cfg.Keep = true
}

// Name returns the node's name.
func (n *Node) Name() string { return n.cfg.Name }

// Config returns the node's configuration with its defaults filled in
// (PodCIDR and NodeIP once the node has its pod CIDR).
func (n *Node) Config() NodeConfig {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cfg
}

// Started is closed once Run has its runtime (Runtime is then set) and
// starts the kubelet.
func (n *Node) Started() <-chan struct{} { return n.started }

// Runtime returns the node's runtime; nil before Started.
func (n *Node) Runtime() runtime.Runtime {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.rt
}

// Run connects to the runtime (a containerd node: registers its Node,
// waits for node IPAM to give it a pod CIDR unless PodCIDR is set, and
// connects to containerd with the node's namespace, bridge and pod
// subnet), runs the kubelet and, with ProxyKubeconfig, the node proxy
// until ctx ends, and then, unless Keep is set, removes what the node
// made: its sandboxes and containers, images, bridge, proxy table and
// directory. It returns nil when ctx ended, or the error that stopped the
// node.
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
		if n.cfg.PodCIDR == "" {
			cidr, err := n.awaitPodCIDR(ctx, cs)
			if err != nil {
				return ignoreCanceled(ctx, err)
			}
			n.mu.Lock()
			n.cfg.PodCIDR = cidr
			if n.cfg.NodeIP == "" {
				n.cfg.NodeIP = firstAddr(cidr)
			}
			n.mu.Unlock()
		}
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
	serving, err := n.serving()
	if err != nil {
		return err
	}
	k, err := kubelet.New(kubelet.Config{Client: cs, NodeName: n.cfg.Name, Runtime: rt, NodeIP: n.cfg.NodeIP, RootDir: rootDir,
		PodCIDR: n.cfg.PodCIDR, Labels: n.cfg.Labels, SyncPeriod: n.cfg.SyncPeriod, ClusterDNS: n.cfg.ClusterDNS,
		ClusterDomain: n.cfg.ClusterDomain, NodeStatusCheckInterval: n.cfg.NodeStatusCheckInterval, Serving: serving,
		Logger: n.log})
	if err != nil {
		return fmt.Errorf("cluster: node %s: %w", n.cfg.Name, err)
	}
	n.log.Info("node starting", "podCIDR", n.cfg.PodCIDR, "nodeIP", n.cfg.NodeIP)
	if n.cfg.ProxyKubeconfig == nil || n.cfg.Runtime != nil {
		return k.Run(ctx)
	}
	p, pcs, err := n.newProxy()
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return k.Run(gctx) })
	g.Go(func() error { return pcs.Informers().Run(gctx) })
	g.Go(func() error { return p.Run(gctx) })
	return g.Wait()
}

// awaitPodCIDR registers the Node (as the kubelet would, with the same
// labels, and with its volume directory for the local volume
// provisioner) if it does not exist and waits until its spec.podCIDR is set
// by node IPAM.
func (n *Node) awaitPodCIDR(ctx context.Context, cs *client.Clientset) (string, error) {
	node := &api.Node{}
	node.Name = n.cfg.Name
	node.Labels = map[string]string{"kubernetes.io/hostname": n.cfg.Name, "kubernetes.io/os": goruntime.GOOS,
		"kubernetes.io/arch": goruntime.GOARCH}
	maps.Copy(node.Labels, n.cfg.Labels)
	// The local volume provisioner puts the node's volumes in its
	// directory, which the node removes when it stops.
	node.Annotations = map[string]string{localvolume.AnnotationNodeDir: filepath.Join(n.cfg.Dir, "volumes")}
	if _, err := cs.Nodes().Create(ctx, node); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return "", fmt.Errorf("cluster: node %s: registering: %w", n.cfg.Name, err)
	}
	n.log.Info("node waiting for its pod CIDR")
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := cs.Nodes().Get(ctx, "", n.cfg.Name)
		if err == nil && got.Spec.PodCIDR != "" {
			return got.Spec.PodCIDR, nil
		}
		if err != nil {
			n.log.Debug("reading the Node", "err", err)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-tick.C:
		}
	}
}

// proxyConfig is the node proxy's configuration: its own table, named
// like the node's bridge.
func (n *Node) proxyConfig() proxy.Config {
	cfg := proxy.Config{NodeName: n.cfg.Name, TableName: n.cfg.Containerd.Bridge, Logger: n.log.With("component", "proxy")}
	if p, err := netip.ParsePrefix(n.cfg.ClusterCIDR); err == nil {
		cfg.ClusterCIDR = p.Masked()
	}
	return cfg
}

// newProxy builds the node proxy with its own clientset.
func (n *Node) newProxy() (*proxy.Proxy, *client.Clientset, error) {
	cs, err := client.New(client.Config{Kubeconfig: n.cfg.ProxyKubeconfig, Logger: n.log.With("component", "proxy")})
	if err != nil {
		return nil, nil, fmt.Errorf("cluster: node %s: proxy: %w", n.cfg.Name, err)
	}
	cfg := n.proxyConfig()
	cfg.Client = cs
	p, err := proxy.New(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster: node %s: %w", n.cfg.Name, err)
	}
	return p, cs, nil
}

// serving is the kubelet's API configuration (see NodeConfig.KubeletPort).
func (n *Node) serving() (kubelet.ServingConfig, error) {
	if n.cfg.Runtime != nil || n.cfg.KubeletPort < 0 || n.cfg.NodeIP == "" {
		return kubelet.ServingConfig{}, nil
	}
	_, ca, err := clusterOf(n.cfg.Kubeconfig)
	if err != nil {
		return kubelet.ServingConfig{}, fmt.Errorf("cluster: node %s: the kubelet API's client CA: %w", n.cfg.Name, err)
	}
	return kubelet.ServingConfig{Listen: net.JoinHostPort(n.cfg.NodeIP, strconv.Itoa(n.cfg.KubeletPort)), ClientCAPEM: ca}, nil
}

// startContainerd makes the node's directories and bridge and connects
// to containerd.
func (n *Node) startContainerd(ctx context.Context) (*containerd.Runtime, error) {
	c := n.cfg.Containerd
	for _, d := range []string{c.StateDir, c.LogDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("cluster: node %s: %w", n.cfg.Name, err)
		}
	}
	if err := ensureBridge(c.Bridge, n.cfg.NodeIP, n.cfg.PodCIDR); err != nil {
		return nil, fmt.Errorf("cluster: node %s: %w", n.cfg.Name, err)
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
	if n.Config().Keep {
		return rt.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs := []error{RemoveAll(ctx, rt)}
	errs = append(errs, rt.Close(), DeleteLink(n.cfg.Containerd.Bridge), os.RemoveAll(n.cfg.Dir))
	if n.cfg.ProxyKubeconfig != nil {
		errs = append(errs, proxy.Cleanup(ctx, n.proxyConfig()))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cluster: node %s: teardown: %w", n.cfg.Name, err)
	}
	n.log.Info("node removed its containers, bridge, proxy table and files")
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

// ensureBridge makes the bridge name holding gateway in cidr and sets it
// up, unless it exists, before the CNI bridge plugin would make it with
// the first pod: so the node's IP (the gateway) is an address of the host
// from the start, where the kubelet's API listens. The plugin takes over
// an existing bridge and address as its own.
func ensureBridge(name, gateway, cidr string) error {
	if name == "" || gateway == "" || cidr == "" {
		return nil
	}
	if _, err := net.InterfaceByName(name); err != nil {
		if out, err := exec.Command("ip", "link", "add", "name", name, "type", "bridge").CombinedOutput(); err != nil {
			return fmt.Errorf("ip link add %s type bridge: %v: %s", name, err, out)
		}
	}
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return fmt.Errorf("pod CIDR %q: %v", cidr, err)
	}
	addr := gateway + "/" + strconv.Itoa(p.Bits())
	if out, err := exec.Command("ip", "addr", "replace", addr, "dev", name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip addr replace %s dev %s: %v: %s", addr, name, err, out)
	}
	if out, err := exec.Command("ip", "link", "set", name, "up").CombinedOutput(); err != nil {
		return fmt.Errorf("ip link set %s up: %v: %s", name, err, out)
	}
	return nil
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
