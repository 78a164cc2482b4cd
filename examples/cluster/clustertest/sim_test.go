//go:build !race

package clustertest_test

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/cluster/clustertest"
	"github.com/setpoint-dev/setpoint/examples/cluster/sim"
	"github.com/setpoint-dev/setpoint/examples/kubelet"
	"github.com/setpoint-dev/setpoint/store"
)

// The size of TestSimulationConverges; the Makefile's test target runs it
// without the race detector (too slow for thousands of pods under it).
var (
	simNodes       = flag.Int("sim-nodes", 500, "TestSimulationConverges: simulated nodes")
	simPodsPerNode = flag.Int("sim-pods-per-node", 30, "TestSimulationConverges: pods per node")
)

// TestSimulationConverges: 500 simulated nodes register and become
// Ready, 15,000 pods in Deployments across 10 namespaces are scheduled
// onto them and every one reports Running with its node's address and a
// pod IP, no node holds more pods than its capacity, and every node keeps
// renewing its Lease.
func TestSimulationConverges(t *testing.T) {
	nodes, pods := *simNodes, *simNodes**simPodsPerNode
	c := clustertest.Start(t, clustertest.Options{Sim: &sim.Config{Nodes: nodes, LeaseRenewInterval: 2 * time.Second,
		NodeStatusCheckInterval: 5 * time.Second, StartLatency: sim.Latency{Median: 20 * time.Millisecond, P99: 200 * time.Millisecond}}})
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	if got, err := sim.WaitNodesReady(ctx, c.Client, nodes); err != nil || got != (sim.NodeCount{Nodes: nodes, Ready: nodes}) {
		t.Fatalf("simulated nodes: got %+v, %v; want %d registered and Ready", got, err, nodes)
	}
	t.Logf("heap per idle simulated node (with the control plane's share): %d KiB; kubelet restarts %d", c.Sim.HeapPerNode()>>10, c.Sim.Restarts())
	start := time.Now()
	if err := sim.CreateWorkload(ctx, c.Client, sim.Workload{Pods: pods, Namespaces: 10}); err != nil {
		t.Fatal(err)
	}
	p, err := sim.WaitRunning(ctx, c.Client, pods, func(p sim.Progress) { t.Logf("%+v", p) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d pods Running on %d nodes %v after the first create", pods, nodes, time.Since(start).Round(time.Millisecond))
	if p != (sim.Progress{Pods: pods, Scheduled: pods, Running: pods}) {
		t.Fatalf("progress %+v, want %d pods, all scheduled and Running", p, pods)
	}
	// Every pod is reported by a simulated node, with the node's address.
	sel, _ := store.ParseSelector(sim.LabelWorkload + "=true")
	var list *store.List[*api.Pod]
	if err := c.Poll(ctx, time.Minute, "a list of the workload's pods", func(ctx context.Context) (ok bool, err error) {
		list, err = c.Client.Pods().List(ctx, "", store.ListOptions{Selector: sel})
		return err == nil, err
	}); err != nil {
		t.Fatal(err)
	}
	ips := map[string]string{}
	for i := range nodes {
		ips[c.Sim.NodeName(i)] = sim.NodeIP(i)
	}
	perNode := map[string]int{}
	var toScheduled, toReady time.Duration
	for _, pod := range list.Items {
		for _, cond := range pod.Status.Conditions {
			switch cond.Type {
			case api.PodScheduled:
				toScheduled += cond.LastTransitionTime.Sub(pod.CreationTimestamp.Time)
			case api.PodReady:
				toReady += cond.LastTransitionTime.Sub(pod.CreationTimestamp.Time)
			}
		}
		ip, ok := ips[pod.Spec.NodeName]
		if !ok || pod.Status.Phase != api.PodRunning || pod.Status.HostIP != ip || pod.Status.PodIP == "" || len(pod.Status.ContainerStatuses) != 1 ||
			pod.Status.ContainerStatuses[0].State.Running == nil {
			t.Fatalf("pod %s/%s on %q: phase %s, hostIP %q (want %q), podIP %q, containers %+v", pod.Namespace, pod.Name,
				pod.Spec.NodeName, pod.Status.Phase, pod.Status.HostIP, ip, pod.Status.PodIP, pod.Status.ContainerStatuses)
		}
		perNode[pod.Spec.NodeName]++
	}
	t.Logf("mean seconds from create to scheduled %.1f, to Ready %.1f", toScheduled.Seconds()/float64(pods), toReady.Seconds()/float64(pods))
	if len(list.Items) != pods {
		t.Fatalf("listed %d workload pods, want %d", len(list.Items), pods)
	}
	for n, k := range perNode {
		if k > 110 {
			t.Errorf("node %s runs %d pods, above its capacity of 110", n, k)
		}
	}
	// Every node renews its Lease after the pods converged.
	converged := map[string]time.Time{}
	var leases *store.List[*election.Lease]
	if err := c.Poll(ctx, time.Minute, "a list of the node Leases", func(ctx context.Context) (ok bool, err error) {
		leases, err = c.Client.Leases().List(ctx, kubelet.LeaseNamespace, store.ListOptions{})
		return err == nil, err
	}); err != nil {
		t.Fatal(err)
	}
	for _, l := range leases.Items {
		converged[l.Name] = renewTime(l)
	}
	err = c.Poll(ctx, time.Minute, "every simulated node to renew its Lease", func(ctx context.Context) (bool, error) {
		leases, err := c.Client.Leases().List(ctx, kubelet.LeaseNamespace, store.ListOptions{})
		if err != nil {
			return false, err
		}
		renewed := 0
		for _, l := range leases.Items {
			if _, ok := ips[l.Name]; ok && renewTime(l).After(converged[l.Name]) {
				renewed++
			}
		}
		return renewed == nodes, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := sim.WaitNodesReady(ctx, c.Client, nodes); err != nil || got != (sim.NodeCount{Nodes: nodes, Ready: nodes}) {
		t.Fatalf("simulated nodes after the run: got %+v, %v; want %d registered and Ready", got, err, nodes)
	}
}

func renewTime(l *election.Lease) time.Time {
	if l.Spec.RenewTime == nil {
		return time.Time{}
	}
	return l.Spec.RenewTime.Time
}
