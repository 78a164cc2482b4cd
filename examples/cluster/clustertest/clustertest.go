package clustertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/cluster"
	"github.com/setpoint-dev/setpoint/examples/cluster/sim"
	"github.com/setpoint-dev/setpoint/examples/controllermanager"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/containerdtest"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
	"github.com/setpoint-dev/setpoint/store"
)

// Image is the image every node has: the runtime test program
// (runtimetest.TestImageName), whose arguments are a script of steps
// (runtimetest.Script): "http :8080" serves HTTP, "wait" blocks until
// signalled, and so on. Simulated nodes run it as a Go function; real
// nodes run the real static binary.
const Image = runtimetest.TestImageName

// Options configure Start. The zero value is one simulated node.
type Options struct {
	// Nodes is the number of nodes, named node-1, node-2, ... (default 1).
	Nodes int
	// Containerd makes the nodes real: a private containerd daemon (see
	// runtime/containerdtest) runs their pods, each node with its own
	// bridge and a pod subnet of a random cluster CIDR. It needs root,
	// containerd, runc and the CNI plugins. Default: simulated nodes on
	// runtime/fake.
	Containerd bool
	// Images are further OCI image archives (image.Builder's output)
	// loaded on every node.
	Images [][]byte
	// FakeOptions are added to each simulated node's fake.New options.
	FakeOptions []fake.Option
	// Controllers chooses the controller-manager's controllers (default
	// every one).
	Controllers []string
	// SyncPeriod is the kubelets' sync period (default 200ms).
	SyncPeriod time.Duration
	// MetricsClock times the apiserver's scrapes of the kubelets for
	// kubectl top (default the real clock, every
	// apiserver.DefaultMetricsResolution).
	MetricsClock clockwork.Clock
	// Sim, if set, also runs Sim.Nodes simulated nodes of package
	// examples/cluster/sim in the same process (named sim-00000, ...);
	// Start fills in its Kubeconfig (each node's own credentials), Dir
	// and ClientCAPEM (so kubectl top sees their usage) and waits until
	// they are Ready too. With Sim, Nodes defaults to 0, node IPAM cuts
	// pod subnets from 10.128.0.0/9 (room for 32,768 nodes), and the
	// control plane's clients have no rate limit.
	Sim *sim.Config
	// Logger receives every component's logs (default discard).
	Logger *slog.Logger
}

// Cluster is a running in-process cluster.
type Cluster struct {
	// Server is the control plane and the nodes.
	Server *cluster.Server
	// KubeconfigPath is the admin kubeconfig (system:masters), for kubectl
	// and for client.Config.KubeconfigPath.
	KubeconfigPath string
	// Client is an admin clientset without a rate limit.
	Client *client.Clientset
	// Nodes are the nodes' runtimes, by node name, for tests that look at
	// containers directly.
	Runtimes map[string]runtime.Runtime
	// ContainerdAddress is the private daemon's socket when Containerd.
	ContainerdAddress string
	// Sim runs the simulated nodes when Options.Sim is set.
	Sim *sim.Sim
}

