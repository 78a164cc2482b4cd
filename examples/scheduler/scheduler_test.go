package scheduler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler"
)

// Test500PodsOver100Nodes: every pod ends where the filters allow (node
// selector, taints, cordons, host ports) and, all pods requesting the
// same, LeastAllocated and BalancedAllocation spread them evenly.
func Test500PodsOver100Nodes(t *testing.T) {
	cs := startServer(t)
	startScheduler(t, scheduler.Config{Client: cs})
	tainted := map[string]bool{}
	cordoned := map[string]bool{}
	ssd := map[string]bool{}
	for i := range 100 {
		n := newNode(nodeName(i), "4", "16Gi", nil)
		switch {
		case i < 10:
			n.Spec.Taints = []api.Taint{{Key: "dedicated", Value: "gpu", Effect: api.TaintEffectNoSchedule}}
			tainted[n.Name] = true
		case i < 15:
			n.Spec.Unschedulable = true
			cordoned[n.Name] = true
		case i < 25:
			n.Labels["disk"] = "ssd"
			ssd[n.Name] = true
		}
		createNode(t, cs, n)
	}
	kind := map[string]string{}
	for i := range 500 {
		p := newPod(podName(i), "100m", "")
		switch {
		case i < 100:
			p.Spec.NodeSelector = map[string]string{"disk": "ssd"}
			kind[p.Name] = "ssd"
		case i < 120:
			p.Spec.Tolerations = []api.Toleration{{Key: "dedicated", Operator: api.TolerationOpEqual, Value: "gpu", Effect: api.TaintEffectNoSchedule}}
			kind[p.Name] = "tolerating"
		case i < 130:
			p.Spec.Containers[0].Ports = []api.ContainerPort{{ContainerPort: 80, HostPort: 8080}}
			kind[p.Name] = "hostport"
		default:
			kind[p.Name] = "plain"
		}
		createPod(t, cs, p)
	}
	var by map[string][]*api.Pod
	waitFor(t, "all 500 pods bound", func() (bool, error) {
		var unbound []*api.Pod
		by, unbound = podsByNode(t, cs)
		return len(unbound) == 0, nil
	})
	counts := map[string]int{}
	for node, pods := range by {
		ports := 0
		for _, p := range pods {
			k := kind[p.Name]
			switch {
			case cordoned[node]:
				t.Errorf("pod %s bound to cordoned node %s", p.Name, node)
			case tainted[node] && k != "tolerating":
				t.Errorf("pod %s (%s) bound to tainted node %s", p.Name, k, node)
			case k == "ssd" && !ssd[node]:
				t.Errorf("pod %s needs disk=ssd, bound to %s", p.Name, node)
			}
			if k == "hostport" {
				ports++
			}
		}
		if ports > 1 {
			t.Errorf("node %s has %d pods using host port 8080", node, ports)
		}
		counts[node] = len(pods)
	}
	for node := range ssd {
		if counts[node] != 10 {
			t.Errorf("ssd node %s has %d pods, want 10 (100 ssd pods over 10 nodes)", node, counts[node])
		}
	}
	lo, hi := 1<<30, 0
	for i := 25; i < 100; i++ {
		c := counts[nodeName(i)]
		lo, hi = min(lo, c), max(hi, c)
	}
	if hi-lo > 1 {
		t.Errorf("pods per general node range %d..%d, want an even spread (difference <= 1)", lo, hi)
	}
}

func nodeName(i int) string { return fmt.Sprintf("n-%03d", i) }

