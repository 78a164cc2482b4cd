package kubelet

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
	"github.com/setpoint-dev/setpoint/store"
)

// saMount is the default service account mount, as the ServiceAccount
// admission plugin adds it.
const saMount = "/var/run/secrets/kubernetes.io/serviceaccount"

// volumesFixture creates what the volume tests' pods refer to: a
// ConfigMap, a Secret, the default ServiceAccount and kube-root-ca.crt.
func volumesFixture(t *testing.T, c *cluster) {
	t.Helper()
	ctx := context.Background()
	cm := &api.ConfigMap{Data: map[string]string{"a": "alpha", "b": "beta"}}
	cm.Namespace, cm.Name = "default", "cfg"
	sec := &api.Secret{Data: map[string][]byte{"password": []byte("s3cret")}}
	sec.Namespace, sec.Name = "default", "sec"
	sa := &api.ServiceAccount{}
	sa.Namespace, sa.Name = "default", "default"
	ca := &api.ConfigMap{Data: map[string]string{"ca.crt": "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n"}}
	ca.Namespace, ca.Name = "default", "kube-root-ca.crt"
	for _, create := range []func() error{
		func() error { _, err := c.cs.ConfigMaps().Create(ctx, cm); return err },
		func() error { _, err := c.cs.Secrets().Create(ctx, sec); return err },
		func() error { _, err := c.cs.ServiceAccounts().Create(ctx, sa); return err },
		func() error { _, err := c.cs.ConfigMaps().Create(ctx, ca); return err },
	} {
		if err := create(); err != nil && !strings.Contains(err.Error(), "exists") {
			t.Fatal(err)
		}
	}
}

