package containerd_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/containerd"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

func setup(t *testing.T, cfg containerd.Config) (context.Context, *containerd.Runtime) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	rt := newRuntime(t, cfg)
	if _, err := rt.ImportImage(ctx, bytes.NewReader(runtimetest.TestImage(t))); err != nil {
		t.Fatalf("ImportImage: %v", err)
	}
	return ctx, rt
}

func runSandbox(ctx context.Context, t *testing.T, rt runtime.Runtime, name string) runtime.SandboxStatus {
	t.Helper()
	id, err := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: name, Namespace: "default", UID: "uid-" + name})
	if err != nil {
		t.Fatalf("RunSandbox(%s): %v", name, err)
	}
	st, err := rt.SandboxStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func runContainer(ctx context.Context, t *testing.T, rt runtime.Runtime, sb, name string, script ...string) string {
	t.Helper()
	id, err := rt.CreateContainer(ctx, sb, runtime.ContainerConfig{Name: name, Image: runtimetest.TestImageName, Args: script})
	if err != nil {
		t.Fatalf("CreateContainer(%s): %v", name, err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer(%s): %v", name, err)
	}
	return id
}

// TestNetworking: two containers of one sandbox talk over localhost, and a
// container in another sandbox reaches the first by its sandbox IP.
func TestNetworking(t *testing.T) {
	ctx, rt := setup(t, config(t))
	a := runSandbox(ctx, t, rt, "server")
	b := runSandbox(ctx, t, rt, "client")
	if a.IP == b.IP || !strings.HasPrefix(a.NetNS, "/var/run/netns/") {
		t.Fatalf("sandboxes: %+v %+v", a, b)
	}
	runContainer(ctx, t, rt, a.ID, "server", "serve", "0.0.0.0:8080", "print", "listening", "wait")
	// localhost resolves through the sandbox's /etc/hosts.
	local := runContainer(ctx, t, rt, a.ID, "local", "get", "localhost:8080", "exit", "0")
	remote := runContainer(ctx, t, rt, b.ID, "remote", "get", a.IP+":8080", "exit", "0")
	for _, id := range []string{local, remote} {
		st := runtimetest.WaitState(ctx, t, rt, id, runtime.ContainerExited)
		logs := runtimetest.ReadLogs(ctx, t, rt, id, runtime.LogOptions{})
		if st.ExitCode != 0 || logs != "pong\n" {
			t.Fatalf("%s: exit %d, logs %q; want 0 and pong", st.Name, st.ExitCode, logs)
		}
	}
	// The client sandbox's own localhost does not reach the server.
	res, err := runtime.ExecSync(ctx, rt, remote, []string{runtimetest.TestBinary, "exit", "0"})
	if !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Fatalf("Exec in exited container: %+v, %v", res, err)
	}
	probe := runContainer(ctx, t, rt, b.ID, "probe", "wait")
	runtimetest.WaitState(ctx, t, rt, probe, runtime.ContainerRunning)
	res, err = runtime.ExecSync(ctx, rt, probe, []string{runtimetest.TestBinary, "get", a.IP + ":8080"})
	if err != nil || res.ExitCode != 0 || string(res.Stdout) != "pong\n" {
		t.Fatalf("exec probe to %s: %+v (%q, %q), %v", a.IP, res, res.Stdout, res.Stderr, err)
	}
	for _, sb := range []string{a.ID, b.ID} {
		if err := rt.RemoveSandbox(ctx, sb); err != nil {
			t.Fatal(err)
		}
	}
	if l := leaks(t, rt); len(l) > 0 {
		t.Fatalf("left behind: %v", l)
	}
}

