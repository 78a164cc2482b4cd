package plugins

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
	"github.com/setpoint-dev/setpoint/store"
)

func spread(p *api.Pod, cs ...api.TopologySpreadConstraint) *api.Pod {
	p.Spec.TopologySpreadConstraints = cs
	return p
}

func constraint(key string, skew int32, action api.UnsatisfiableConstraintAction, sel *api.LabelSelector) api.TopologySpreadConstraint {
	return api.TopologySpreadConstraint{TopologyKey: key, MaxSkew: skew, WhenUnsatisfiable: action, LabelSelector: sel}
}

const (
	spreadNo      = "Unschedulable: " + ErrReasonConstraintsNotMatch
	spreadNoLabel = "UnschedulableAndUnresolvable: " + ErrReasonNodeLabelNotMatch
)

// The cases follow the Kubernetes documentation on pod topology spread
// constraints: zone A holds n1 and n2, zone B n3 and n4; three foo=bar
// pods run on n1, n2 and n3 (2 in A, 1 in B).
func TestPodTopologySpreadFilter(t *testing.T) {
	foo := func(name string, kv ...string) *api.Pod {
		return tpod(name, "default", append([]string{"foo", "bar"}, kv...)...)
	}
	base := func(extra ...tnode) []tnode {
		return append([]tnode{zoneNode("n1", "A", foo("a")), zoneNode("n2", "A", foo("b")), zoneNode("n3", "B", foo("c")), zoneNode("n4", "B")}, extra...)
	}
	zone1 := constraint(zoneKey, 1, api.DoNotSchedule, matchLabels("foo", "bar"))
	with := func(c api.TopologySpreadConstraint, f func(*api.TopologySpreadConstraint)) api.TopologySpreadConstraint {
		f(&c)
		return c
	}
	honor, ignore := api.NodeInclusionPolicyHonor, api.NodeInclusionPolicyIgnore
	two := int32(3)
	zoneC := func() tnode { n := zoneNode("n5", "C"); return n }
	taintedC := func() tnode {
		n := zoneNode("n5", "C")
		n.taints = []api.Taint{{Key: "dedicated", Value: "x", Effect: api.TaintEffectNoSchedule}}
		return n
	}
	notC := func(p *api.Pod) *api.Pod {
		p.Spec.Affinity = &api.Affinity{NodeAffinity: &api.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &api.NodeSelector{
			NodeSelectorTerms: []api.NodeSelectorTerm{{MatchExpressions: []api.NodeSelectorRequirement{{Key: zoneKey, Operator: api.NodeSelectorOpNotIn, Values: []string{"C"}}}}}}}}
		return p
	}
	tests := []struct {
		name  string
		pod   *api.Pod
		nodes []tnode
		want  map[string]string
	}{
		{"no constraints: skip", foo("p"), base(), map[string]string{"n1": fitOK, "n2": fitOK, "n3": fitOK, "n4": fitOK}},
		{"maxSkew 1 by zone: only zone B (A would make 3 vs 1)", spread(foo("p"), zone1), base(),
			map[string]string{"n1": spreadNo, "n2": spreadNo, "n3": fitOK, "n4": fitOK}},
		{"maxSkew 2 by zone: anywhere", spread(foo("p"), with(zone1, func(c *api.TopologySpreadConstraint) { c.MaxSkew = 2 })), base(),
			map[string]string{"n1": fitOK, "n2": fitOK, "n3": fitOK, "n4": fitOK}},
		{"pod not matching its own selector does not count itself", spread(tpod("p", "default"), zone1), base(),
			map[string]string{"n1": fitOK, "n2": fitOK, "n3": fitOK, "n4": fitOK}},
		{"maxSkew 1 by hostname: the empty node only", spread(foo("p"), constraint(hostKey, 1, api.DoNotSchedule, matchLabels("foo", "bar"))), base(),
			map[string]string{"n1": spreadNo, "n2": spreadNo, "n3": spreadNo, "n4": fitOK}},
		{"two constraints: zone and hostname", spread(foo("p"), zone1, constraint(hostKey, 1, api.DoNotSchedule, matchLabels("foo", "bar"))), base(),
			map[string]string{"n1": spreadNo, "n2": spreadNo, "n3": spreadNo, "n4": fitOK}},
		{"a node without the key: unresolvable", spread(foo("p"), zone1), base(zoneNode("n5", "")),
			map[string]string{"n1": spreadNo, "n2": spreadNo, "n3": fitOK, "n4": fitOK, "n5": spreadNoLabel}},
		{"minDomains 3 with 2 domains: the global minimum is 0", spread(foo("p"), with(zone1, func(c *api.TopologySpreadConstraint) { c.MinDomains = &two })), base(),
			map[string]string{"n1": spreadNo, "n2": spreadNo, "n3": spreadNo, "n4": spreadNo}},
		{"minDomains 3 with 3 domains: the empty zone C", spread(foo("p"), with(zone1, func(c *api.TopologySpreadConstraint) { c.MinDomains = &two })), base(zoneC()),
			map[string]string{"n1": spreadNo, "n2": spreadNo, "n3": spreadNo, "n4": spreadNo, "n5": fitOK}},
		{"an empty zone C counts: minimum 0, only C", spread(foo("p"), zone1), base(zoneC()),
			map[string]string{"n1": spreadNo, "n2": spreadNo, "n3": spreadNo, "n4": spreadNo, "n5": fitOK}},
		{"nodeAffinityPolicy Honor (default): zone C outside the pod's node affinity is not a domain",
			notC(spread(foo("p"), zone1)), base(zoneC()),
			// n5 itself passes this filter (0+1−1); NodeAffinity rejects it.
			map[string]string{"n1": spreadNo, "n2": spreadNo, "n3": fitOK, "n4": fitOK, "n5": fitOK}},
		{"nodeAffinityPolicy Ignore: zone C counts",
			notC(spread(foo("p"), with(zone1, func(c *api.TopologySpreadConstraint) { c.NodeAffinityPolicy = &ignore }))), base(zoneC()),
			map[string]string{"n1": spreadNo, "n2": spreadNo, "n3": spreadNo, "n4": spreadNo, "n5": fitOK}},
		{"nodeTaintsPolicy Ignore (default): a tainted zone C counts",
			spread(foo("p"), zone1), base(taintedC()),
			map[string]string{"n1": spreadNo, "n2": spreadNo, "n3": spreadNo, "n4": spreadNo, "n5": fitOK}},
		{"nodeTaintsPolicy Honor: an untolerated tainted zone C is not a domain",
			spread(foo("p"), with(zone1, func(c *api.TopologySpreadConstraint) { c.NodeTaintsPolicy = &honor })), base(taintedC()),
			// n5 itself passes this filter; TaintToleration rejects it.
			map[string]string{"n1": spreadNo, "n2": spreadNo, "n3": fitOK, "n4": fitOK, "n5": fitOK}},
		{"matchLabelKeys: only the pod's revision counts",
			spread(foo("p", "rev", "2"), with(zone1, func(c *api.TopologySpreadConstraint) { c.MatchLabelKeys = []string{"rev"} })),
			[]tnode{zoneNode("n1", "A", foo("a", "rev", "2")), zoneNode("n3", "B", foo("b", "rev", "1"), foo("c", "rev", "1"))},
			map[string]string{"n1": spreadNo, "n3": fitOK}},
		{"without matchLabelKeys every revision counts",
			spread(foo("p", "rev", "2"), zone1),
			[]tnode{zoneNode("n1", "A", foo("a", "rev", "2")), zoneNode("n3", "B", foo("b", "rev", "1"), foo("c", "rev", "1"))},
			map[string]string{"n1": fitOK, "n3": spreadNo}},
		{"pods in other namespaces and pods being deleted do not count",
			spread(foo("p"), zone1),
			[]tnode{zoneNode("n1", "A", tpod("x", "other", "foo", "bar"), deleting(foo("y"))), zoneNode("n3", "B", foo("z"))},
			map[string]string{"n1": fitOK, "n3": spreadNo}},
		{"ScheduleAnyway never filters", spread(foo("p"), with(zone1, func(c *api.TopologySpreadConstraint) { c.WhenUnsatisfiable = api.ScheduleAnyway })), base(),
			map[string]string{"n1": fitOK, "n2": fitOK, "n3": fitOK, "n4": fitOK}},
		{"maxSkew 0 is invalid: unresolvable everywhere", spread(foo("p"), with(zone1, func(c *api.TopologySpreadConstraint) { c.MaxSkew = 0 })), base(),
			map[string]string{"n1": invalidSkew, "n2": invalidSkew, "n3": invalidSkew, "n4": invalidSkew}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := filterVerdicts(t, PodTopologySpread{}, framework.NewCycleState(), tc.pod, buildNodes(tc.nodes))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("verdicts (-want +got):\n%s", diff)
			}
		})
	}
}