// saVolume is the projected volume the ServiceAccount admission plugin
// adds to pods.
func saVolume(name string) api.Volume {
	exp, mode := int64(3607), int32(0o644)
	return api.Volume{Name: name, VolumeSource: api.VolumeSource{Projected: &api.ProjectedVolumeSource{DefaultMode: &mode,
		Sources: []api.VolumeProjection{
			{ServiceAccountToken: &api.ServiceAccountTokenProjection{ExpirationSeconds: &exp, Path: "token"}},
			{ConfigMap: &api.ConfigMapProjection{LocalObjectReference: api.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items: []api.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &api.DownwardAPIProjection{Items: []api.DownwardAPIVolumeFile{
				{Path: "namespace", FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}}},
		}}}}
}

// containerID returns the ID of the pod's container name.
func containerID(t *testing.T, k *Kubelet, ns, pod, name string) string {
	t.Helper()
	pc, err := k.LookupPod(context.Background(), ns, pod)
	if err != nil {
		t.Fatal(err)
	}
	return pc.Containers[name]
}

// TestVolumes: every supported volume type on the fake runtime — the
// container reads what the kubelet wrote, files have their modes, a
// ConfigMap change reaches the mounted file through an atomic swap, the
// service account token authenticates as the pod's service account, and
// the pod's directory goes with the pod.
func TestVolumes(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	volumesFixture(t, c)
	rt := fakeRuntime(t)
	root := t.TempDir()
	host := filepath.Join(t.TempDir(), "host", "data")
	k, _ := runKubelet(t, Config{Client: c.cs, Runtime: rt, NodeName: "node-1", RootDir: root, SyncPeriod: 50 * time.Millisecond})
	ctx := context.Background()

	mode600 := int32(0o600)
	dirOrCreate := api.HostPathDirectoryOrCreate
	limit := api.MustParse("1Mi")
	main := testContainer("main", "cat /etc/cfg/sub/a.txt", "print |", "cat /etc/sec/password", "print |",
		"cat /etc/pod/labels", "print |", "cat "+saMount+"/namespace", "print |", "write /scratch/f scratch-ok", "cat /scratch/f",
		"print |", "write /mem/f mem-ok", "cat /mem/f", "print |", "write /host/f host-ok", "print |", "cat /etc/cfg-b", "print |",
		"write /etc/cfg/x nope", "print done", "wait")
	main.VolumeMounts = []api.VolumeMount{{Name: "cfg", MountPath: "/etc/cfg"}, {Name: "sec", MountPath: "/etc/sec"},
		{Name: "pod", MountPath: "/etc/pod"}, {Name: "scratch", MountPath: "/scratch"}, {Name: "mem", MountPath: "/mem"},
		{Name: "host", MountPath: "/host"}, {Name: "sa", MountPath: saMount, ReadOnly: true},
		{Name: "cfgall", MountPath: "/etc/cfg-b", SubPath: "b"}}
	pod := newPod("vols", "node-1", main)
	pod.Labels = map[string]string{"app": "vols", "tier": "db"}
	pod.Spec.Volumes = []api.Volume{
		{Name: "cfg", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{LocalObjectReference: api.LocalObjectReference{Name: "cfg"},
			Items: []api.KeyToPath{{Key: "a", Path: "sub/a.txt", Mode: &mode600}}}}},
		{Name: "cfgall", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{LocalObjectReference: api.LocalObjectReference{Name: "cfg"}}}},
		{Name: "sec", VolumeSource: api.VolumeSource{Secret: &api.SecretVolumeSource{SecretName: "sec"}}},
		{Name: "pod", VolumeSource: api.VolumeSource{DownwardAPI: &api.DownwardAPIVolumeSource{Items: []api.DownwardAPIVolumeFile{
			{Path: "labels", FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.labels"}}}}}},
		{Name: "scratch", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{}}},
		{Name: "mem", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{Medium: api.StorageMediumMemory, SizeLimit: &limit}}},
		{Name: "host", VolumeSource: api.VolumeSource{HostPath: &api.HostPathVolumeSource{Path: host, Type: &dirOrCreate}}},
		saVolume("sa"),
	}
	created, err := c.cs.Pods().Create(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	waitPod(t, c.cs, "default", "vols", "Running", func(p *api.Pod) bool { return p != nil && p.Status.Phase == api.PodRunning })
	id := containerID(t, k, "default", "vols", "main")
	waitLog(t, rt, id, "done")
	logs := runtimetest.ReadLogs(ctx, t, rt, id, runtime.LogOptions{})
	for _, want := range []string{"alpha|", "s3cret|", "app=\"vols\"\ntier=\"db\"|", "default|", "scratch-ok", "mem-ok",
		"wrote /host/f", "beta|", "write /etc/cfg/x: read-only file system"} {
		if !strings.Contains(logs, want) {
			t.Errorf("container output lacks %q:\n%s", want, logs)
		}
	}
	if b, err := os.ReadFile(filepath.Join(host, "f")); err != nil || string(b) != "host-ok" {
		t.Errorf("hostPath file = %q, %v; want host-ok", b, err)
	}
	vdir := filepath.Join(root, "pods", string(created.UID), "volumes")
	if fi, err := os.Stat(filepath.Join(vdir, "cfg", "sub", "a.txt")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("configMap item mode = %v, %v; want 0600", fi, err)
	}
	if fi, err := os.Stat(filepath.Join(vdir, "sec", "password")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("secret file mode = %v, %v; want the default 0644", fi, err)
	}

	// The token is a bound service account token: the apiserver
	// authenticates it as system:serviceaccount:default:default.
	tok, err := os.ReadFile(filepath.Join(vdir, "sa", "token"))
	if err != nil {
		t.Fatal(err)
	}
	if user := whoAmI(t, c, string(tok)); user != "system:serviceaccount:default:default" {
		t.Errorf("the token authenticates as %q", user)
	}
	if ca, _ := os.ReadFile(filepath.Join(vdir, "sa", "ca.crt")); !strings.Contains(string(ca), "BEGIN CERTIFICATE") {
		t.Errorf("ca.crt = %q", ca)
	}

	// A ConfigMap update is swapped in atomically: ..data moves to a new
	// directory holding the new content.
	oldData, _ := os.Readlink(filepath.Join(vdir, "cfg", dataLink))
	cm, err := c.cs.ConfigMaps().Get(ctx, "default", "cfg")
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["a"] = "alpha-2"
	if _, err := c.cs.ConfigMaps().Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(vdir, "cfg", "sub", "a.txt"))
		_, oldErr := os.Stat(filepath.Join(vdir, "cfg", oldData))
		if string(b) == "alpha-2" && os.IsNotExist(oldErr) { // swapped, and the old version removed
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("configMap volume still holds %q", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if newData, _ := os.Readlink(filepath.Join(vdir, "cfg", dataLink)); newData == oldData {
		t.Errorf("..data still points at %s", oldData)
	}

	if _, err := c.cs.Pods().Delete(ctx, "default", "vols"); err != nil {
		t.Fatal(err)
	}
	waitPod(t, c.cs, "default", "vols", "gone", func(p *api.Pod) bool { return p == nil })
	if _, err := os.Stat(filepath.Join(root, "pods", string(created.UID))); !os.IsNotExist(err) {
		t.Errorf("the pod's directory is still there after delete: %v", err)
	}
	if _, err := os.Stat(host); err != nil {
		t.Errorf("the hostPath directory went with the pod: %v", err)
	}
}

// whoAmI returns the user a bearer token authenticates as
// (SelfSubjectReview).
func whoAmI(t *testing.T, c *cluster, token string) string {
	t.Helper()
	body := strings.NewReader(`{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`)
	req, _ := http.NewRequest(http.MethodPost, c.cs.Server()+"/apis/authentication.k8s.io/v1/selfsubjectreviews", body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	// No client certificate: only the token authenticates (a loopback
	// test server, so its certificate is not checked).
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status struct {
			UserInfo struct {
				Username string `json:"username"`
			} `json:"userInfo"`
		} `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("selfsubjectreview: HTTP %d: %v", resp.StatusCode, err)
	}
	return r.Status.UserInfo.Username
}

// podEvents returns the messages of the pod's events with reason.
func podEvents(t *testing.T, c *cluster, name, reason string) []string {
	t.Helper()
	l, err := c.cs.Events().List(context.Background(), "default", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range l.Items {
		if e.InvolvedObject.Name == name && e.Reason == reason {
			out = append(out, e.Message)
		}
	}
	return out
}

// waitEvent waits for an event of the pod with reason whose message holds
// want.
func waitEvent(t *testing.T, c *cluster, name, reason, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, m := range podEvents(t, c, name, reason) {
			if strings.Contains(m, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event of pod %s holding %q; have %q", reason, name, want, podEvents(t, c, name, reason))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestVolumeBadInput: a missing ConfigMap keeps the pod in
// ContainerCreating with a FailedMount event naming it, and nothing runs
// until it exists; a hostPath whose type does not match is reported the
// same way; runAsNonRoot with an image that runs as root is
// CreateContainerConfigError. None of them leaves a container behind.
func TestVolumeBadInput(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	rt := fakeRuntime(t)
	runKubelet(t, Config{Client: c.cs, Runtime: rt, NodeName: "node-1", SyncPeriod: 50 * time.Millisecond})
	ctx := context.Background()

	main := testContainer("main", "cat /cfg/k", "wait")
	main.VolumeMounts = []api.VolumeMount{{Name: "cfg", MountPath: "/cfg"}}
	pod := newPod("nocm", "node-1", main)
	pod.Spec.Volumes = []api.Volume{{Name: "cfg", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{
		LocalObjectReference: api.LocalObjectReference{Name: "later"}}}}}
	if _, err := c.cs.Pods().Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, c, "nocm", "FailedMount", `MountVolume.SetUp failed for volume "cfg" : configmap "later" not found`)
	p := waitPod(t, c.cs, "default", "nocm", "ContainerCreating", func(p *api.Pod) bool {
		return p != nil && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil
	})
	if w := p.Status.ContainerStatuses[0].State.Waiting; w.Reason != reasonContainerCreating || p.Status.Phase != api.PodPending {
		t.Errorf("pod with a missing configMap: phase %s, waiting %+v; want Pending, ContainerCreating", p.Status.Phase, w)
	}
	if cs, _ := rt.ListContainers(ctx, runtime.ContainerFilter{}); len(cs) != 0 {
		t.Errorf("containers created without the volume: %+v", cs)
	}
	cm := &api.ConfigMap{Data: map[string]string{"k": "now-here"}}
	cm.Namespace, cm.Name = "default", "later"
	if _, err := c.cs.ConfigMaps().Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	waitPod(t, c.cs, "default", "nocm", "Running", func(p *api.Pod) bool { return p != nil && p.Status.Phase == api.PodRunning })

	// A hostPath that must be a directory but is a file.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := api.HostPathDirectory
	hp := testContainer("main", "wait")
	hp.VolumeMounts = []api.VolumeMount{{Name: "h", MountPath: "/h"}}
	pod = newPod("badhost", "node-1", hp)
	pod.Spec.Volumes = []api.Volume{{Name: "h", VolumeSource: api.VolumeSource{HostPath: &api.HostPathVolumeSource{Path: file, Type: &dir}}}}
	if _, err := c.cs.Pods().Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, c, "badhost", "FailedMount", "hostPath type check failed: "+file+" is not a directory")

	// runAsNonRoot with the test image, which runs as root.
	yes := true
	nr := testContainer("main", "wait")
	nr.SecurityContext = &api.SecurityContext{RunAsNonRoot: &yes}
	pod = newPod("nonroot", "node-1", nr)
	if _, err := c.cs.Pods().Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	p = waitPod(t, c.cs, "default", "nonroot", "CreateContainerConfigError", func(p *api.Pod) bool {
		return p != nil && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil &&
			p.Status.ContainerStatuses[0].State.Waiting.Reason == reasonCreateContainerConfigEr
	})
	if msg := p.Status.ContainerStatuses[0].State.Waiting.Message; !strings.Contains(msg, "runAsNonRoot") || !strings.Contains(msg, "root") {
		t.Errorf("runAsNonRoot message = %q", msg)
	}
	cs, err := rt.ListContainers(ctx, runtime.ContainerFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 { // nocm's only
		t.Errorf("containers: %d, want only the nocm pod's", len(cs))
	}
}
