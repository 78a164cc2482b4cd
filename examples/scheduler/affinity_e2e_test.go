package scheduler_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler"
)

// TestAntiAffinityAndSpreadEndToEnd: against the apiserver, pods with
// required anti-affinity by hostname land one per node and the one too
// many is explained and then bound when a node appears; pods with a
// DoNotSchedule zone spread of maxSkew 1 end evenly over the zones.
func TestAntiAffinityAndSpreadEndToEnd(t *testing.T) {
	cs := startServer(t)
	startScheduler(t, scheduler.Config{Client: cs})
	ctx := context.Background()
	zones := []string{"a", "b", "c"}
	for i := range 6 {
		createNode(t, cs, newNode(fmt.Sprintf("n%d", i), "8", "16Gi", map[string]string{api.LabelTopologyZone: zones[i%3]}))
	}
	web := func(name string) *api.Pod {
		p := newPod(name, "100m", "64Mi")
		p.Labels = map[string]string{"app": "web"}
		p.Spec.Affinity = &api.Affinity{PodAntiAffinity: &api.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []api.PodAffinityTerm{
			{TopologyKey: api.LabelHostname, LabelSelector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}}}
		return p
	}
	apiPod := func(name string) *api.Pod {
		p := newPod(name, "100m", "64Mi")
		p.Labels = map[string]string{"app": "api"}
		p.Spec.TopologySpreadConstraints = []api.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: api.LabelTopologyZone,
			WhenUnsatisfiable: api.DoNotSchedule, LabelSelector: &api.LabelSelector{MatchLabels: map[string]string{"app": "api"}}}}
		return p
	}
	for i := range 7 {
		createPod(t, cs, web(fmt.Sprintf("web-%d", i)))
	}
	for i := range 9 {
		createPod(t, cs, apiPod(fmt.Sprintf("api-%d", i)))
	}
	const want = "0/6 nodes are available: 6 node(s) didn't match pod anti-affinity rules." +
		" preemption: 0/6 nodes are available: 6 No preemption victims found for incoming pod."
	var extra, last string
	defer func() {
		if t.Failed() {
			t.Logf("last state: %s", last)
		}
	}()
	waitFor(t, "6 web pods on 6 nodes, 9 api pods 3 per zone, one web pod explained", func() (bool, error) {
		by, unbound := podsByNode(t, cs)
		last = fmt.Sprintf("%d unbound, by node %v", len(unbound), summarize(by))
		if len(unbound) > 0 {
			last += fmt.Sprintf(", events of %s: %q", unbound[0].Name, events(t, cs, unbound[0].Name, "FailedScheduling"))
		}
		if len(unbound) != 1 {
			return false, nil
		}
		extra = unbound[0].Name
		perZone := map[string]int{}
		for node, pods := range by {
			webs := 0
			for _, p := range pods {
				switch p.Labels["app"] {
				case "web":
					webs++
				case "api":
					perZone[zones[int(node[1]-'0')%3]]++
				}
			}
			if webs > 1 {
				t.Fatalf("node %s runs %d web pods despite required anti-affinity", node, webs)
			}
		}
		for _, z := range zones {
			if perZone[z] != 3 {
				return false, nil
			}
		}
		return slices.Contains(events(t, cs, extra, "FailedScheduling"), want), nil
	})
	createNode(t, cs, newNode("n6", "8", "16Gi", map[string]string{api.LabelTopologyZone: "a"}))
	waitFor(t, "the last web pod bound to the new node", func() (bool, error) {
		p, err := cs.Pods().Get(ctx, "default", extra)
		if err != nil {
			return false, err
		}
		if p.Spec.NodeName != "" && p.Spec.NodeName != "n6" {
			t.Fatalf("%s bound to %s, want n6", extra, p.Spec.NodeName)
		}
		return p.Spec.NodeName == "n6", nil
	})
}

func summarize(by map[string][]*api.Pod) map[string][]string {
	out := map[string][]string{}
	for n, pods := range by {
		for _, p := range pods {
			out[n] = append(out[n], p.Name)
		}
	}
	return out
}
