package containerd_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
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
	return m.Run()
}

// config returns a runtime configuration in a fresh containerd namespace.
func config(t testing.TB) containerd.Config {
	return containerd.Config{
		Address:     daemon.Address,
		Namespace:   fmt.Sprintf("t%s-%d", runID, nsSeq.Add(1)),
		StateDir:    stateDir,
		LogDir:      filepath.Join(stateDir, "logs"),
		Network:     containerd.NetworkConfig{Bridge: bridge, Subnet: subnet},
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
	ents, _ := os.ReadDir("/var/run/netns")
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "setpoint-"+rt.Namespace()+"-") {
			out = append(out, "netns "+e.Name())
		}
	}
	return out
}
