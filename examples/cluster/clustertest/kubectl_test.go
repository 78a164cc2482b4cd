package clustertest_test

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/cluster/clustertest"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

// kubectl runs kubectl 1.32 on c's admin kubeconfig with stdin and
// returns its stdout, stderr and exit code.
func kubectl(t *testing.T, c *clustertest.Cluster, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", c.KubeconfigPath}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err == nil || errors.As(err, &exit) {
		return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
	}
	t.Fatalf("kubectl %v: %v", args, err)
	return "", "", 0
}

// TestKubectlOnContainerdNodes: kubectl logs, exec and top reach the pods
// of a real containerd node through the apiserver, which proxies to the
// node's kubelet API (on the node's IP, with a port of its own published
// in the Node's status) with its kubelet client certificate; exec's exit
// code comes back to kubectl.
func TestKubectlOnContainerdNodes(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatalf("kubectl is required: %v", err)
	}
	fc := clockwork.NewFakeClockAt(time.Now())
	c := clustertest.Start(t, clustertest.Options{Nodes: 1, Containerd: true, MetricsClock: fc})
	ctx := context.Background()
	node, err := c.Client.Nodes().Get(ctx, "", "node-1")
	if err != nil {
		t.Fatal(err)
	}
	if port := node.Status.DaemonEndpoints.KubeletEndpoint.Port; port <= 0 {
		t.Fatalf("node-1 publishes kubelet port %d; want its API's port", port)
	}
	if _, err := c.Client.Pods().Create(ctx, pod("web", "node-1", clustertest.Container("app", "print one", "print two", "wait"))); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, c, "web")
	var out, errOut string
	var code int
	err = c.Poll(ctx, 30*time.Second, "kubectl logs web", func(context.Context) (bool, error) {
		out, errOut, code = kubectl(t, c, "", "logs", "web")
		return code == 0 && out == "one\ntwo\n", nil
	})
	if err != nil {
		t.Fatalf("%v: out %q err %q exit %d", err, out, errOut, code)
	}
	out, errOut, code = kubectl(t, c, "hello\n", "exec", "-i", "web", "--", runtimetest.TestBinary, "stdin", "exit", "3")
	if !strings.Contains(out, "stdin: hello\n") || code != 3 {
		t.Errorf("kubectl exec -i ... stdin exit 3: out %q err %q exit %d; want the echoed stdin and exit 3", out, errOut, code)
	}
	out, errOut, code = kubectl(t, c, "", "exec", "web", "--", runtimetest.TestBinary, "print", "inside")
	if out != "inside\n" || code != 0 {
		t.Errorf("kubectl exec print: out %q err %q exit %d", out, errOut, code)
	}
	// The scraper needs two samples of a pod's CPU time for a rate.
	err = c.Poll(ctx, 60*time.Second, "kubectl top pods to show web", func(context.Context) (bool, error) {
		fc.Advance(apiserver.DefaultMetricsResolution)
		out, errOut, code = kubectl(t, c, "", "top", "pods", "--no-headers")
		return code == 0 && strings.Contains(out, "web "), nil
	})
	if err != nil {
		t.Fatalf("%v: out %q err %q exit %d", err, out, errOut, code)
	}
	if !regexp.MustCompile(`(?m)^web\s+\d+m\s+\d+Mi`).MatchString(out) {
		t.Errorf("kubectl top pods: %q", out)
	}
	// The node's usage is a rate too: its samples may come a scrape
	// after the pod's.
	nodeTop := regexp.MustCompile(`^node-1\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%`)
	err = c.Poll(ctx, 60*time.Second, "kubectl top nodes to show node-1", func(context.Context) (bool, error) {
		out, errOut, code = kubectl(t, c, "", "top", "nodes", "--no-headers")
		if code != 0 {
			fc.Advance(apiserver.DefaultMetricsResolution)
		}
		return code == 0 && nodeTop.MatchString(out), nil
	})
	if err != nil {
		t.Errorf("%v: out %q err %q exit %d", err, out, errOut, code)
	}
	// The cluster serves two-level scheduling's group.
	out, errOut, code = kubectl(t, c, "", "get", "frameworks,offers")
	if code != 0 || !strings.Contains(out+errOut, "No resources found") {
		t.Errorf("kubectl get frameworks,offers: out %q err %q exit %d", out, errOut, code)
	}
}
