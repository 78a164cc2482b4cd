package kubelet

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/kubelet/server"
)

// streamCluster is an apiserver on a fake clock (it times the metrics
// scrapes), its kubeconfig on disk for kubectl, and a client.
type streamCluster struct {
	srv   *apiserver.Server
	cs    *client.Clientset
	kc    string
	clock *clockwork.FakeClock
}

func startStreamCluster(t *testing.T) *streamCluster {
	t.Helper()
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatalf("kubectl is required: %v", err)
	}
	fc := clockwork.NewFakeClockAt(time.Now())
	srv := runAPIServer(t, apiserver.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", EtcdNoFsync: true, EtcdLogLevel: "off",
		MetricsClock: fc, CompactionInterval: -1})
	kc, err := srv.Kubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	cs, err := client.New(client.Config{Kubeconfig: kc, QPS: -1})
	if err != nil {
		t.Fatal(err)
	}
	return &streamCluster{srv: srv, cs: cs, kc: path, clock: fc}
}

// kubectl runs kubectl with stdin and returns its output and exit code.
func (c *streamCluster) kubectl(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", c.kc}, args...)...)
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

// background starts kubectl and returns its stdout lines; stop kills it.
func (c *streamCluster) background(t *testing.T, args ...string) (lines <-chan string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", c.kc}, args...)...)
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
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("kubectl %v stderr: %s", args, errOut.String())
		}
	}
	t.Cleanup(stop)
	return ch, stop
}

// expectLines reads lines until every one of want was seen, in order.
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
			if strings.TrimSpace(l) == want[0] {
				want = want[1:]
			}
		case <-timeout.C:
			t.Fatalf("saw %q; still waiting for %q", seen, want)
		}
	}
}

