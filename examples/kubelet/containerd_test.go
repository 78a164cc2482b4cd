package kubelet

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/containerd"
	"github.com/setpoint-dev/setpoint/runtime/containerdtest"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

// containerdRuntime starts a private containerd daemon and a runtime on it
// with its own bridge and subnet, all removed when the test ends.
func containerdRuntime(t *testing.T) *containerd.Runtime {
	t.Helper()
	d := containerdtest.New(t)
	var rnd [3]byte
	rand.Read(rnd[:])
	id := hex.EncodeToString(rnd[:])
	n, _ := rand.Int(rand.Reader, big.NewInt(200))
	bridge, subnet := "spk"+id, fmt.Sprintf("10.212.%d.0/24", 20+n.Int64())
	t.Cleanup(func() { containerdtest.DeleteBridge(bridge) })
	if fwd, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); err == nil {
		t.Cleanup(func() { os.WriteFile("/proc/sys/net/ipv4/ip_forward", fwd, 0o644) })
	}
	state := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rt, err := containerd.New(ctx, containerd.Config{Address: d.Address, Namespace: "kubelet-" + id, StateDir: state,
		LogDir: filepath.Join(state, "logs"), Network: containerd.NetworkConfig{Bridge: bridge, Subnet: subnet, Gateway: true},
		NodeIP: "127.0.0.1", PullTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		sbs, _ := rt.ListSandboxes(ctx, runtime.SandboxFilter{})
		for _, s := range sbs {
			if err := rt.RemoveSandbox(ctx, s.ID); err != nil {
				t.Errorf("cleanup: remove sandbox %s: %v", s.ID, err)
			}
		}
		rt.Close()
	})
	if _, err := rt.ImportImage(ctx, bytes.NewReader(runtimetest.TestImage(t))); err != nil {
		t.Fatal(err)
	}
	return rt
}

// TestContainerd: the lifecycle on real containerd: init container, two
// app containers sharing localhost, env from the downward API, an HTTP
// readiness probe; the status against what the runtime and the
// containers report; a graceful delete whose SIGTERM trap gets its time;
// nothing left in the runtime.
func TestContainerd(t *testing.T) {
	c := startCluster(t)
	rt := containerdRuntime(t)
	ctx := context.Background()
	runKubelet(t, Config{Client: c.cs, Runtime: rt, NodeName: "node-1", NodeIP: "127.0.0.1", SyncPeriod: 200 * time.Millisecond})

	pod := newPod("web", "node-1")
	grace := int64(20)
	pod.Spec.TerminationGracePeriodSeconds = &grace
	pod.Spec.InitContainers = []api.Container{testContainer("init", "print init-done")}
	server := testContainer("server", "env POD_IP", "env POD_NAME", "on-term 1s", "serve 127.0.0.1:7000", "http :8080", "wait")
	server.Env = []api.EnvVar{
		{Name: "POD_IP", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "status.podIP"}}},
		{Name: "POD_NAME", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}}},
	}
	server.ReadinessProbe = &api.Probe{ProbeHandler: api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Path: "/readyz", Port: api.IntOrString{IntVal: 8080}}}, PeriodSeconds: 1}
	pod.Spec.Containers = []api.Container{server, testContainer("client", "get 127.0.0.1:7000", "wait")}
	if _, err := c.cs.Pods().Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	p := waitPod(t, c.cs, "default", "web", "Running and Ready", func(p *api.Pod) bool {
		return p != nil && p.Status.Phase == api.PodRunning && condition(p, api.PodReady).Status == api.ConditionTrue
	})
	sbs, err := rt.ListSandboxes(ctx, runtime.SandboxFilter{})
	if err != nil || len(sbs) != 1 {
		t.Fatalf("sandboxes %+v %v", sbs, err)
	}
	if p.Status.PodIP == "" || p.Status.PodIP != sbs[0].IP || p.Status.HostIP != "127.0.0.1" {
		t.Errorf("podIP %q (sandbox %q) hostIP %q", p.Status.PodIP, sbs[0].IP, p.Status.HostIP)
	}
	cs, _ := rt.ListContainers(ctx, runtime.ContainerFilter{SandboxID: sbs[0].ID})
	ids := map[string]string{}
	for _, x := range cs {
		ids[x.Name] = x.ID
	}
	for _, s := range p.Status.ContainerStatuses {
		if s.ContainerID != "containerd://"+ids[s.Name] || s.State.Running == nil || !s.Ready || s.ImageID == "" {
			t.Errorf("status of %s: %+v (runtime ID %s)", s.Name, s, ids[s.Name])
		}
	}
	logs := runtimetest.ReadLogs(ctx, t, rt, ids["server"], runtime.LogOptions{})
	if !strings.Contains(logs, p.Status.PodIP) || !strings.Contains(logs, "web") {
		t.Errorf("server log %q lacks the pod IP and name", logs)
	}
	waitLog(t, rt, ids["client"], "pong") // over the pod's shared localhost

	final := watchFinalStatus(t, c, "default", "web", func() {
		if err := c.cs.Pods().Call(ctx, http.MethodDelete, "default", "web", "", nil, nil, nil); err != nil {
			t.Fatal(err)
		}
	})
	for _, s := range final.ContainerStatuses {
		want := int32(143)
		if s.Name == "server" {
			want = 0 // its SIGTERM trap waited 1s and exited 0
		}
		if s.State.Terminated == nil || s.State.Terminated.ExitCode != want {
			t.Errorf("final status of %s: %+v, want exit %d", s.Name, s.State, want)
		}
	}
	if sbs, _ := rt.ListSandboxes(ctx, runtime.SandboxFilter{}); len(sbs) != 0 {
		t.Errorf("sandboxes left: %+v", sbs)
	}
	if cs, _ := rt.ListContainers(ctx, runtime.ContainerFilter{}); len(cs) != 0 {
		t.Errorf("containers left: %+v", cs)
	}
}
