package kubelet

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// TestObjectWatches: the ConfigMaps and Secrets of a node's pods are read
// through one watch per object, shared by the pods that use it. A change
// reaches the pods' volumes with the kubelet's clock standing still (so
// not through the sync period), and the watches stop when no pod uses
// them any more.
func TestObjectWatches(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	ctx := context.Background()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	root := t.TempDir()
	k, _ := runKubelet(t, Config{Client: c.cs, Runtime: fakeRuntime(t), NodeName: "node-1", Clock: clock, RootDir: root})

	cm := &api.ConfigMap{Data: map[string]string{"k": "v1"}}
	cm.Namespace, cm.Name = "default", "watched-cm"
	if _, err := c.cs.ConfigMaps().Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	sec := &api.Secret{Data: map[string][]byte{"k": []byte("s1")}}
	sec.Namespace, sec.Name = "default", "watched-sec"
	if _, err := c.cs.Secrets().Create(ctx, sec); err != nil {
		t.Fatal(err)
	}
	uids := map[string]string{}
	for _, name := range []string{"w1", "w2"} {
		p := newPod(name, "node-1", testContainer("main", "wait"))
		p.Spec.Volumes = []api.Volume{
			{Name: "cm", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{LocalObjectReference: api.LocalObjectReference{Name: "watched-cm"}}}},
			{Name: "sec", VolumeSource: api.VolumeSource{Secret: &api.SecretVolumeSource{SecretName: "watched-sec"}}},
		}
		p.Spec.Containers[0].Env = []api.EnvVar{{Name: "FROM_CM", ValueFrom: &api.EnvVarSource{ConfigMapKeyRef: &api.ConfigMapKeySelector{
			LocalObjectReference: api.LocalObjectReference{Name: "watched-cm"}, Key: "k"}}}}
		created, err := c.cs.Pods().Create(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		uids[name] = string(created.UID)
		waitPod(t, c.cs, "default", name, "Running", func(p *api.Pod) bool { return p != nil && p.Status.Phase == api.PodRunning })
	}
	if n := k.watchedObjects(); n != 2 {
		t.Errorf("%d object watches for one ConfigMap and one Secret used by two pods, want 2", n)
	}
	file := func(pod, vol string) string {
		b, _ := os.ReadFile(filepath.Join(root, "pods", uids[pod], "volumes", vol, "k"))
		return string(b)
	}
	for _, pod := range []string{"w1", "w2"} {
		if got := file(pod, "cm"); got != "v1" {
			t.Fatalf("pod %s: configMap volume holds %q, want v1", pod, got)
		}
	}

	// Change both objects; the clock does not move.
	cm.Data["k"] = "v2"
	if _, err := c.cs.ConfigMaps().Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	sec.Data["k"] = []byte("s2")
	if _, err := c.cs.Secrets().Update(ctx, sec); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, pod := range []string{"w1", "w2"} {
		for file(pod, "cm") != "v2" || file(pod, "sec") != "s2" {
			if time.Now().After(deadline) {
				t.Fatalf("pod %s: volumes hold %q and %q after the update, want v2 and s2", pod, file(pod, "cm"), file(pod, "sec"))
			}
			time.Sleep(10 * time.Millisecond) // polls the files; no time needs to pass
		}
	}

	// One pod goes: the watches stay for the other; both go: none left.
	for i, name := range []string{"w1", "w2"} {
		if _, err := c.cs.Pods().Delete(ctx, "default", name); err != nil {
			t.Fatal(err)
		}
		waitPod(t, c.cs, "default", name, "gone", func(p *api.Pod) bool { return p == nil })
		want := 2 - 2*i
		for k.watchedObjects() != want {
			if time.Now().After(deadline) {
				t.Fatalf("after deleting %s: %d object watches, want %d", name, k.watchedObjects(), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
