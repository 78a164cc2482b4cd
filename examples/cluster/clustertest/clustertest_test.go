package clustertest_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/cluster"
	"github.com/setpoint-dev/setpoint/examples/cluster/clustertest"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/store"
)

// TestMain fails the package if any test leaves a goroutine behind once
// its clusters have stopped.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func deployment(name string, replicas int32) *apps.Deployment {
	d := &apps.Deployment{}
	d.Namespace, d.Name = "default", name
	d.Spec.Replicas = &replicas
	d.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": name}}
	d.Spec.Template.Labels = map[string]string{"app": name}
	web := clustertest.Container("web", "http :8080", "wait")
	web.ReadinessProbe = &api.Probe{ProbeHandler: api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Path: "/readyz", Port: api.IntOrString{IntVal: 8080}}}, PeriodSeconds: 1}
	d.Spec.Template.Spec.Containers = []api.Container{web}
	return d
}

// runningReady returns the Running and Ready pods of app, by node.
func runningReady(ctx context.Context, c *clustertest.Cluster, app string) (map[string]int, int, error) {
	sel, err := store.ParseSelector("app=" + app)
	if err != nil {
		return nil, 0, err
	}
	pods, err := c.Client.Pods().List(ctx, "default", store.ListOptions{Selector: sel})
	if err != nil {
		return nil, 0, err
	}
	byNode, n := map[string]int{}, 0
	for _, p := range pods.Items {
		ready := false
		for _, cond := range p.Status.Conditions {
			ready = ready || cond.Type == api.PodReady && cond.Status == api.ConditionTrue
		}
		if p.Status.Phase == api.PodRunning && ready && p.DeletionTimestamp == nil {
			byNode[p.Spec.NodeName]++
			n++
		}
	}
	return byNode, n, nil
}

