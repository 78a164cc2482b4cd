package kubelet

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime"
)

// newPod is a pod bound to node running the given containers.
func newPod(name, node string, cs ...api.Container) *api.Pod {
	p := &api.Pod{}
	p.Namespace, p.Name = "default", name
	p.Spec.NodeName = node
	p.Spec.Containers = cs
	return p
}

// TestKubeletRestart: a restarted kubelet adopts a healthy container (same
// ID, not restarted), and removes the pod deleted while it was down.
func TestKubeletRestart(t *testing.T) {
	c := startCluster(t)
	rt := fakeRuntime(t)
	ctx := context.Background()
	cfg := Config{Client: c.cs, Runtime: rt, NodeName: "node-1", SyncPeriod: 50 * time.Millisecond}
	_, stop := runKubelet(t, cfg)
	for _, name := range []string{"keep", "gone"} {
		if _, err := c.cs.Pods().Create(ctx, newPod(name, "node-1", testContainer("main", "wait"))); err != nil {
			t.Fatal(err)
		}
	}
	running := func(p *api.Pod) bool { return p != nil && p.Status.Phase == api.PodRunning }
	before := waitPod(t, c.cs, "default", "keep", "Running", running)
	waitPod(t, c.cs, "default", "gone", "Running", running)
	stop()

	// While the kubelet is down, "gone" is deleted at once (force).
	if err := c.cs.Pods().Call(ctx, http.MethodDelete, "default", "gone", "", url.Values{"gracePeriodSeconds": {"0"}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	waitPod(t, c.cs, "default", "gone", "deletion", func(p *api.Pod) bool { return p == nil })

	k, _ := runKubelet(t, cfg)
	ctx2, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		sbs, err := rt.ListSandboxes(ctx2, runtime.SandboxFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(sbs) == 1 && sbs[0].Name == "keep" {
			break
		}
		select {
		case <-ctx2.Done():
			t.Fatalf("the sandbox of the pod deleted while the kubelet was down stays: %+v", sbs)
		case <-time.After(20 * time.Millisecond):
		}
	}
	// A few syncs later the healthy container is the same one.
	pc := waitLookup(t, k, "default", "keep")
	after := waitPod(t, c.cs, "default", "keep", "Running", running)
	if got, want := after.Status.ContainerStatuses[0].ContainerID, before.Status.ContainerStatuses[0].ContainerID; got != want || "containerd://"+pc.Containers["main"] != want {
		t.Fatalf("container after the kubelet restart %s (lookup %s), before %s", got, pc.Containers["main"], want)
	}
	if n := after.Status.ContainerStatuses[0].RestartCount; n != 0 {
		t.Fatalf("restartCount %d after adoption", n)
	}
}

// waitLookup waits until the kubelet knows the pod's containers.
func waitLookup(t *testing.T, k *Kubelet, ns, name string) PodContainers {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		pc, err := k.LookupPod(ctx, ns, name)
		if err == nil && len(pc.Containers) > 0 {
			return pc
		}
		select {
		case <-ctx.Done():
			t.Fatalf("LookupPod(%s/%s): %v", ns, name, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestBadPods: bad input gives Kubernetes' reasons and leaves nothing
// running.
func TestBadPods(t *testing.T) {
	c := startCluster(t)
	rt := fakeRuntime(t)
	ctx := context.Background()
	cpu := api.ResourceList{api.ResourceCPU: api.MustParse("2")}
	runKubelet(t, Config{Client: c.cs, Runtime: rt, NodeName: "node-1", SyncPeriod: 50 * time.Millisecond,
		Capacity: api.ResourceList{api.ResourceCPU: api.MustParse("1"), api.ResourceMemory: api.MustParse("1Gi")}})

	missing := testContainer("main", "wait")
	missing.Image = "example.com/missing:v1"
	badCmd := testContainer("main")
	badCmd.Command = []string{"/no/such/binary"}
	big := testContainer("main", "wait")
	big.Resources.Requests = cpu
	for _, p := range []*api.Pod{newPod("missing-image", "node-1", missing), newPod("bad-command", "node-1", badCmd), newPod("too-big", "node-1", big)} {
		if _, err := c.cs.Pods().Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	waiting := func(reason string) func(p *api.Pod) bool {
		return func(p *api.Pod) bool {
			return p != nil && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil &&
				p.Status.ContainerStatuses[0].State.Waiting.Reason == reason && p.Status.Phase == api.PodPending
		}
	}
	waitPod(t, c.cs, "default", "missing-image", "ErrImageNeverPull", waiting(reasonErrImageNeverPull))
	waitPod(t, c.cs, "default", "bad-command", "CreateContainerError", waiting(reasonCreateContainerError))
	p := waitPod(t, c.cs, "default", "too-big", "OutOfcpu", func(p *api.Pod) bool { return p != nil && p.Status.Phase == api.PodFailed })
	if p.Status.Reason != "OutOfcpu" {
		t.Errorf("too-big: reason %q message %q", p.Status.Reason, p.Status.Message)
	}
	cs, err := rt.ListContainers(ctx, runtime.ContainerFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 0 {
		t.Errorf("containers of bad pods: %+v", cs)
	}
	sbs, _ := rt.ListSandboxes(ctx, runtime.SandboxFilter{})
	for _, sb := range sbs {
		if sb.Name == "too-big" {
			t.Errorf("a sandbox for the pod that does not fit: %+v", sb)
		}
	}
}