const invalidSkew = "UnschedulableAndUnresolvable: invalid topology spread constraint: spec.topologySpreadConstraints[0].maxSkew: must be greater than 0, got 0"

func deleting(p *api.Pod) *api.Pod {
	now := store.Now()
	p.DeletionTimestamp = &now
	return p
}

func TestPodTopologySpreadScore(t *testing.T) {
	foo := func(name string) *api.Pod { return tpod(name, "default", "foo", "bar") }
	host := constraint(hostKey, 1, api.ScheduleAnyway, matchLabels("foo", "bar"))
	tests := []struct {
		name  string
		pl    PodTopologySpread
		pod   *api.Pod
		nodes []tnode
		want  map[string]int64
	}{
		{"no constraints and no default selector: skip", PodTopologySpread{}, foo("p"),
			[]tnode{zoneNode("n1", "A", foo("a"))}, nil},
		// raw: count × log(3+2) + 0 → n1 round(3.22)=3, n2 round(1.61)=2, n3 0;
		// normalized 100 × (3 + 0 − s) / 3.
		{"by hostname: fewer matching pods score higher", PodTopologySpread{}, spread(foo("p"), host),
			[]tnode{zoneNode("n1", "A", foo("a"), foo("b")), zoneNode("n2", "A", foo("c")), zoneNode("n3", "B")},
			map[string]int64{"n1": 0, "n2": 33, "n3": 100}},
		// zone A: 3 pods, zone B: 0; weight log(2+2); raw A round(3×1.386+1)=5, B 1.
		// normalized: A 100×(5+1−5)/5=20, B 100×(5+1−1)/5=100.
		{"by zone with maxSkew 2", PodTopologySpread{}, spread(foo("p"), constraint(zoneKey, 2, api.ScheduleAnyway, matchLabels("foo", "bar"))),
			[]tnode{zoneNode("n1", "A", foo("a"), foo("b")), zoneNode("n2", "A", foo("c")), zoneNode("n3", "B")},
			map[string]int64{"n1": 20, "n2": 20, "n3": 100}},
		{"a node without the key scores 0", PodTopologySpread{}, spread(foo("p"), constraint(zoneKey, 1, api.ScheduleAnyway, matchLabels("foo", "bar"))),
			[]tnode{zoneNode("n1", "A", foo("a")), zoneNode("n2", "B"), zoneNode("n3", "")},
			map[string]int64{"n1": 0, "n2": 100, "n3": 0}},
		{"all empty: every node 100", PodTopologySpread{}, spread(foo("p"), host),
			[]tnode{zoneNode("n1", "A"), zoneNode("n2", "B")},
			map[string]int64{"n1": 100, "n2": 100}},
		// System defaults: zone skew 5, host skew 3; zone weight log(2+2),
		// host log(3+2). n1: 2×1.386+4 + 2×1.609+2 = 11.99 → 12;
		// n2: 2×1.386+4 + 0+2 = 8.77 → 9; n3: 0+4 + 0+2 = 6.
		// normalized: 100×(12+6−s)/12 → 50, 75, 100.
		{"system default constraints with the pod's group selector", PodTopologySpread{DefaultSelector: func(*api.Pod) *framework.Selector {
			return framework.SelectorFromSet(map[string]string{"foo": "bar"})
		}}, foo("p"),
			[]tnode{zoneNode("n1", "A", foo("a"), foo("b")), zoneNode("n2", "A"), zoneNode("n3", "B")},
			map[string]int64{"n1": 50, "n2": 75, "n3": 100}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := normalizedScores(t, tc.pl, framework.NewCycleState(), tc.pod, buildNodes(tc.nodes))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("scores (-want +got):\n%s", diff)
			}
		})
	}
}