// TestAdoption: a second runtime on the same daemon and state sees what the
// first made, refuses duplicates, removes what no pod owns; after a daemon
// restart it reconnects and reports the right states.
func TestAdoption(t *testing.T) {
	cfg := config(t)
	ctx, first := setup(t, cfg)
	kept := runSandbox(ctx, t, first, "kept")
	orphan := runSandbox(ctx, t, first, "orphan")
	running := runContainer(ctx, t, first, kept.ID, "app", "print", "started", "wait")
	done := runContainer(ctx, t, first, kept.ID, "job", "print", "finished", "exit", "7")
	runtimetest.WaitState(ctx, t, first, done, runtime.ContainerExited)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := newRuntime(t, cfg)
	sbs, err := second.ListSandboxes(ctx, runtime.SandboxFilter{})
	if err != nil || len(sbs) != 2 {
		t.Fatalf("second runtime lists %+v, %v; want 2 sandboxes", sbs, err)
	}
	// A kubelet restarting asks for the same pod: it must adopt, not duplicate.
	_, err = second.RunSandbox(ctx, runtime.SandboxConfig{Name: "kept", Namespace: "default", UID: "uid-kept"})
	if !errors.Is(err, runtime.ErrAlreadyExists) {
		t.Fatalf("RunSandbox of an adopted pod: %v, want ErrAlreadyExists", err)
	}
	adopted, err := second.ListSandboxes(ctx, runtime.SandboxFilter{Labels: map[string]string{runtime.LabelPodUID: "uid-kept"}})
	if err != nil || len(adopted) != 1 || adopted[0].ID != kept.ID || adopted[0].IP != kept.IP {
		t.Fatalf("adopted sandbox %+v, %v; want %+v", adopted, err, kept)
	}
	// Remove what no pod owns.
	removed, err := runtime.RemoveOrphans(ctx, second, func(s runtime.SandboxStatus) bool { return s.UID == "uid-kept" })
	if err != nil || len(removed) != 1 || removed[0] != orphan.ID {
		t.Fatalf("RemoveOrphans = %v, %v; want only %s", removed, err, orphan.ID)
	}
	if _, err := os.Stat(orphan.NetNS); !os.IsNotExist(err) {
		t.Fatalf("orphan netns %s still exists: %v", orphan.NetNS, err)
	}
	check := func(rt runtime.Runtime, when string) {
		t.Helper()
		st, err := rt.ContainerStatus(ctx, running)
		if err != nil || st.State != runtime.ContainerRunning || st.StartedAt.IsZero() {
			t.Fatalf("%s: running container %+v, %v", when, st, err)
		}
		st, err = rt.ContainerStatus(ctx, done)
		if err != nil || st.State != runtime.ContainerExited || st.ExitCode != 7 {
			t.Fatalf("%s: exited container %+v, %v", when, st, err)
		}
		if logs := runtimetest.ReadLogs(ctx, t, rt, running, runtime.LogOptions{}); logs != "started\n" {
			t.Fatalf("%s: logs %q", when, logs)
		}
	}
	check(second, "after adoption")

	if err := daemon.Restart(ctx); err != nil {
		t.Fatalf("restart containerd: %v", err)
	}
	// The client reconnects by itself; wait until the daemon answers again.
	end := time.Now().Add(time.Minute)
	for {
		_, err := second.ContainerStatus(ctx, running)
		if err == nil {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("runtime did not reconnect after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	check(second, "after daemon restart")
	res, err := runtime.ExecSync(ctx, second, running, []string{runtimetest.TestBinary, "print", "still here"})
	if err != nil || string(res.Stdout) != "still here\n" {
		t.Fatalf("exec after restart: %+v, %v", res, err)
	}
	if err := second.StopContainer(ctx, running, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if st := runtimetest.WaitState(ctx, t, second, running, runtime.ContainerExited); st.ExitCode != 143 {
		t.Fatalf("stopped after restart: exit %d, want 143", st.ExitCode)
	}
	if err := second.RemoveSandbox(ctx, kept.ID); err != nil {
		t.Fatal(err)
	}
	if l := leaks(t, second); len(l) > 0 {
		t.Fatalf("left behind: %v", l)
	}
}

// TestNetworkFailureLeaksNothing: when CNI fails, RunSandbox removes the
// record and the namespace it made.
func TestNetworkFailureLeaksNothing(t *testing.T) {
	cfg := config(t)
	cfg.Network.BinDirs = []string{t.TempDir()} // no plugins here
	ctx, rt := setup(t, cfg)
	_, err := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: "nonet", UID: "u"})
	if !errors.Is(err, runtime.ErrUnavailable) || !strings.Contains(err.Error(), "CNI") {
		t.Fatalf("RunSandbox without CNI plugins: %v, want ErrUnavailable naming CNI", err)
	}
	if l, _ := rt.ListSandboxes(ctx, runtime.SandboxFilter{}); len(l) != 0 {
		t.Fatalf("sandboxes after failure: %+v", l)
	}
	if l := leaks(t, rt); len(l) > 0 {
		t.Fatalf("left behind: %v", l)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		cfg   containerd.Config
		field string
	}{
		{containerd.Config{}, "Address"},
		{containerd.Config{Address: "/x", Namespace: "bad/ns"}, "Namespace"},
		{containerd.Config{Address: "/x", StateDir: "rel"}, "StateDir"},
		{containerd.Config{Address: "/x", NodeIP: "nope"}, "NodeIP"},
		{containerd.Config{Address: "/x", Network: containerd.NetworkConfig{Subnet: "10.0.0.0"}}, "Network.Subnet"},
		{containerd.Config{Address: "/x", Network: containerd.NetworkConfig{Bridge: "a-very-long-bridge-name"}}, "Network.Bridge"},
		{containerd.Config{Address: "/x", Network: containerd.NetworkConfig{ConfList: []byte(`{}`)}}, "Network.ConfList"},
		{containerd.Config{Address: "/x", StopGrace: -1}, "StopGrace"},
	}
	for _, c := range cases {
		err := c.cfg.Validate()
		var fe *runtime.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || !errors.Is(err, runtime.ErrInvalid) {
			t.Errorf("Validate(%+v) = %v, want a FieldError for %s", c.cfg, err, c.field)
		}
	}
	if _, err := containerd.New(context.Background(), containerd.Config{}); !errors.Is(err, runtime.ErrInvalid) {
		t.Fatalf("New with empty config: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := containerd.New(ctx, containerd.Config{Address: "/nonexistent/containerd.sock", StateDir: t.TempDir(), LogDir: t.TempDir()}); !errors.Is(err, runtime.ErrUnavailable) {
		t.Fatalf("New on a missing socket: %v, want ErrUnavailable", err)
	}
}

// TestResourcesInSpec: limits reach the OCI spec and the container's cgroup.
func TestResourcesInSpec(t *testing.T) {
	ctx, rt := setup(t, config(t))
	sb := runSandbox(ctx, t, rt, "limits")
	id, err := rt.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{
		Name: "main", Image: runtimetest.TestImageName, Args: []string{"wait"},
		Resources: runtime.Resources{CPUShares: 256, CPUQuota: 20000, MemoryLimit: 48 << 20},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctr, err := rt.Client().LoadContainer(namespaces.WithNamespace(ctx, rt.Namespace()), id)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := ctr.Spec(namespaces.WithNamespace(ctx, rt.Namespace()))
	if err != nil {
		t.Fatal(err)
	}
	res := spec.Linux.Resources
	if res == nil || res.CPU == nil || res.Memory == nil ||
		*res.CPU.Shares != 256 || *res.CPU.Quota != 20000 || *res.CPU.Period != runtime.DefaultCPUPeriod || *res.Memory.Limit != 48<<20 {
		t.Fatalf("spec resources = %+v", res)
	}
	var netnsPath string
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == "network" {
			netnsPath = ns.Path
		}
	}
	if netnsPath != sb.NetNS {
		t.Fatalf("container joins network namespace %q, want the sandbox's %q", netnsPath, sb.NetNS)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	s, err := rt.Stats(ctx, id)
	if err != nil || s.MemoryLimitBytes != 48<<20 {
		t.Fatalf("stats limit = %+v, %v; want %d", s, err, 48<<20)
	}
}

// TestMetrics: operations are observed on the caller's registry.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := config(t)
	cfg.Registerer = reg
	ctx, rt := setup(t, cfg)
	runSandbox(ctx, t, rt, "metrics")
	if _, err := rt.SandboxStatus(ctx, "missing"); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName() + "/" + m.GetLabel()[0].GetValue()
			if h := m.GetHistogram(); h != nil {
				got[key] = float64(h.GetSampleCount())
			} else {
				got[key] = m.GetCounter().GetValue()
			}
		}
	}
	if got["setpoint_runtime_operation_duration_seconds/run_sandbox"] != 1 || got["setpoint_runtime_operation_errors_total/sandbox_status"] != 1 {
		t.Fatalf("metrics = %v", got)
	}
	cfg2 := config(t)
	cfg2.Registerer = reg
	if _, err := containerd.New(ctx, cfg2); err == nil {
		t.Fatal("registering the metrics twice on one registry succeeded")
	}
}
