package clustertest_test

import (
	"bufio"
	"context"
	"fmt"
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
// with its own bridge, pod subnet (from node IPAM) and proxy, a pod on
// node-2 reaches a pod on node-1 by pod IP, by its Service's ClusterIP
// and by the Service's DNS name (the cluster DNS, reached through the
// kube-dns ClusterIP the kubelet wrote into the pod's resolv.conf); the
// host reaches it by pod IP and by NodePort; the pod IPs come from each
// node's podCIDR.
func TestContainerdNodesReachEachOther(t *testing.T) {
	c := clustertest.Start(t, clustertest.Options{Nodes: 2, Containerd: true})
	ctx := context.Background()
	server := pod("server", "node-1", clustertest.Container("c", "serve :7000", "wait"))
	server.Labels = map[string]string{"app": "server"}
	if _, err := c.Client.Pods().Create(ctx, server); err != nil {
		t.Fatal(err)
	}
	svc := &api.Service{}
	svc.Namespace, svc.Name = "default", "server"
	svc.Spec.Type = api.ServiceTypeNodePort
	svc.Spec.Selector = map[string]string{"app": "server"}
	svc.Spec.Ports = []api.ServicePort{{Name: "pong", Protocol: api.ProtocolTCP, Port: 7000, TargetPort: api.FromInt(7000)}}
	svc, err := c.Client.Services().Create(ctx, svc)
	if err != nil {
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
	// Running means the container started, not that its server listens
	// yet (the pod has no readiness probe): retry until it answers.
	err = c.Poll(ctx, 30*time.Second, "the host to read pong from pod "+addr, func(ctx context.Context) (bool, error) {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false, nil
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(time.Second))
		line, _ := bufio.NewReader(conn).ReadString('\n')
		return line == "pong\n", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	nodePort := net.JoinHostPort(srv.Status.HostIP, fmt.Sprint(svc.Spec.Ports[0].NodePort))
	err = c.Poll(ctx, 30*time.Second, "the host to read pong from NodePort "+nodePort, func(ctx context.Context) (bool, error) {
		conn, err := net.DialTimeout("tcp", nodePort, time.Second)
		if err != nil {
			return false, nil
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(time.Second))
		line, _ := bufio.NewReader(conn).ReadString('\n')
		return line == "pong\n", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	client := pod("client", "node-2", clustertest.Container("c", "get "+addr, "print by-pod-ip",
		"get "+net.JoinHostPort(svc.Spec.ClusterIP, "7000"), "print by-cluster-ip",
		"get server.default.svc.cluster.local:7000", "print by-dns-name", "wait"))
	if _, err := c.Client.Pods().Create(ctx, client); err != nil {
		t.Fatal(err)
	}
	cl := waitRunning(t, c, "client")
	if cl.Status.PodIP == "" || cl.Status.PodIP == srv.Status.PodIP || cl.Status.HostIP == srv.Status.HostIP {
		t.Errorf("client pod IP %q host IP %q, server pod IP %q host IP %q: want distinct", cl.Status.PodIP, cl.Status.HostIP, srv.Status.PodIP, srv.Status.HostIP)
	}
	id := strings.TrimPrefix(cl.Status.ContainerStatuses[0].ContainerID, "containerd://")
	var logs string
	err = c.Poll(ctx, 30*time.Second, "the client pod on node-2 to read pong from node-1's pod by IP, ClusterIP and DNS name", func(ctx context.Context) (bool, error) {
		logs = runtimetest.ReadLogs(ctx, t, c.Runtimes["node-2"], id, runtime.LogOptions{})
		return strings.Count(logs, "pong") == 3 && strings.Contains(logs, "by-dns-name"), nil
	})
	if err != nil {
		t.Logf("client logs:\n%s", logs)
	}
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
