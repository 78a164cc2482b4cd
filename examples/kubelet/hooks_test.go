package kubelet

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	grpchealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

// TestLifecycleHooks: postStart and preStop exec hooks run in the
// container (their writes land in a hostPath volume); a failing postStart
// kills the container with a FailedPostStartHook event; a failed
// container with FallbackToLogsOnError reports its log's tail as the
// termination message.
func TestLifecycleHooks(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	rt := fakeRuntime(t)
	runKubelet(t, Config{Client: c.cs, Runtime: rt, NodeName: "node-1", SyncPeriod: 50 * time.Millisecond})
	ctx := context.Background()
	host := t.TempDir()

	main := testContainer("main", "wait")
	main.VolumeMounts = []api.VolumeMount{{Name: "h", MountPath: "/h"}}
	main.Lifecycle = &api.Lifecycle{
		PostStart: &api.LifecycleHandler{Exec: &api.ExecAction{Command: []string{runtimetest.TestBinary, "write", "/h/post", "started"}}},
		PreStop:   &api.LifecycleHandler{Exec: &api.ExecAction{Command: []string{runtimetest.TestBinary, "write", "/h/pre", "stopping"}}},
	}
	pod := newPod("hooks", "node-1", main)
	dir := api.HostPathDirectory
	pod.Spec.Volumes = []api.Volume{{Name: "h", VolumeSource: api.VolumeSource{HostPath: &api.HostPathVolumeSource{Path: host, Type: &dir}}}}
	if _, err := c.cs.Pods().Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	waitPod(t, c.cs, "default", "hooks", "Running", func(p *api.Pod) bool { return p != nil && p.Status.Phase == api.PodRunning })
	if b, err := os.ReadFile(filepath.Join(host, "post")); err != nil || string(b) != "started" {
		t.Errorf("postStart wrote %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(host, "pre")); !os.IsNotExist(err) {
		t.Errorf("preStop ran before the delete: %v", err)
	}
	if _, err := c.cs.Pods().Delete(ctx, "default", "hooks"); err != nil {
		t.Fatal(err)
	}
	waitPod(t, c.cs, "default", "hooks", "gone", func(p *api.Pod) bool { return p == nil })
	if b, err := os.ReadFile(filepath.Join(host, "pre")); err != nil || string(b) != "stopping" {
		t.Errorf("preStop wrote %q, %v", b, err)
	}

	bad := testContainer("main", "wait")
	bad.Lifecycle = &api.Lifecycle{PostStart: &api.LifecycleHandler{Exec: &api.ExecAction{Command: []string{runtimetest.TestBinary, "exit", "7"}}}}
	pod = newPod("badhook", "node-1", bad)
	pod.Spec.RestartPolicy = api.RestartPolicyNever
	if _, err := c.cs.Pods().Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, c, "badhook", "FailedPostStartHook", "exited with 7")
	p := waitPod(t, c.cs, "default", "badhook", "Failed", func(p *api.Pod) bool { return p != nil && p.Status.Phase == api.PodFailed })
	if term := p.Status.ContainerStatuses[0].State.Terminated; term == nil || term.ExitCode == 0 {
		t.Errorf("container with a failed postStart: %+v, want killed", p.Status.ContainerStatuses[0].State)
	}

	crash := testContainer("main", "print line-1", "print last-words", "exit 4")
	crash.TerminationMessagePolicy = api.TerminationMessageFallbackToLogsOnError
	pod = newPod("fallback", "node-1", crash)
	pod.Spec.RestartPolicy = api.RestartPolicyNever
	if _, err := c.cs.Pods().Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	p = waitPod(t, c.cs, "default", "fallback", "Failed", func(p *api.Pod) bool { return p != nil && p.Status.Phase == api.PodFailed })
	if term := p.Status.ContainerStatuses[0].State.Terminated; term == nil || term.ExitCode != 4 || !strings.HasSuffix(term.Message, "last-words") ||
		!strings.Contains(term.Message, "line-1") {
		t.Errorf("terminated %+v, want exit 4 and the log as message", term)
	}
}

// forwardTo is a runtime whose PortForward reaches a loopback address, so
// that a probe talks to a server of the test.
type forwardTo struct {
	*fake.Runtime
	addr string
}

func (f forwardTo) PortForward(ctx context.Context, _ string, _ uint16) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", f.addr)
}

// TestGRPCProbe: a grpc probe passes only when the health service says
// SERVING for the probe's service, and fails when nothing listens.
func TestGRPCProbe(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	hs := grpchealth.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	go srv.Serve(ln)
	defer srv.Stop()
	k, err := New(Config{Client: c.cs, Runtime: forwardTo{Runtime: fakeRuntime(t), addr: ln.Addr().String()}, NodeName: "node-1", RootDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svc := "db"
	probe := &api.Probe{ProbeHandler: api.ProbeHandler{GRPC: &api.GRPCAction{Port: 9000, Service: &svc}}}
	hs.SetServingStatus("db", healthpb.HealthCheckResponse_SERVING)
	if err := k.probeOnce(ctx, probe, 5*time.Second, nil, "c", "sb"); err != nil {
		t.Errorf("SERVING: %v", err)
	}
	hs.SetServingStatus("db", healthpb.HealthCheckResponse_NOT_SERVING)
	if err := k.probeOnce(ctx, probe, 5*time.Second, nil, "c", "sb"); err == nil || !strings.Contains(err.Error(), "NOT_SERVING") {
		t.Errorf("NOT_SERVING: %v", err)
	}
	other := "unknown"
	probe.GRPC.Service = &other
	if err := k.probeOnce(ctx, probe, 5*time.Second, nil, "c", "sb"); err == nil {
		t.Error("an unknown service passed")
	}
	srv.Stop()
	probe.GRPC.Service = &svc
	if err := k.probeOnce(ctx, probe, time.Second, nil, "c", "sb"); err == nil {
		t.Error("a stopped server passed")
	}
}