// TestKubectlThroughKubelet: kubectl 1.32, unchanged, against the
// apiserver, which proxies to the kubelet's HTTPS API on real containerd:
// logs (-f, --tail, --previous), exec with stdin and an exit code, attach,
// port-forward, get --raw of the node's stats summary, top; Kubernetes'
// errors for bad input; the kubelet refuses clients without the
// apiserver's certificate.
func TestKubectlThroughKubelet(t *testing.T) {
	c := startStreamCluster(t)
	rt := containerdRuntime(t)
	ctx := context.Background()
	k, _ := runKubelet(t, Config{Client: c.cs, Runtime: rt, NodeName: "node-1", NodeIP: "127.0.0.1", SyncPeriod: 200 * time.Millisecond,
		BackoffBase: 100 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		Serving: ServingConfig{Listen: "127.0.0.1:0", ClientCAPEM: c.srv.PKI().CACert}})

	pod := newPod("web", "node-1")
	echo := testContainer("echo", "print echo-start", "stdin", "print echo-done", "exit 0")
	echo.Stdin, echo.StdinOnce = true, true
	pod.Spec.Containers = []api.Container{
		testContainer("app", "count 5", "serve 127.0.0.1:7000", "wait"),
		echo,
	}
	if _, err := c.cs.Pods().Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	waitPod(t, c.cs, "default", "web", "Running", func(p *api.Pod) bool {
		if p == nil || p.Status.Phase != api.PodRunning {
			return false
		}
		for _, s := range p.Status.ContainerStatuses {
			if s.State.Running == nil {
				return false
			}
		}
		return len(p.Status.ContainerStatuses) == 2
	})

	t.Run("logs --tail", func(t *testing.T) {
		out, errOut, code := c.kubectl(t, "", "logs", "web", "-c", "app", "--tail=2")
		if code != 0 || out != "4\n5\n" {
			t.Errorf("kubectl logs --tail=2: %q %q exit %d; want \"4\\n5\\n\"", out, errOut, code)
		}
		out, _, code = c.kubectl(t, "", "logs", "web", "-c", "app", "--limit-bytes=4")
		if code != 0 || out != "1\n2\n" {
			t.Errorf("kubectl logs --limit-bytes=4: %q exit %d", out, code)
		}
	})

	t.Run("exec with stdin and exit code", func(t *testing.T) {
		out, errOut, code := c.kubectl(t, "hello\nworld\n", "exec", "-i", "web", "-c", "app", "--", "/testbin", "stdin", "exit", "3")
		if code != 3 || out != "stdin: hello\nstdin: world\nstdin: EOF\n" {
			t.Errorf("kubectl exec: out %q err %q exit %d; want the echoed stdin and exit 3", out, errOut, code)
		}
		out, _, code = c.kubectl(t, "", "exec", "web", "-c", "app", "--", "/testbin", "print", "ok")
		if code != 0 || out != "ok\n" {
			t.Errorf("kubectl exec print: %q exit %d", out, code)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		_, errOut, code := c.kubectl(t, "", "exec", "web", "-c", "app", "--", "/no/such/binary")
		if code == 0 || !strings.Contains(errOut, "/no/such/binary") {
			t.Errorf("exec of a missing command: exit %d, stderr %q; want a failure naming the command", code, errOut)
		}
		_, errOut, code = c.kubectl(t, "", "logs", "web", "-c", "nosuch")
		if code != 1 || !strings.Contains(errOut, "container nosuch is not valid for pod web") {
			t.Errorf("logs of an unknown container: exit %d, stderr %q", code, errOut)
		}
		// kubectl picks a container itself; the API asks for one.
		_, errOut, code = c.kubectl(t, "", "get", "--raw", "/api/v1/namespaces/default/pods/web/log")
		if code != 1 || !strings.Contains(errOut, "a container name must be specified for pod web, choose one of: [app echo]") {
			t.Errorf("pods/log without a container in a two-container pod: exit %d, stderr %q", code, errOut)
		}
		_, errOut, code = c.kubectl(t, "", "logs", "web", "-c", "app", "--previous")
		if code != 1 || !strings.Contains(errOut, `previous terminated container "app" in pod "web" not found`) {
			t.Errorf("logs --previous of a container that never restarted: exit %d, stderr %q", code, errOut)
		}
		missing := newPod("missing", "node-1", api.Container{Name: "c", Image: "example.com/missing:v1", ImagePullPolicy: api.PullNever})
		if _, err := c.cs.Pods().Create(ctx, missing); err != nil {
			t.Fatal(err)
		}
		waitPod(t, c.cs, "default", "missing", "waiting with ErrImageNeverPull", func(p *api.Pod) bool {
			return p != nil && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil &&
				p.Status.ContainerStatuses[0].State.Waiting.Reason == "ErrImageNeverPull"
		})
		_, errOut, code = c.kubectl(t, "", "logs", "missing")
		if code != 1 || !strings.Contains(errOut, `container "c" in pod "missing" is waiting to start: ErrImageNeverPull`) {
			t.Errorf("logs of a waiting container: exit %d, stderr %q", code, errOut)
		}
		unscheduled := newPod("unscheduled", "", testContainer("c", "wait"))
		if _, err := c.cs.Pods().Create(ctx, unscheduled); err != nil {
			t.Fatal(err)
		}
		_, errOut, code = c.kubectl(t, "", "exec", "unscheduled", "--", "/testbin", "print", "x")
		if code != 1 || !strings.Contains(errOut, "pod unscheduled does not have a host assigned") {
			t.Errorf("exec in an unscheduled pod: exit %d, stderr %q", code, errOut)
		}
	})

	t.Run("get --raw stats summary", func(t *testing.T) {
		out, errOut, code := c.kubectl(t, "", "get", "--raw", "/api/v1/nodes/node-1/proxy/stats/summary")
		if code != 0 {
			t.Fatalf("get --raw: exit %d: %s", code, errOut)
		}
		var sum server.Summary
		if err := json.Unmarshal([]byte(out), &sum); err != nil {
			t.Fatalf("summary %q: %v", out, err)
		}
		if sum.Node.NodeName != "node-1" || sum.Node.CPU == nil || sum.Node.Memory == nil || *sum.Node.Memory.WorkingSetBytes == 0 {
			t.Errorf("node stats: %+v", sum.Node)
		}
		var web *server.PodStats
		for i := range sum.Pods {
			if sum.Pods[i].PodRef.Name == "web" {
				web = &sum.Pods[i]
			}
		}
		if web == nil || len(web.Containers) != 2 || web.Memory == nil || *web.Memory.WorkingSetBytes == 0 || web.Network == nil {
			t.Fatalf("pod stats of web: %+v", web)
		}
	})

	t.Run("port-forward", func(t *testing.T) {
		lines, stop := c.background(t, "port-forward", "pod/web", "0:7000")
		defer stop()
		re := regexp.MustCompile(`^Forwarding from 127\.0\.0\.1:(\d+) -> 7000`)
		var port string
		deadline := time.NewTimer(60 * time.Second)
		defer deadline.Stop()
		for port == "" {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatal("kubectl port-forward ended")
				}
				if m := re.FindStringSubmatch(l); m != nil {
					port = m[1]
				}
			case <-deadline.C:
				t.Fatal("kubectl port-forward did not start")
			}
		}
		for i := range 2 { // two connections over the one forward
			conn, err := net.Dial("tcp", "127.0.0.1:"+port)
			if err != nil {
				t.Fatal(err)
			}
			conn.SetDeadline(time.Now().Add(30 * time.Second))
			line, err := bufio.NewReader(conn).ReadString('\n')
			conn.Close()
			if err != nil || line != "pong\n" {
				t.Fatalf("connection %d through the forward: %q %v", i, line, err)
			}
		}
	})

	t.Run("attach and logs -f and --previous", func(t *testing.T) {
		follow, stopFollow := c.background(t, "logs", "-f", "web", "-c", "echo")
		defer stopFollow()
		expectLines(t, follow, "echo-start")
		out, errOut, code := c.kubectl(t, "ping\n", "attach", "-i", "web", "-c", "echo")
		if code != 0 || !strings.Contains(out, "stdin: ping") {
			t.Errorf("kubectl attach: out %q err %q exit %d", out, errOut, code)
		}
		expectLines(t, follow, "stdin: ping", "stdin: EOF", "echo-done")
		waitPod(t, c.cs, "default", "web", "echo restarted", func(p *api.Pod) bool {
			for _, s := range p.Status.ContainerStatuses {
				if s.Name == "echo" && s.RestartCount >= 1 {
					return true
				}
			}
			return false
		})
		out, errOut, code = c.kubectl(t, "", "logs", "web", "-c", "echo", "--previous", "--tail=3")
		if code != 0 || out != "stdin: ping\nstdin: EOF\necho-done\n" {
			t.Errorf("logs --previous --tail=3: %q %q exit %d", out, errOut, code)
		}
	})

	t.Run("top", func(t *testing.T) {
		var nodes, pods string
		deadline := time.Now().Add(60 * time.Second)
		for {
			c.clock.Advance(apiserver.DefaultMetricsResolution)
			var code1, code2 int
			nodes, _, code1 = c.kubectl(t, "", "top", "nodes", "--no-headers")
			pods, _, code2 = c.kubectl(t, "", "top", "pods", "--no-headers")
			if code1 == 0 && code2 == 0 && strings.HasPrefix(nodes, "node-1 ") && strings.Contains(pods, "web ") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("kubectl top: nodes %q pods %q", nodes, pods)
			}
		}
		if !regexp.MustCompile(`^node-1\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%`).MatchString(nodes) {
			t.Errorf("top nodes: %q", nodes)
		}
		if !regexp.MustCompile(`(?m)^web\s+\d+m\s+\d+Mi`).MatchString(pods) {
			t.Errorf("top pods: %q", pods)
		}
	})

	t.Run("the kubelet refuses other clients", func(t *testing.T) {
		url := "https://127.0.0.1:" + strconv.Itoa(k.ServerPort()) + "/pods"
		anon := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		defer anon.CloseIdleConnections()
		if code := status(t, anon, url); code != http.StatusUnauthorized {
			t.Errorf("no client certificate: %d, want 401", code)
		}
		cert, err := tls.X509KeyPair(c.srv.PKI().AdminCert, c.srv.PKI().AdminKey)
		if err != nil {
			t.Fatal(err)
		}
		admin := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{cert}}}}
		defer admin.CloseIdleConnections()
		if code := status(t, admin, url); code != http.StatusForbidden {
			t.Errorf("the admin's certificate (not the apiserver's): %d, want 403", code)
		}
	})
}

// status GETs url and returns the status code.
func status(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
