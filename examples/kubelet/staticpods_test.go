package kubelet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

// staticManifest is a static pod manifest running the test program.
func staticManifest(arg string) string {
	return `apiVersion: v1
kind: Pod
metadata:
  name: etcd
  labels: {tier: control-plane}
spec:
  containers:
  - name: main
    image: ` + runtimetest.TestImageName + `
    imagePullPolicy: Never
    args: [print, ` + arg + `, wait]
`
}

// TestStaticPods: a manifest in StaticPodPath runs as pod etcd-<node> with
// a mirror pod annotated kubernetes.io/config.mirror; a changed manifest
// replaces it (a new UID, the new args); a removed one deletes it; a bad
// manifest is reported without touching the running pods.
func TestStaticPods(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	rt := fakeRuntime(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "etcd.yaml")
	if err := os.WriteFile(file, []byte(staticManifest("v1")), 0o644); err != nil {
		t.Fatal(err)
	}
	runKubelet(t, Config{Client: c.cs, Runtime: rt, NodeName: "node-1", SyncPeriod: 50 * time.Millisecond, StaticPodPath: dir})
	p := waitPod(t, c.cs, "default", "etcd-node-1", "Running", func(p *api.Pod) bool { return p != nil && p.Status.Phase == api.PodRunning })
	hash := p.Annotations[AnnotationConfigMirror]
	if hash == "" || p.Annotations[AnnotationConfigSource] != "file" || p.Spec.NodeName != "node-1" || p.Labels["tier"] != "control-plane" {
		t.Fatalf("mirror pod: annotations %v, node %q, labels %v", p.Annotations, p.Spec.NodeName, p.Labels)
	}

	// A bad manifest next to it is reported by name and skipped: the
	// change of the good one below still goes through.
	badFile := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badFile, []byte("kind: Pod\napiVersion: v1\nspec: {containers: 3}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if good, bad, err := readStaticPods(dir, "node-1"); err != nil || len(good) != 1 || len(bad) != 1 || !strings.Contains(bad[0].Error(), badFile) {
		t.Fatalf("readStaticPods with a bad file: %d good, bad %v, %v", len(good), bad, err)
	}
	if err := os.WriteFile(file, []byte(staticManifest("v2")), 0o644); err != nil {
		t.Fatal(err)
	}
	p2 := waitPod(t, c.cs, "default", "etcd-node-1", "replaced and Running", func(q *api.Pod) bool {
		return q != nil && q.UID != p.UID && q.Status.Phase == api.PodRunning
	})
	if p2.Annotations[AnnotationConfigMirror] == hash || strings.Join(p2.Spec.Containers[0].Args, " ") != "print v2 wait" {
		t.Errorf("replaced mirror pod: hash %q (old %q), args %v", p2.Annotations[AnnotationConfigMirror], hash, p2.Spec.Containers[0].Args)
	}

	if err := os.Remove(badFile); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	waitPod(t, c.cs, "default", "etcd-node-1", "gone", func(p *api.Pod) bool { return p == nil })
}
