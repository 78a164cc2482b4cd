package clustertest_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/cluster/clustertest"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

// TestContainerdNodesReachEachOther: on two real containerd nodes, each
// with its own bridge and pod subnet, a pod on node-2 reaches a pod on
// node-1 by pod IP, and so does the host; the pod IPs come from each
// node's podCIDR.
func TestContainerdNodesReachEachOther(t *testing.T) {
	c := clustertest.Start(t, clustertest.Options{Nodes: 2, Containerd: true})
	ctx := context.Background()
	server := pod("server", "node-1", clustertest.Container("c", "serve :7000", "wait"))
	if _, err := c.Client.Pods().Create(ctx, server); err != nil {
		t.Fatal(err)
	}
	srv := waitRunning(t, c, "server")
	node1, err := c.Client.Nodes().Get(ctx, "", "node-1")
	if err != nil {
		t.Fatal(err)
	}
	_, cidr, _ := net.ParseCIDR(node1.Spec.PodCIDR)
	if cidr == nil || !cidr.Contains(net.ParseIP(srv.Status.PodIP)) {
		t.Fatalf("server pod IP %q is not in node-1's podCIDR %q", srv.Status.PodIP, node1.Spec.PodCIDR)
	}
	addr := net.JoinHostPort(srv.Status.PodIP, "7000")
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatalf("host to pod %s: %v", addr, err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	if err != nil || line != "pong\n" {
		t.Fatalf("host to pod %s: read %q, %v", addr, line, err)
	}
	client := pod("client", "node-2", clustertest.Container("c", "get "+addr, "wait"))
	if _, err := c.Client.Pods().Create(ctx, client); err != nil {
		t.Fatal(err)
	}
	cl := waitRunning(t, c, "client")
	if cl.Status.PodIP == "" || cl.Status.PodIP == srv.Status.PodIP || cl.Status.HostIP == srv.Status.HostIP {
		t.Errorf("client pod IP %q host IP %q, server pod IP %q host IP %q: want distinct", cl.Status.PodIP, cl.Status.HostIP, srv.Status.PodIP, srv.Status.HostIP)
	}
	id := strings.TrimPrefix(cl.Status.ContainerStatuses[0].ContainerID, "containerd://")
	err = c.Poll(ctx, 30*time.Second, "the client pod on node-2 to read pong from node-1's pod", func(ctx context.Context) (bool, error) {
		logs := runtimetest.ReadLogs(ctx, t, c.Runtimes["node-2"], id, runtime.LogOptions{})
		return strings.Contains(logs, "pong"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func pod(name, node string, c api.Container) *api.Pod {
	p := &api.Pod{}
	p.Namespace, p.Name = "default", name
	p.Spec.NodeName = node
	p.Spec.Containers = []api.Container{c}
	return p
}

// waitRunning waits until pod name runs and returns it.
func waitRunning(t *testing.T, c *clustertest.Cluster, name string) *api.Pod {
	t.Helper()
	var p *api.Pod
	err := c.Poll(context.Background(), time.Minute, name+" Running", func(ctx context.Context) (bool, error) {
		var err error
		p, err = c.Client.Pods().Get(ctx, "default", name)
		return err == nil && p.Status.Phase == api.PodRunning && len(p.Status.ContainerStatuses) > 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
