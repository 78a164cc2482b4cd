package containerd_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/snapshots"
	"github.com/containerd/containerd/v2/pkg/namespaces"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/containerd"
	"github.com/setpoint-dev/setpoint/runtime/containerdtest"
)

// One daemon, state directory, bridge and subnet for the whole test binary.
var (
	daemon   *containerdtest.Daemon
	stateDir string
	bridge   string
	subnet   string
	runID    string
	nsSeq    atomic.Int64
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	daemon, err = containerdtest.Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer func() {
		if err := daemon.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping containerd:", err)
		}
	}()
	stateDir, err = os.MkdirTemp("", "setpoint-rt-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer os.RemoveAll(stateDir)
	var rnd [3]byte
	rand.Read(rnd[:])
	runID = hex.EncodeToString(rnd[:])
	bridge = "spt" + runID
	n, _ := rand.Int(rand.Reader, big.NewInt(200))
	subnet = fmt.Sprintf("10.211.%d.0/24", 20+n.Int64())
	defer containerdtest.DeleteBridge(bridge)
	// The bridge is the pods' gateway (host ports need the node to reach
	// them), for which the CNI bridge plugin turns IPv4 forwarding on:
	// put it back as it was.
	if fwd, err := os.ReadFile(ipForward); err == nil {
		defer os.WriteFile(ipForward, fwd, 0o644)
	}
	return m.Run()
}

const ipForward = "/proc/sys/net/ipv4/ip_forward"

// gatewayIP is the node's address on the test bridge: the subnet's first.
func gatewayIP() string {
	_, n, err := net.ParseCIDR(subnet)
	if err != nil {
		panic(err)
	}
	ip := n.IP.To4()
	return net.IPv4(ip[0], ip[1], ip[2], ip[3]+1).String()
}

// dialHostPort connects to a host port as a client of the node does.
func dialHostPort(ctx context.Context, _ runtime.Runtime, port uint16) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", net.JoinHostPort(gatewayIP(), strconv.Itoa(int(port))))
}

// config returns a runtime configuration in a fresh containerd namespace.
func config(t testing.TB) containerd.Config {
	ns := fmt.Sprintf("t%s-%d", runID, nsSeq.Add(1))
	return containerd.Config{
		Address:     daemon.Address,
		Namespace:   ns,
		StateDir:    stateDir,
		LogDir:      filepath.Join(stateDir, "logs", ns),
		Network:     containerd.NetworkConfig{Bridge: bridge, Subnet: subnet, Gateway: true},
		NodeIP:      "127.0.0.1",
		StopGrace:   2 * time.Second,
		PullTimeout: 10 * time.Second,
	}
}

func newRuntime(t testing.TB, cfg containerd.Config) *containerd.Runtime {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rt, err := containerd.New(ctx, cfg)
	if err != nil {
		t.Fatalf("containerd.New: %v", err)
	}
	t.Cleanup(func() {
		cleanNamespace(t, rt)
		rt.Close()
	})
	return rt
}

// cleanNamespace removes every sandbox and container the runtime holds.
func cleanNamespace(t testing.TB, rt *containerd.Runtime) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sbs, _ := rt.ListSandboxes(ctx, runtime.SandboxFilter{})
	for _, s := range sbs {
		if err := rt.RemoveSandbox(ctx, s.ID); err != nil {
			t.Errorf("cleanup: remove sandbox %s: %v", s.ID, err)
		}
	}
	cs, _ := rt.ListContainers(ctx, runtime.ContainerFilter{})
	for _, c := range cs {
		if err := rt.RemoveContainer(ctx, c.ID); err != nil {
			t.Errorf("cleanup: remove container %s: %v", c.ID, err)
		}
	}
}

// leaks lists the containerd containers and snapshots in the runtime's
// namespace and its network namespaces in /var/run/netns.
func leaks(t testing.TB, rt *containerd.Runtime) []string {
	t.Helper()
	ctx := namespaces.WithNamespace(context.Background(), rt.Namespace())
	var out []string
	cs, err := rt.Client().Containers(ctx)
	if err != nil {
		t.Fatalf("list containerd containers: %v", err)
	}
	for _, c := range cs {
		out = append(out, "container "+c.ID())
	}
	err = rt.Client().SnapshotService("overlayfs").Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		if info.Kind != snapshots.KindCommitted {
			out = append(out, "snapshot "+info.Name)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("list snapshots: %v", err)
	}
	filepath.WalkDir(filepath.Join(stateDir, "logs", rt.Namespace()), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, "log file "+p)
		}
		return nil
	})
	if ents, _ := os.ReadDir(filepath.Join(stateDir, "sandboxes", rt.Namespace())); len(ents) > 0 {
		out = append(out, fmt.Sprintf("%d sandbox directories", len(ents)))
	}
	if ents, _ := os.ReadDir(filepath.Join(stateDir, "io", rt.Namespace())); len(ents) > 0 {
		out = append(out, fmt.Sprintf("%d container FIFO directories", len(ents)))
	}
	if ents, _ := os.ReadDir(filepath.Join(stateDir, "exec")); len(ents) > 0 {
		out = append(out, fmt.Sprintf("%d exec FIFO directories", len(ents)))
	}
	if mi, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, l := range strings.Split(string(mi), "\n") {
			if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], stateDir+"/") {
				out = append(out, "mount "+f[4])
			}
		}
	}
	if b, err := exec.Command("iptables-save", "-t", "nat").CombinedOutput(); err != nil {
		t.Fatalf("iptables-save: %v: %s", err, b)
	} else {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, `name: \"setpoint\"`) {
				out = append(out, "nat rule "+l)
			}
		}
	}
	ents, _ := os.ReadDir("/var/run/netns")
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "setpoint-"+rt.Namespace()+"-") {
			out = append(out, "netns "+e.Name())
		}
	}
	return out
}
