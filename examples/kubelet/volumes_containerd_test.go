package kubelet

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

// TestContainerdVolumes proves the OCI mapping on real containerd, from
// inside the container: a mounted configMap file's content, the service
// account token and namespace at the default mount path, /etc/resolv.conf
// for ClusterFirst, runAsUser/runAsGroup/fsGroup, an emptyDir writable by
// that user, and the termination message written to
// /dev/termination-log.
func TestContainerdVolumes(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	volumesFixture(t, c)
	rt := containerdRuntime(t)
	ctx := context.Background()
	k, _ := runKubelet(t, Config{Client: c.cs, Runtime: rt, NodeName: "node-1", NodeIP: "127.0.0.1", SyncPeriod: 200 * time.Millisecond,
		ClusterDNS: []string{"10.96.0.10"}})

	uid, gid, fsGroup := int64(1000), int64(2000), int64(3000)
	main := testContainer("main", "id", "print |", "cat /etc/cfg/a", "print |", "cat "+saMount+"/namespace", "print |",
		"cat "+saMount+"/token", "print |", "cat /etc/resolv.conf", "print |", "write /scratch/f x", "write /dev/termination-log bye",
		"print done", "exit 3")
	main.VolumeMounts = []api.VolumeMount{{Name: "cfg", MountPath: "/etc/cfg"}, {Name: "scratch", MountPath: "/scratch"},
		{Name: "sa", MountPath: saMount, ReadOnly: true}}
	pod := newPod("real-vols", "node-1", main)
	pod.Spec.RestartPolicy = api.RestartPolicyNever
	pod.Spec.SecurityContext = &api.PodSecurityContext{RunAsUser: &uid, RunAsGroup: &gid, FSGroup: &fsGroup}
	pod.Spec.Volumes = []api.Volume{
		{Name: "cfg", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{LocalObjectReference: api.LocalObjectReference{Name: "cfg"}}}},
		{Name: "scratch", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{}}},
		saVolume("sa"),
	}
	if _, err := c.cs.Pods().Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	p := waitPod(t, c.cs, "default", "real-vols", "Failed", func(p *api.Pod) bool { return p != nil && p.Status.Phase == api.PodFailed })
	term := p.Status.ContainerStatuses[0].State.Terminated
	if term == nil || term.ExitCode != 3 || term.Message != "bye" {
		t.Errorf("terminated state %+v, want exit 3 with message bye", term)
	}
	id := containerID(t, k, "default", "real-vols", "main")
	logs := runtimetest.ReadLogs(ctx, t, rt, id, runtime.LogOptions{})
	parts := strings.Split(logs, "|\n")
	if len(parts) != 6 {
		t.Fatalf("output %q", logs)
	}
	if !strings.HasPrefix(parts[0], "uid=1000 gid=2000 groups=") || !strings.Contains(parts[0], "3000") {
		t.Errorf("id: %q, want uid 1000, gid 2000 and group 3000", parts[0])
	}
	if parts[1] != "alpha" || parts[2] != "default" {
		t.Errorf("configMap file %q, namespace file %q", parts[1], parts[2])
	}
	if tok := parts[3]; strings.Count(tok, ".") != 2 || len(tok) < 100 {
		t.Errorf("token %q is not a JWT", tok)
	} else if user := whoAmI(t, c, tok); user != "system:serviceaccount:default:default" {
		t.Errorf("the token read in the container authenticates as %q", user)
	}
	if !strings.HasPrefix(parts[4], "search default.svc.cluster.local svc.cluster.local cluster.local") ||
		!strings.Contains(parts[4], "nameserver 10.96.0.10\n") || !strings.Contains(parts[4], "options ndots:5") {
		t.Errorf("resolv.conf %q", parts[4])
	}
	if !strings.Contains(parts[5], "wrote /scratch/f") {
		t.Errorf("emptyDir write as uid 1000: %q", parts[5])
	}
}
