package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

const kubectlPath = "/usr/bin/kubectl"

func requireKubectl(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(kubectlPath); err != nil {
		t.Fatalf("kubectl 1.32 is required at %s: %v", kubectlPath, err)
	}
}

// kubectl runs kubectl against s and returns its combined output; it fails
// the test if kubectl fails, unless wantErr.
func (s *testServer) kubectl(t *testing.T, wantErr bool, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectlPath, append([]string{"--kubeconfig", s.kubeconfig}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+s.dir, "KUBECACHEDIR="+filepath.Join(s.dir, "kubecache"))
	out, err := cmd.CombinedOutput()
	if (err != nil) != wantErr {
		t.Fatalf("kubectl %s: err=%v, want error %v\n%s", strings.Join(args, " "), err, wantErr, out)
	}
	return string(out)
}

func (s *testServer) writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(s.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const podYAML = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: c
    image: nginx
`

const deployYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: c
        image: nginx
`

func deployments(t *testing.T, s *testServer) *rest.Client[*apps.Deployment] {
	t.Helper()
	c, err := rest.NewClient[*apps.Deployment](s.httpClient(t, true), s.URL(), registry.DeploymentKind.Resource())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestKubectl(t *testing.T) {
	requireKubectl(t)
	s := startServer(t)
	ctx := context.Background()
	pods := podClient(t, s)
	deps := deployments(t, s)

	// create -f, checked against the store
	out := s.kubectl(t, false, "create", "-f", s.writeFile(t, "pod.yaml", podYAML))
	if !strings.Contains(out, "pod/web created") {
		t.Fatalf("create: %s", out)
	}
	web, err := pods.Get(ctx, "default", "web")
	if err != nil || web.Labels["app"] != "web" || web.Spec.Containers[0].Image != "nginx" {
		t.Fatalf("stored pod: %+v %v", web, err)
	}
	// get: table, json, yaml
	out = s.kubectl(t, false, "get", "pods")
	if !strings.Contains(out, "NAME") || !strings.Contains(out, "STATUS") || !strings.Contains(out, "web") || !strings.Contains(out, "Pending") {
		t.Fatalf("get pods table: %s", out)
	}
	out = s.kubectl(t, false, "get", "pod", "web", "-o", "json")
	var got api.Pod
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.UID != web.UID || got.ResourceVersion != web.ResourceVersion {
		t.Fatalf("get -o json: %v\n%s", err, out)
	}
	out = s.kubectl(t, false, "get", "pod", "web", "-o", "yaml")
	if !strings.Contains(out, "uid: "+web.UID) || !strings.Contains(out, "image: nginx") {
		t.Fatalf("get -o yaml: %s", out)
	}
	// apply three times: created, unchanged (no write), configured
	depFile := s.writeFile(t, "deploy.yaml", strings.Replace(deployYAML, "REPLICAS", "2", 1))
	if out = s.kubectl(t, false, "apply", "-f", depFile); !strings.Contains(out, "deployment.apps/web created") {
		t.Fatalf("apply 1: %s", out)
	}
	d1, err := deps.Get(ctx, "default", "web")
	if err != nil || *d1.Spec.Replicas != 2 {
		t.Fatalf("after apply 1: %+v %v", d1, err)
	}
	if out = s.kubectl(t, false, "apply", "-f", depFile); !strings.Contains(out, "deployment.apps/web unchanged") {
		t.Fatalf("apply 2: %s", out)
	}
	if d2, err := deps.Get(ctx, "default", "web"); err != nil || d2.ResourceVersion != d1.ResourceVersion {
		t.Fatalf("the second apply wrote: %v -> %v (%v)", d1.ResourceVersion, d2.ResourceVersion, err)
	}
	s.writeFile(t, "deploy.yaml", strings.Replace(deployYAML, "REPLICAS", "3", 1))
	if out = s.kubectl(t, false, "apply", "-f", depFile); !strings.Contains(out, "deployment.apps/web configured") {
		t.Fatalf("apply 3: %s", out)
	}
	if d3, err := deps.Get(ctx, "default", "web"); err != nil || *d3.Spec.Replicas != 3 || d3.Generation != 2 {
		t.Fatalf("after apply 3: %+v %v; want 3 replicas, generation 2", d3, err)
	}
	// scale
	if out = s.kubectl(t, false, "scale", "deployment", "web", "--replicas=5"); !strings.Contains(out, "deployment.apps/web scaled") {
		t.Fatalf("scale: %s", out)
	}
	if d4, err := deps.Get(ctx, "default", "web"); err != nil || *d4.Spec.Replicas != 5 {
		t.Fatalf("after scale: %+v %v", d4, err)
	}
	// --selector
	if _, err := pods.Create(ctx, newPod("default", "other", map[string]string{"app": "db"})); err != nil {
		t.Fatal(err)
	}
	if out = s.kubectl(t, false, "get", "pods", "--selector", "app=web", "-o", "name"); strings.TrimSpace(out) != "pod/web" {
		t.Fatalf("get --selector app=web: %q", out)
	}
	if out = s.kubectl(t, false, "get", "pods", "-l", "app in (db)", "-o", "name"); strings.TrimSpace(out) != "pod/other" {
		t.Fatalf("get -l 'app in (db)': %q", out)
	}
	if out = s.kubectl(t, true, "get", "pods", "-l", "app in (db"); !strings.Contains(out, "labelSelector") && !strings.Contains(out, "unable to parse") {
		t.Fatalf("malformed selector: %q", out)
	}
	// get -w sees a change made through the store
	testKubectlWatch(t, s, pods)
	// delete by selector removes only the matching pod
	if out = s.kubectl(t, false, "delete", "pods", "-l", "app=db"); !strings.Contains(out, `pod "other" deleted`) {
		t.Fatalf("delete -l app=db: %s", out)
	}
	if _, err := pods.Get(ctx, "default", "other"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("pod other after delete -l: %v", err)
	}
	if _, err := pods.Get(ctx, "default", "web"); err != nil {
		t.Fatalf("delete -l app=db removed web: %v", err)
	}
	// delete
	if out = s.kubectl(t, false, "delete", "pod", "web"); !strings.Contains(out, `pod "web" deleted`) {
		t.Fatalf("delete: %s", out)
	}
	if _, err := pods.Get(ctx, "default", "web"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v, want not found", err)
	}
	if out = s.kubectl(t, false, "delete", "-f", depFile); !strings.Contains(out, "deleted") {
		t.Fatalf("delete -f: %s", out)
	}
	if _, err := deps.Get(ctx, "default", "web"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deployment after delete -f: %v", err)
	}
	// errors come back as kubectl prints Kubernetes errors
	if out = s.kubectl(t, true, "get", "pod", "nope"); !strings.Contains(out, `pods "nope" not found`) && !strings.Contains(out, "NotFound") {
		t.Fatalf("get missing: %s", out)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func testKubectlWatch(t *testing.T, s *testServer, pods *rest.Client[*api.Pod]) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectlPath, "--kubeconfig", s.kubeconfig, "get", "pods", "-w")
	cmd.Env = append(os.Environ(), "HOME="+s.dir)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		cmd.Wait()
	}()
	waitFor(t, "kubectl get -w to list the existing pods", func() bool { return strings.Contains(out.String(), "other") })
	if _, err := pods.Create(context.Background(), newPod("default", "watched", nil)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "kubectl get -w to print the new pod", func() bool { return strings.Contains(out.String(), "watched") })
	if strings.Count(out.String(), "NAME") != 1 {
		t.Fatalf("kubectl -w printed the header more than once:\n%s", out.String())
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestKubectlAuth(t *testing.T) {
	requireKubectl(t)
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.csv")
	rules := filepath.Join(dir, "rules.json")
	os.WriteFile(tokens, []byte("t-viewer,viewer,1,viewers\n"), 0o600)
	os.WriteFile(rules, []byte(`[{"group":"system:masters","verbs":["*"],"resources":["*"]},
		{"group":"viewers","verbs":["get","list","watch"],"resources":["pods"]}]`), 0o600)
	s := startServer(t, func(c *Config) { c.TokenFile, c.AuthzFile = tokens, rules })
	viewer := *s
	viewer.kubeconfig = filepath.Join(s.dir, "viewer.kubeconfig")
	kc, err := Kubeconfig(s.URL(), s.PKI().CACert, nil, nil, "t-viewer")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(viewer.kubeconfig, kc, 0o600)
	nobody := *s
	nobody.kubeconfig = filepath.Join(s.dir, "nobody.kubeconfig")
	kc, _ = Kubeconfig(s.URL(), s.PKI().CACert, nil, nil, "not-a-token")
	os.WriteFile(nobody.kubeconfig, kc, 0o600)

	rev := s.revision(t)
	podFile := s.writeFile(t, "pod.yaml", podYAML)
	if out := viewer.kubectl(t, true, "create", "-f", podFile); !strings.Contains(out, "Forbidden") && !strings.Contains(out, "forbidden") {
		t.Fatalf("viewer create: %s", out)
	}
	if out := nobody.kubectl(t, true, "get", "pods"); !strings.Contains(out, "Unauthorized") && !strings.Contains(out, "provide credentials") {
		t.Fatalf("unknown token: %s", out)
	}
	if out := nobody.kubectl(t, true, "create", "-f", podFile); !strings.Contains(out, "Unauthorized") && !strings.Contains(out, "provide credentials") {
		t.Fatalf("unknown token create: %s", out)
	}
	if got := s.revision(t); got != rev {
		t.Fatalf("rejected kubectl requests wrote: revision %d -> %d", rev, got)
	}
	if out := viewer.kubectl(t, false, "get", "pods"); !strings.Contains(out, "No resources found") {
		t.Fatalf("viewer get: %s", out)
	}
}