// TestUnschedulableExplainedThenScheduled: a pod no node fits gets
// Kubernetes' FailedScheduling event and PodScheduled=False condition
// with the reasons counted per node, the debug endpoint shows each node's
// verdict, and the pod is bound as soon as a fitting node appears.
func TestUnschedulableExplainedThenScheduled(t *testing.T) {
	cs := startServer(t)
	s := startScheduler(t, scheduler.Config{Client: cs})
	createNode(t, cs, newNode("small", "1", "4Gi", nil))
	gpu := newNode("gpu", "8", "4Gi", nil)
	gpu.Spec.Taints = []api.Taint{{Key: "dedicated", Value: "gpu", Effect: api.TaintEffectNoSchedule}}
	createNode(t, cs, gpu)
	createPod(t, cs, newPod("big", "2", "1Gi"))

	const want = "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: gpu}." +
		" preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling."
	waitFor(t, "the FailedScheduling event", func() (bool, error) {
		return slices.Contains(events(t, cs, "big", "FailedScheduling"), want), nil
	})
	waitFor(t, "the PodScheduled condition", func() (bool, error) {
		p, err := cs.Pods().Get(context.Background(), "default", "big")
		if err != nil {
			return false, err
		}
		for _, c := range p.Status.Conditions {
			if c.Type == api.PodScheduled && c.Message == want {
				if c.Status != api.ConditionFalse || c.Reason != "Unschedulable" {
					t.Fatalf("condition %+v, want False/Unschedulable", c)
				}
				return true, nil
			}
		}
		return false, nil
	})

	// The debug endpoint names each node's plugin and reason.
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/debug/pods/default/big")
	if err != nil {
		t.Fatal(err)
	}
	var at scheduler.Attempt
	err = json.NewDecoder(resp.Body).Decode(&at)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("debug endpoint: %d %v", resp.StatusCode, err)
	}
	verdicts := map[string]scheduler.NodeVerdict{}
	for _, v := range at.Nodes {
		verdicts[v.Node] = v
	}
	if at.Result != "unschedulable" || verdicts["small"].Plugin != "NodeResourcesFit" || !slices.Equal(verdicts["small"].Reasons, []string{"Insufficient cpu"}) ||
		verdicts["gpu"].Plugin != "TaintToleration" || verdicts["gpu"].Code != "UnschedulableAndUnresolvable" {
		t.Fatalf("debug attempt %+v", at)
	}
	for path, code := range map[string]int{"/debug/pods/default/nope": 404, "/debug/pods/x": 400, "/healthz": 200, "/readyz": 200} {
		r, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != code {
			t.Errorf("GET %s: %d, want %d", path, r.StatusCode, code)
		}
	}

	// A node that fits: the pod is retried on the event, not on a timer.
	createNode(t, cs, newNode("large", "4", "8Gi", nil))
	waitFor(t, "the pod bound to the new node", func() (bool, error) {
		p, err := cs.Pods().Get(context.Background(), "default", "big")
		if err != nil {
			return false, err
		}
		if p.Spec.NodeName != "" && p.Spec.NodeName != "large" {
			t.Fatalf("pod bound to %s, want large", p.Spec.NodeName)
		}
		return p.Spec.NodeName == "large", nil
	})
	waitFor(t, "the Scheduled event", func() (bool, error) {
		return slices.Contains(events(t, cs, "big", "Scheduled"), "Successfully assigned default/big to large"), nil
	})
}

// TestBadInput: a pod for an unknown scheduler is left alone, a pod whose
// affinity no node matches is explained, a node without allocatable
// resources is reported as full, and the scheduler keeps scheduling.
func TestBadInput(t *testing.T) {
	cs := startServer(t)
	startScheduler(t, scheduler.Config{Client: cs})
	createNode(t, cs, newNode("a", "2", "4Gi", map[string]string{"zone": "z1"}))
	empty := newNode("empty", "", "", nil)
	empty.Status.Allocatable, empty.Status.Capacity = nil, nil
	createNode(t, cs, empty)

	other := newPod("other", "100m", "")
	other.Spec.SchedulerName = "someone-else"
	createPod(t, cs, other)
	impossible := newPod("impossible", "100m", "")
	impossible.Spec.Affinity = &api.Affinity{NodeAffinity: &api.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &api.NodeSelector{
		NodeSelectorTerms: []api.NodeSelectorTerm{{MatchExpressions: []api.NodeSelectorRequirement{{Key: "zone", Operator: "In", Values: []string{"z9"}}}}}}}}
	createPod(t, cs, impossible)
	createPod(t, cs, newPod("fine", "100m", ""))

	waitFor(t, "the impossible pod's event", func() (bool, error) {
		return slices.Contains(events(t, cs, "impossible", "FailedScheduling"),
			"0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."+
				" preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."), nil
	})
	waitFor(t, "the fine pod bound", func() (bool, error) {
		p, err := cs.Pods().Get(context.Background(), "default", "fine")
		if err != nil {
			return false, err
		}
		if p.Spec.NodeName == "empty" {
			t.Fatal("pod bound to a node without allocatable resources")
		}
		return p.Spec.NodeName == "a", nil
	})
	p, err := cs.Pods().Get(context.Background(), "default", "other")
	if err != nil {
		t.Fatal(err)
	}
	if p.Spec.NodeName != "" || len(p.Status.Conditions) != 0 || len(events(t, cs, "other", "FailedScheduling")) != 0 {
		t.Fatalf("pod for another scheduler was touched: node %q, conditions %+v", p.Spec.NodeName, p.Status.Conditions)
	}
}

func TestConfigValidate(t *testing.T) {
	cs := startServerless(t)
	bad := []scheduler.Config{
		{},
		{Client: cs, PercentageOfNodesToScore: 101},
		{Client: cs, Parallelism: -1},
		{Client: cs, InitialBackoff: 20e9, MaxBackoff: 10e9},
		{Client: cs, Profiles: []scheduler.Profile{{}}},
		{Client: cs, Profiles: []scheduler.Profile{{SchedulerName: "a"}, {SchedulerName: "a"}}},
		{Client: cs, Profiles: []scheduler.Profile{{SchedulerName: "a", Weights: map[string]int64{"NodeAffinity": 0}}}},
		{Client: cs, LeaderElection: &scheduler.LeaderElection{LeaseDuration: -1}},
		{Client: cs, LeaderElection: &scheduler.LeaderElection{LeaseDuration: 10e9, RenewDeadline: 10e9}},
	}
	for i, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("config %d: no error", i)
		}
		if _, err := scheduler.New(c); err == nil {
			t.Errorf("New(config %d): no error", i)
		}
	}
	if _, err := scheduler.New(scheduler.Config{Client: cs}); err != nil {
		t.Fatal(err)
	}
}
