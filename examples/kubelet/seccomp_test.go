package kubelet

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime"
)

// TestSeccomp: the container's seccompProfile wins over the pod's;
// RuntimeDefault and Localhost put the process under a filter (the
// Localhost profile read from SeccompProfileRoot), Unconfined under none;
// a missing Localhost profile is CreateContainerConfigError naming it, and
// creates no container.
func TestSeccomp(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	rt := fakeRuntime(t)
	root := t.TempDir()
	profile := `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["kexec_load"],"action":"SCMP_ACT_ERRNO"}]}`
	if err := os.MkdirAll(filepath.Join(root, "profiles"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "profiles", "allow.json"), []byte(profile), 0o644); err != nil {
		t.Fatal(err)
	}
	k, _ := runKubelet(t, Config{Client: c.cs, Runtime: rt, NodeName: "node-1", SyncPeriod: 50 * time.Millisecond, SeccompProfileRoot: root})
	ctx := context.Background()

	local := "profiles/allow.json"
	inherit := testContainer("inherit", "seccomp", "wait")
	unconfined := testContainer("unconfined", "seccomp", "wait")
	unconfined.SecurityContext = &api.SecurityContext{SeccompProfile: &api.SeccompProfile{Type: api.SeccompProfileTypeUnconfined}}
	localhost := testContainer("localhost", "seccomp", "wait")
	localhost.SecurityContext = &api.SecurityContext{SeccompProfile: &api.SeccompProfile{Type: api.SeccompProfileTypeLocalhost, LocalhostProfile: &local}}
	pod := newPod("sec", "node-1", inherit, unconfined, localhost)
	pod.Spec.SecurityContext = &api.PodSecurityContext{SeccompProfile: &api.SeccompProfile{Type: api.SeccompProfileTypeRuntimeDefault}}
	if _, err := c.cs.Pods().Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	waitPod(t, c.cs, "default", "sec", "Running", func(p *api.Pod) bool { return p != nil && p.Status.Phase == api.PodRunning })
	pc, err := k.LookupPod(ctx, "default", "sec")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"inherit": "seccomp=2", "unconfined": "seccomp=0", "localhost": "seccomp=2"}
	for name, line := range want {
		id := pc.Containers[name]
		if id == "" {
			t.Fatalf("no container %s in %+v", name, pc)
		}
		waitLog(t, rt, id, line)
	}
	// A Localhost profile that is missing, or is not a profile.
	if err := os.WriteFile(filepath.Join(root, "profiles", "broken.json"), []byte(`{"syscalls":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := map[string]struct{ path, mention string }{
		"nosec":  {"profiles/absent.json", "no such file"},
		"badsec": {"profiles/broken.json", "defaultAction"},
	}
	for name, b := range bad {
		ctr := testContainer("main", "wait")
		ctr.SecurityContext = &api.SecurityContext{SeccompProfile: &api.SeccompProfile{Type: api.SeccompProfileTypeLocalhost, LocalhostProfile: &b.path}}
		if _, err := c.cs.Pods().Create(ctx, newPod(name, "node-1", ctr)); err != nil {
			t.Fatal(err)
		}
	}
	for name, b := range bad {
		p := waitPod(t, c.cs, "default", name, "CreateContainerConfigError", func(p *api.Pod) bool {
			return p != nil && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil &&
				p.Status.ContainerStatuses[0].State.Waiting.Reason == reasonCreateContainerConfigEr
		})
		if msg := p.Status.ContainerStatuses[0].State.Waiting.Message; !strings.Contains(msg, b.path) || !strings.Contains(msg, b.mention) {
			t.Errorf("%s: message = %q, want it to name %s and say %q", name, msg, b.path, b.mention)
		}
		if p.Status.Phase != api.PodPending {
			t.Errorf("%s: phase = %s, want Pending", name, p.Status.Phase)
		}
	}
	all, err := rt.ListContainers(ctx, runtime.ContainerFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Errorf("containers: %d, want only the sec pod's 3", len(all))
	}
}
