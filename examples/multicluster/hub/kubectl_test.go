package hub_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/kubelet"
	"github.com/setpoint-dev/setpoint/examples/multicluster/mctest"
	"github.com/setpoint-dev/setpoint/examples/multicluster/tunnel"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
	"github.com/setpoint-dev/setpoint/store"
)

// kubeconfig writes a kubeconfig for user's token whose server is the
// hub's proxy of cluster id.
func (e *env) kubeconfig(t *testing.T, id, user string) string {
	t.Helper()
	kc, err := apiserver.Kubeconfig(e.hub.URL()+tunnel.ProxyPath(id), e.hub.CACertPEM(), nil, nil, mctest.Token(user))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig-"+id)
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// kubectl runs kubectl 1.32 with kubeconfig and returns its output and
// exit code.
func kubectl(t *testing.T, kubeconfig, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), errOut.String(), 0
	case errors.As(err, &ee):
		return out.String(), errOut.String(), ee.ExitCode()
	}
	t.Fatalf("kubectl %v: %v", args, err)
	return "", "", -1
}

// background starts kubectl and returns its stdout lines.
func background(t *testing.T, kubeconfig string, args ...string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch := make(chan string, 100)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("kubectl %v stderr: %s", args, errOut.String())
		}
	})
	return ch
}

// expectLines reads lines until each of want was seen, in order.
func expectLines(t *testing.T, lines <-chan string, want ...string) {
	t.Helper()
	timeout := time.NewTimer(60 * time.Second)
	defer timeout.Stop()
	var seen []string
	for len(want) > 0 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended after %q; still waiting for %q", seen, want)
			}
			seen = append(seen, l)
			if strings.Contains(strings.Join(strings.Fields(l), " "), want[0]) {
				want = want[1:]
			}
		case <-timeout.C:
			t.Fatalf("saw %q; still waiting for %q", seen, want)
		}
	}
}

// testKubectl: kubectl 1.32, unchanged, through the hub into each child:
// get, a watch, logs -f and exec (an upgraded stream) on a pod of a real
// kubelet (fake runtime) in child a.
func testKubectl(t *testing.T, e *env) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatalf("kubectl is required: %v", err)
	}
	kcA, kcB := e.kubeconfig(t, "a", "alice"), e.kubeconfig(t, "b", "alice")
	for id, kc := range map[string]string{"a": kcA, "b": kcB} {
		out, errOut, code := kubectl(t, kc, "", "get", "configmap", "who", "-o", "jsonpath={.data.cluster}")
		if code != 0 || out != id {
			t.Errorf("kubectl get through cluster %s: %q %q exit %d", id, out, errOut, code)
		}
	}
	out, errOut, code := kubectl(t, kcA, "", "get", "secrets")
	if code == 0 || !strings.Contains(errOut, `User "alice" cannot list resource "secrets"`) {
		t.Errorf("kubectl get secrets as alice: %q %q exit %d; want the child's Forbidden", out, errOut, code)
	}

	// a watch streams through the tunnel
	lines := background(t, kcB, "get", "configmaps", "--watch", "--output-watch-events", "-o", "custom-columns=EVENT:.type,NAME:.object.metadata.name")
	expectLines(t, lines, "who")
	csB := controllertest.Clientset(t, e.children["b"])
	if _, err := csB.ConfigMaps().Create(context.Background(), &api.ConfigMap{ObjectMeta: store.ObjectMeta{Name: "later", Namespace: "default"}}); err != nil {
		t.Fatal(err)
	}
	expectLines(t, lines, "ADDED later")

	// logs -f and exec reach a real kubelet behind child a's apiserver
	csA := controllertest.Clientset(t, e.children["a"])
	rt := fake.New(fake.WithProgram(runtimetest.TestBinary, runtimetest.FakeTestBinary), fake.WithNodeIP("127.0.0.1"))
	if _, err := rt.ImportImage(context.Background(), bytes.NewReader(runtimetest.TestImage(t))); err != nil {
		t.Fatal(err)
	}
	k, err := kubelet.New(kubelet.Config{Client: csA, Runtime: rt, NodeName: "node-1", NodeIP: "127.0.0.1", RootDir: t.TempDir(),
		SyncPeriod: 200 * time.Millisecond, Logger: mctest.Quiet(),
		Serving: kubelet.ServingConfig{Listen: "127.0.0.1:0", ClientCAPEM: e.children["a"].PKI().CACert}})
	if err != nil {
		t.Fatal(err)
	}
	mctest.Run(t, "kubelet", k.Run)
	pod := &api.Pod{ObjectMeta: store.ObjectMeta{Name: "web", Namespace: "default"}, Spec: api.PodSpec{NodeName: "node-1",
		Containers: []api.Container{{Name: "app", Image: runtimetest.TestImageName, ImagePullPolicy: api.PullNever,
			Args: []string{"count", "3", "stdin", "wait"}, Stdin: true}}}}
	if _, err := csA.Pods().Create(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	logs := background(t, kcA, "logs", "-f", "web", "--pod-running-timeout=60s")
	expectLines(t, logs, "1", "2", "3")
	out, errOut, code = kubectl(t, kcA, "hello\n", "exec", "-i", "web", "--", "/testbin", "stdin", "exit", "3")
	if code != 3 || out != "stdin: hello\nstdin: EOF\n" {
		t.Errorf("kubectl exec through the hub: out %q err %q exit %d; want the echoed stdin and exit 3", out, errOut, code)
	}
}