// TestDeploymentConverges: a Deployment of 3 replicas on 2 simulated nodes
// becomes 3 Running and Ready pods, placed by the scheduler on the
// cluster's nodes and run by their kubelets; the Deployment reports them
// available; scaled to 5, it gets 5; a Service over them converges too
// (see serviceConverges).
func TestDeploymentConverges(t *testing.T) {
	c := clustertest.Start(t, clustertest.Options{Nodes: 2})
	ctx := context.Background()
	if _, err := c.Client.Deployments().Create(ctx, deployment("web", 3)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []int32{3, 5} {
		if want == 5 {
			d, err := c.Client.Deployments().Get(ctx, "default", "web")
			if err != nil {
				t.Fatal(err)
			}
			d.Spec.Replicas = &want
			if _, err := c.Client.Deployments().Update(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		var byNode map[string]int
		err := c.Poll(ctx, 20*time.Second, fmt.Sprintf("%d Running and Ready pods", want), func(ctx context.Context) (bool, error) {
			var n int
			var err error
			byNode, n, err = runningReady(ctx, c, "web")
			if err != nil || n != int(want) {
				return false, err
			}
			d, err := c.Client.Deployments().Get(ctx, "default", "web")
			return err == nil && d.Status.AvailableReplicas == want && d.Status.ReadyReplicas == want, err
		})
		if err != nil {
			pods, _ := c.Client.Pods().List(ctx, "default", store.ListOptions{})
			for _, p := range pods.Items {
				t.Logf("pod %s node %q phase %s containers %+v", p.Name, p.Spec.NodeName, p.Status.Phase, p.Status.ContainerStatuses)
			}
			t.Fatal(err)
		}
		for node, n := range byNode {
			if _, ok := c.Runtimes[node]; !ok {
				t.Errorf("%d pods on %q, which is not a node of the cluster", n, node)
			}
		}
		// Every pod the apiserver reports Running has a running sandbox on
		// its node's runtime.
		total := 0
		for node, rt := range c.Runtimes {
			sbs, err := rt.ListSandboxes(ctx, runtime.SandboxFilter{State: runtime.SandboxReady})
			if err != nil {
				t.Fatal(err)
			}
			if len(sbs) < byNode[node] {
				t.Errorf("node %s runs %d sandboxes, the apiserver says %d pods", node, len(sbs), byNode[node])
			}
			total += len(sbs)
		}
		if total < int(want) {
			t.Errorf("%d sandboxes in all, want at least %d", total, want)
		}
	}
	serviceConverges(t, c)
}

// serviceConverges: a Service over the 5 web pods gets a ClusterIP, an
// EndpointSlice with the 5 ready pod addresses, and a DNS name that the
// cluster DNS (reached at the kube-dns EndpointSlice's address) resolves
// to the ClusterIP.
func serviceConverges(t *testing.T, c *clustertest.Cluster) {
	ctx := context.Background()
	svc := &api.Service{}
	svc.Namespace, svc.Name = "default", "web"
	svc.Spec.Selector = map[string]string{"app": "web"}
	svc.Spec.Ports = []api.ServicePort{{Name: "http", Protocol: api.ProtocolTCP, Port: 80, TargetPort: api.FromInt(8080)}}
	svc, err := c.Client.Services().Create(ctx, svc)
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.ClusterIP == "" {
		t.Fatal("the Service got no ClusterIP")
	}
	sel, _ := store.ParseSelector(discovery.LabelServiceName + "=web")
	err = c.Poll(ctx, 20*time.Second, "the web EndpointSlice to list 5 ready pods", func(ctx context.Context) (bool, error) {
		l, err := c.Client.EndpointSlices().List(ctx, "default", store.ListOptions{Selector: sel})
		if err != nil {
			return false, err
		}
		ready := 0
		for _, es := range l.Items {
			for _, ep := range es.Endpoints {
				if ep.Conditions.Ready != nil && *ep.Conditions.Ready {
					ready++
				}
			}
		}
		return ready == 5, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dnsES, err := c.Client.EndpointSlices().Get(ctx, "kube-system", cluster.DNSServiceName+"-server")
	if err != nil {
		t.Fatalf("the DNS's EndpointSlice: %v", err)
	}
	dnsAddr := net.JoinHostPort(dnsES.Endpoints[0].Addresses[0], fmt.Sprint(*dnsES.Ports[0].Port))
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, dnsAddr)
	}}
	err = c.Poll(ctx, 20*time.Second, "the DNS to resolve web.default.svc.cluster.local", func(ctx context.Context) (bool, error) {
		addrs, err := r.LookupHost(ctx, "web.default.svc.cluster.local")
		return err == nil && len(addrs) == 1 && addrs[0] == svc.Spec.ClusterIP, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStartStop: clusters start and stop, one after the other and two at
// once, under -race; TestMain checks that no goroutine outlives them.
func TestStartStop(t *testing.T) {
	for i := range 2 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			c := clustertest.Start(t, clustertest.Options{Nodes: 2})
			nodes, err := c.Client.Nodes().List(context.Background(), "", store.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(nodes.Items) != 2 {
				t.Fatalf("%d nodes, want 2", len(nodes.Items))
			}
			cidrs := map[string]bool{}
			for _, n := range nodes.Items {
				if n.Spec.PodCIDR == "" || cidrs[n.Spec.PodCIDR] {
					t.Errorf("node %s has podCIDR %q, want a distinct one", n.Name, n.Spec.PodCIDR)
				}
				cidrs[n.Spec.PodCIDR] = true
			}
			// The controllers run: a deleted namespace is emptied and
			// finalized by the namespace controller.
			ctx := context.Background()
			ns := &api.Namespace{}
			ns.Name = "scratch"
			if _, err := c.Client.Namespaces().Create(ctx, ns); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Client.Namespaces().Delete(ctx, "", "scratch"); err != nil {
				t.Fatal(err)
			}
			err = c.Poll(ctx, time.Minute, "namespace scratch to be finalized", func(ctx context.Context) (bool, error) {
				_, err := c.Client.Namespaces().Get(ctx, "", "scratch")
				if errors.Is(err, store.ErrNotFound) {
					return true, nil
				}
				return false, err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