// Start starts a cluster and waits until the apiserver serves and every
// node has registered and is Ready; t.Cleanup stops it and checks that it
// stopped cleanly (real nodes remove their containers, bridges and files).
// It fails t if the cluster does not start.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Nodes == 0 && opts.Sim == nil {
		opts.Nodes = 1
	}
	if opts.SyncPeriod == 0 {
		opts.SyncPeriod = 200 * time.Millisecond
	}
	dir := t.TempDir()
	cfg := cluster.Config{DataDir: dir, Listen: "127.0.0.1:0", EtcdNoFsync: true, EtcdLogLevel: "off",
		Controllers: opts.Controllers, Logger: opts.Logger, MetricsClock: opts.MetricsClock,
		LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 500 * time.Millisecond}
	c := &Cluster{Runtimes: map[string]runtime.Runtime{}}
	var extra []cluster.ComponentFunc
	if opts.Sim != nil {
		cfg.ClusterCIDR, cfg.ComponentQPS = "10.128.0.0/9", -1
		// c.Sim is made below, once the server has its PKI, and before
		// the server runs this.
		extra = append(extra, func(ctx context.Context, _ *cluster.Server) error { return c.Sim.Run(ctx) })
	}
	images := opts.Images
	if opts.Containerd {
		d := containerdtest.New(t)
		c.ContainerdAddress = d.Address
		n, _ := rand.Int(rand.Reader, big.NewInt(100))
		cfg.ClusterCIDR = fmt.Sprintf("10.%d.0.0/16", 150+n.Int64())
		if fwd, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); err == nil {
			t.Cleanup(func() { os.WriteFile("/proc/sys/net/ipv4/ip_forward", fwd, 0o644) })
		}
		test, err := runtimetest.TestImageArchive()
		if err != nil {
			t.Fatal(err)
		}
		images = append([][]byte{test}, images...)
	} else {
		// Simulated pods have no network: the DNS serves on loopback,
		// where the test process asks it.
		cfg.DNSListen = "127.0.0.1:0"
		test, err := sim.ImageArchive()
		if err != nil {
			t.Fatal(err)
		}
		images = append([][]byte{test}, images...)
	}
	for i := 1; i <= opts.Nodes; i++ {
		nc := cluster.NodeConfig{Name: fmt.Sprintf("node-%d", i), SyncPeriod: opts.SyncPeriod,
			NodeStatusCheckInterval: time.Second}
		if opts.Containerd {
			nc.Containerd = cluster.ContainerdConfig{Address: c.ContainerdAddress, PullTimeout: 5 * time.Second, StopGrace: 5 * time.Second}
		} else {
			fopts := append([]fake.Option{fake.WithProgram(runtimetest.TestBinary, runtimetest.FakeTestBinary),
				fake.WithNodeIP(fmt.Sprintf("10.0.0.%d", i)), fake.WithHostname(nc.Name), fake.WithStopGrace(time.Second)}, opts.FakeOptions...)
			rt := fake.New(fopts...)
			// Runs after the cluster has stopped (cleanups run last first):
			// the simulated containers end with their node.
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				sbs, err := rt.ListSandboxes(ctx, runtime.SandboxFilter{})
				for _, s := range sbs {
					err = errors.Join(err, rt.RemoveSandbox(ctx, s.ID))
				}
				if err != nil {
					t.Errorf("clustertest: removing the simulated pods of %s: %v", nc.Name, err)
				}
			})
			nc.Runtime, nc.NodeIP = rt, fmt.Sprintf("10.0.0.%d", i)
			if err := importAll(rt, images); err != nil {
				t.Fatal(err)
			}
		}
		cfg.Nodes = append(cfg.Nodes, nc)
	}
	srv, err := cluster.New(cfg, extra...)
	if err != nil {
		t.Fatal(err)
	}
	c.Server, c.KubeconfigPath = srv, filepath.Join(dir, cluster.KubeconfigName)
	if opts.Sim != nil {
		simCfg := *opts.Sim
		simCfg.Dir, simCfg.Kubeconfig, simCfg.ClientCAPEM = filepath.Join(dir, "sim"), srv.NodeKubeconfig, srv.APIServer().PKI().CACert
		if c.Sim, err = sim.New(simCfg); err != nil {
			t.Fatal(err)
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("clustertest: cluster stopped with: %v", err)
		}
	})
	select {
	case <-srv.Ready():
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("clustertest: cluster did not start: %v", err)
	}
	for _, n := range srv.Nodes() {
		select {
		case <-n.Started():
		case err := <-done:
			done <- err // for the cleanup
			t.Fatalf("clustertest: node %s did not start: %v", n.Name(), err)
		}
		c.Runtimes[n.Name()] = n.Runtime()
		if opts.Containerd {
			if err := importAll(n.Runtime(), images); err != nil {
				t.Fatal(err)
			}
		}
	}
	if c.Client, err = client.New(client.Config{KubeconfigPath: c.KubeconfigPath, QPS: -1}); err != nil {
		t.Fatal(err)
	}
	if opts.Nodes > 0 {
		if err := c.WaitNodesReady(ctx, opts.Nodes, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if opts.Sim != nil {
		// Simulated nodes need no pod CIDR (their pods' addresses are
		// the fake runtime's): Ready is enough.
		wctx, cancel := context.WithTimeout(ctx, time.Minute+time.Duration(opts.Sim.Nodes)*200*time.Millisecond)
		_, err := sim.WaitNodesReady(wctx, c.Client, opts.Sim.Nodes)
		cancel()
		if err != nil {
			t.Fatalf("clustertest: %v", err)
		}
	}
	// The controller-manager leads once its Lease names a holder: its
	// controllers run from then on.
	err = c.Poll(ctx, time.Minute, "the controller-manager to lead", func(ctx context.Context) (bool, error) {
		l, err := c.Client.Leases().Get(ctx, controllermanager.DefaultLeaseNamespace, controllermanager.DefaultLeaseName)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return err == nil && l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "", err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// importAll loads each archive on rt.
func importAll(rt runtime.Runtime, archives [][]byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, a := range archives {
		if _, err := rt.ImportImage(ctx, bytes.NewReader(a)); err != nil {
			return fmt.Errorf("clustertest: importing an image: %w", err)
		}
	}
	return nil
}

// WaitNodesReady waits until n Nodes, not counting simulated ones
// (sim.LabelSimulated), exist, are Ready and have their pod CIDR from node
// IPAM, polling the apiserver, for at most timeout.
func (c *Cluster) WaitNodesReady(ctx context.Context, n int, timeout time.Duration) error {
	return c.Poll(ctx, timeout, fmt.Sprintf("%d nodes Ready with a pod CIDR", n), func(ctx context.Context) (bool, error) {
		nodes, err := c.Client.Nodes().List(ctx, "", store.ListOptions{})
		if err != nil {
			return false, err
		}
		ready := 0
		for _, node := range nodes.Items {
			if node.Labels[sim.LabelSimulated] == "true" {
				continue
			}
			for _, cond := range node.Status.Conditions {
				if cond.Type == api.NodeReady && cond.Status == api.ConditionTrue && node.Spec.PodCIDR != "" {
					ready++
				}
			}
		}
		return ready == n, nil
	})
}

// Poll calls cond every 50ms until it reports true, an error, ctx ends or
// timeout passes; the error names what was awaited.
func (c *Cluster) Poll(ctx context.Context, timeout time.Duration, what string, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		ok, err := cond(ctx)
		if ok && err == nil {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("clustertest: waiting for %s: %w (last error: %v)", what, ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// Container returns a container named name that runs Image with the given
// script steps (each a step of runtimetest.Script, such as "http :8080"
// or "wait"), never pulling it.
func Container(name string, steps ...string) api.Container {
	var args []string
	for _, s := range steps {
		args = append(args, strings.Fields(s)...)
	}
	return api.Container{Name: name, Image: Image, ImagePullPolicy: api.PullNever, Args: args}
}
