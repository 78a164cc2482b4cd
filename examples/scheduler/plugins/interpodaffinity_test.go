package plugins

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
)

const (
	zoneKey = api.LabelTopologyZone
	hostKey = api.LabelHostname
)

func matchLabels(kv ...string) *api.LabelSelector {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return &api.LabelSelector{MatchLabels: m}
}

func expr(key string, op api.LabelSelectorOperator, values ...string) *api.LabelSelector {
	return &api.LabelSelector{MatchExpressions: []api.LabelSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

func term(key string, sel *api.LabelSelector) api.PodAffinityTerm {
	return api.PodAffinityTerm{TopologyKey: key, LabelSelector: sel}
}

func weighted(w int32, t api.PodAffinityTerm) api.WeightedPodAffinityTerm {
	return api.WeightedPodAffinityTerm{Weight: w, PodAffinityTerm: t}
}

// affinity sets the pod's pod affinity (req, pref) and anti-affinity
// (antiReq, antiPref) and returns it.
func affinity(p *api.Pod, req []api.PodAffinityTerm, pref []api.WeightedPodAffinityTerm, antiReq []api.PodAffinityTerm, antiPref []api.WeightedPodAffinityTerm) *api.Pod {
	p.Spec.Affinity = &api.Affinity{}
	if req != nil || pref != nil {
		p.Spec.Affinity.PodAffinity = &api.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: req, PreferredDuringSchedulingIgnoredDuringExecution: pref}
	}
	if antiReq != nil || antiPref != nil {
		p.Spec.Affinity.PodAntiAffinity = &api.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: antiReq, PreferredDuringSchedulingIgnoredDuringExecution: antiPref}
	}
	return p
}

func req(ts ...api.PodAffinityTerm) []api.PodAffinityTerm                  { return ts }
func pref(ts ...api.WeightedPodAffinityTerm) []api.WeightedPodAffinityTerm { return ts }

const (
	fitOK      = ""
	affNo      = "UnschedulableAndUnresolvable: " + ErrReasonAffinityRulesNotMatch
	antiNo     = "Unschedulable: " + ErrReasonAntiAffinityRulesNotMatch
	existingNo = "Unschedulable: " + ErrReasonExistingAntiAffinityRulesNotMatch
)

// The cases follow the Kubernetes documentation on inter-pod affinity
// and anti-affinity, and the edge cases of Kubernetes' plugin.
func TestInterPodAffinityFilter(t *testing.T) {
	db := tpod("db", "default", "app", "db", "tier", "data")
	web := tpod("web", "default", "app", "web")
	dbOther := tpod("db", "other", "app", "db")
	// zone a: n1, n2; zone b: n3; n4 has no zone label.
	topo := func(n1, n3 []*api.Pod) []tnode {
		return []tnode{zoneNode("n1", "a", n1...), zoneNode("n2", "a"), zoneNode("n3", "b", n3...), zoneNode("n4", "")}
	}
	nsLabels := map[string]map[string]string{"default": {"team": "x"}, "other": {"team": "y"}}
	tests := []struct {
		name  string
		pod   *api.Pod
		nodes []tnode
		want  map[string]string
	}{
		{"no affinity anywhere: every node fits", tpod("p", "default"), topo([]*api.Pod{db}, nil),
			map[string]string{"n1": fitOK, "n2": fitOK, "n3": fitOK, "n4": fitOK}},
		{"required affinity by zone: the db's zone only; a node without the key never",
			affinity(tpod("p", "default"), req(term(zoneKey, matchLabels("app", "db"))), nil, nil, nil), topo([]*api.Pod{db}, nil),
			map[string]string{"n1": fitOK, "n2": fitOK, "n3": affNo, "n4": affNo}},
		{"required affinity by hostname: the db's node only",
			affinity(tpod("p", "default"), req(term(hostKey, matchLabels("app", "db"))), nil, nil, nil), topo([]*api.Pod{db}, nil),
			map[string]string{"n1": fitOK, "n2": affNo, "n3": affNo, "n4": affNo}},
		{"affinity with In operator",
			affinity(tpod("p", "default"), req(term(zoneKey, expr("app", api.LabelSelectorOpIn, "db", "cache"))), nil, nil, nil), topo(nil, []*api.Pod{db}),
			map[string]string{"n1": affNo, "n2": affNo, "n3": fitOK, "n4": affNo}},
		{"affinity with NotIn operator: web does not count, db does",
			affinity(tpod("p", "default"), req(term(zoneKey, expr("app", api.LabelSelectorOpNotIn, "web"))), nil, nil, nil), topo([]*api.Pod{web}, []*api.Pod{db}),
			map[string]string{"n1": affNo, "n2": affNo, "n3": fitOK, "n4": affNo}},
		{"affinity with Exists operator",
			affinity(tpod("p", "default"), req(term(zoneKey, expr("tier", api.LabelSelectorOpExists))), nil, nil, nil), topo([]*api.Pod{db}, []*api.Pod{web}),
			map[string]string{"n1": fitOK, "n2": fitOK, "n3": affNo, "n4": affNo}},
		{"affinity with DoesNotExist operator",
			affinity(tpod("p", "default"), req(term(zoneKey, expr("tier", api.LabelSelectorOpDoesNotExist))), nil, nil, nil), topo([]*api.Pod{db}, []*api.Pod{web}),
			map[string]string{"n1": affNo, "n2": affNo, "n3": fitOK, "n4": affNo}},
		{"two affinity terms: one pod must match both",
			affinity(tpod("p", "default"), req(term(zoneKey, matchLabels("app", "db")), term(zoneKey, matchLabels("app", "web"))), nil, nil, nil), topo([]*api.Pod{db}, []*api.Pod{web}),
			map[string]string{"n1": affNo, "n2": affNo, "n3": affNo, "n4": affNo}},
		{"first pod of a group: no match anywhere, the pod matches its own term, any node with the key",
			affinity(tpod("p", "default", "app", "web"), req(term(zoneKey, matchLabels("app", "web"))), nil, nil, nil), topo([]*api.Pod{db}, nil),
			map[string]string{"n1": fitOK, "n2": fitOK, "n3": fitOK, "n4": affNo}},
		{"no match anywhere and the pod does not match its own term: nowhere",
			affinity(tpod("p", "default"), req(term(zoneKey, matchLabels("app", "web"))), nil, nil, nil), topo([]*api.Pod{db}, nil),
			map[string]string{"n1": affNo, "n2": affNo, "n3": affNo, "n4": affNo}},
		{"affinity looks in the pod's own namespace by default",
			affinity(tpod("p", "default"), req(term(zoneKey, matchLabels("app", "db"))), nil, nil, nil), topo(nil, []*api.Pod{dbOther}),
			map[string]string{"n1": affNo, "n2": affNo, "n3": affNo, "n4": affNo}},
		{"affinity with namespaces: [other]",
			affinity(tpod("p", "default"), req(api.PodAffinityTerm{TopologyKey: zoneKey, LabelSelector: matchLabels("app", "db"), Namespaces: []string{"other"}}), nil, nil, nil), topo([]*api.Pod{db}, []*api.Pod{dbOther}),
			map[string]string{"n1": affNo, "n2": affNo, "n3": fitOK, "n4": affNo}},
		{"affinity with namespaceSelector team=y selects namespace other",
			affinity(tpod("p", "default"), req(api.PodAffinityTerm{TopologyKey: zoneKey, LabelSelector: matchLabels("app", "db"), NamespaceSelector: matchLabels("team", "y")}), nil, nil, nil), topo([]*api.Pod{db}, []*api.Pod{dbOther}),
			map[string]string{"n1": affNo, "n2": affNo, "n3": fitOK, "n4": affNo}},
		{"empty namespaceSelector selects every namespace",
			affinity(tpod("p", "default"), req(api.PodAffinityTerm{TopologyKey: zoneKey, LabelSelector: matchLabels("app", "db"), NamespaceSelector: &api.LabelSelector{}}), nil, nil, nil), topo(nil, []*api.Pod{dbOther}),
			map[string]string{"n1": affNo, "n2": affNo, "n3": fitOK, "n4": affNo}},
		{"required anti-affinity by hostname: not next to a web pod",
			affinity(tpod("p", "default", "app", "web"), nil, nil, req(term(hostKey, matchLabels("app", "web"))), nil), topo([]*api.Pod{web}, nil),
			map[string]string{"n1": antiNo, "n2": fitOK, "n3": fitOK, "n4": fitOK}},
		{"required anti-affinity by zone: the whole zone; a node without the key is fine",
			affinity(tpod("p", "default"), nil, nil, req(term(zoneKey, matchLabels("app", "web"))), nil), topo([]*api.Pod{web}, nil),
			map[string]string{"n1": antiNo, "n2": antiNo, "n3": fitOK, "n4": fitOK}},
		{"symmetry: an existing pod's anti-affinity keeps the incoming pod out of its zone",
			tpod("p", "default", "app", "web"), topo([]*api.Pod{affinity(tpod("db", "default", "app", "db"), nil, nil, req(term(zoneKey, matchLabels("app", "web"))), nil)}, nil),
			map[string]string{"n1": existingNo, "n2": existingNo, "n3": fitOK, "n4": fitOK}},
		{"symmetry only for pods the existing term selects",
			tpod("p", "default", "app", "cache"), topo([]*api.Pod{affinity(tpod("db", "default", "app", "db"), nil, nil, req(term(zoneKey, matchLabels("app", "web"))), nil)}, nil),
			map[string]string{"n1": fitOK, "n2": fitOK, "n3": fitOK, "n4": fitOK}},
		{"symmetry with an existing term's namespaceSelector matching the incoming pod's namespace",
			tpod("p", "default", "app", "web"), topo(nil, []*api.Pod{affinity(tpod("db", "other", "app", "db"), nil, nil, req(api.PodAffinityTerm{TopologyKey: hostKey, LabelSelector: matchLabels("app", "web"), NamespaceSelector: matchLabels("team", "x")}), nil)}),
			map[string]string{"n1": fitOK, "n2": fitOK, "n3": existingNo, "n4": fitOK}},
		{"preferred terms never filter",
			affinity(tpod("p", "default"), nil, pref(weighted(100, term(zoneKey, matchLabels("app", "nothing")))), nil, nil), topo([]*api.Pod{db}, nil),
			map[string]string{"n1": fitOK, "n2": fitOK, "n3": fitOK, "n4": fitOK}},
		{"invalid selector operator: unresolvable everywhere",
			affinity(tpod("p", "default"), req(term(zoneKey, expr("app", "Near", "db"))), nil, nil, nil), topo([]*api.Pod{db}, nil),
			map[string]string{"n1": "x", "n2": "x", "n3": "x", "n4": "x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			state := framework.NewCycleState()
			framework.WriteNamespaces(state, framework.NamespaceListerFunc(func(n string) (map[string]string, bool) {
				l, ok := nsLabels[n]
				return l, ok
			}))
			got := filterVerdicts(t, InterPodAffinity{}, state, tc.pod, buildNodes(tc.nodes))
			if tc.want["n1"] == "x" {
				for n, v := range got {
					if v == "" || v[:len("UnschedulableAndUnresolvable: invalid pod affinity")] != "UnschedulableAndUnresolvable: invalid pod affinity" {
						t.Errorf("%s: got %q, want an invalid pod affinity rejection", n, v)
					}
				}
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("verdicts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInterPodAffinityScore(t *testing.T) {
	db := tpod("db", "default", "app", "db")
	web := tpod("web", "default", "app", "web")
	topo := func(n1, n3 []*api.Pod) []tnode {
		return []tnode{zoneNode("n1", "a", n1...), zoneNode("n2", "a"), zoneNode("n3", "b", n3...)}
	}
	tests := []struct {
		name  string
		pod   *api.Pod
		nodes []tnode
		want  map[string]int64 // nil: PreScore skips
	}{
		{"nothing to score: skip", tpod("p", "default"), topo([]*api.Pod{db}, nil), nil},
		{"preferred affinity by zone: the db's zone scores 100",
			affinity(tpod("p", "default"), nil, pref(weighted(5, term(zoneKey, matchLabels("app", "db")))), nil, nil), topo([]*api.Pod{db}, nil),
			map[string]int64{"n1": 100, "n2": 100, "n3": 0}},
		{"preferred anti-affinity by hostname: away from web",
			affinity(tpod("p", "default"), nil, nil, nil, pref(weighted(5, term(hostKey, matchLabels("app", "web"))))), topo([]*api.Pod{web}, nil),
			map[string]int64{"n1": 0, "n2": 100, "n3": 100}},
		{"weights add up: affinity 10 to db by zone, anti 5 to web by host",
			affinity(tpod("p", "default"), nil, pref(weighted(10, term(zoneKey, matchLabels("app", "db")))), nil, pref(weighted(5, term(hostKey, matchLabels("app", "web"))))),
			topo([]*api.Pod{db, web}, nil),
			// n1: 10-5=5, n2: 10, n3: 0 → min 0, max 10.
			map[string]int64{"n1": 50, "n2": 100, "n3": 0}},
		{"symmetry: an existing pod's preferred affinity to the pod draws it",
			tpod("p", "default", "app", "web"), topo(nil, []*api.Pod{affinity(tpod("db", "default", "app", "db"), nil, pref(weighted(7, term(zoneKey, matchLabels("app", "web")))), nil, nil)}),
			map[string]int64{"n1": 0, "n2": 0, "n3": 100}},
		{"symmetry: an existing pod's preferred anti-affinity pushes it away",
			tpod("p", "default", "app", "web"), topo(nil, []*api.Pod{affinity(tpod("db", "default", "app", "db"), nil, nil, nil, pref(weighted(7, term(zoneKey, matchLabels("app", "web")))))}),
			map[string]int64{"n1": 100, "n2": 100, "n3": 0}},
		{"an existing pod's required affinity to the pod counts with the hard weight",
			tpod("p", "default", "app", "web"), topo([]*api.Pod{affinity(tpod("db", "default", "app", "db"), req(term(hostKey, matchLabels("app", "web"))), nil, nil, nil)}, nil),
			map[string]int64{"n1": 100, "n2": 0, "n3": 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := normalizedScores(t, InterPodAffinity{}, framework.NewCycleState(), tc.pod, buildNodes(tc.nodes))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("scores (-want +got):\n%s", diff)
			}
		})
	}
}

// On a cluster large enough to be counted in parallel chunks, the
// verdicts and scores equal those of one serial pass: 400 nodes in 8
// zones, pods of three groups with required anti-affinity by hostname and
// preferred affinity by zone, some nodes full of their group, and an
// incoming pod that also avoids the nodes with a db pod.
func TestInterPodAffinityChunksAgree(t *testing.T) {
	groupPod := func(name, g string) *api.Pod {
		p := tpod(name, "default", "group", g)
		return affinity(p, nil, pref(weighted(100, term(zoneKey, matchLabels("group", g)))),
			req(term(hostKey, matchLabels("group", g))), nil)
	}
	var ts []tnode
	for i := range 400 {
		var pods []*api.Pod
		for g := range 3 {
			if (i+g)%3 != 0 {
				p := groupPod(fmt.Sprintf("p%d-%d", i, g), fmt.Sprintf("g%d", g))
				if i%5 == 0 {
					p.Labels["tier"] = "db"
				}
				pods = append(pods, p)
			}
		}
		ts = append(ts, zoneNode(fmt.Sprintf("n%03d", i), fmt.Sprintf("z%d", i%8), pods...))
	}
	nodes := buildNodes(ts)
	run := func(threshold int) (map[string]string, map[string]int64) {
		old := parallelChunkNodes
		parallelChunkNodes = threshold
		defer func() { parallelChunkNodes = old }()
		// Its own anti-affinity also keeps it off nodes with a db pod.
		pod := groupPod("new", "g1")
		pod.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution = append(
			pod.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution, term(hostKey, matchLabels("tier", "db")))
		return filterVerdicts(t, InterPodAffinity{}, framework.NewCycleState(), pod, nodes),
			normalizedScores(t, InterPodAffinity{}, framework.NewCycleState(), pod, nodes)
	}
	serialV, serialS := run(1 << 30)
	chunkV, chunkS := run(2)
	if diff := cmp.Diff(serialV, chunkV); diff != "" {
		t.Errorf("verdicts differ (-serial +chunks):\n%s", diff)
	}
	if diff := cmp.Diff(serialS, chunkS); diff != "" {
		t.Errorf("scores differ (-serial +chunks):\n%s", diff)
	}
	// A node fits when it holds no g1 pod and no db pod.
	for i := range 400 {
		name := fmt.Sprintf("n%03d", i)
		want := (i+1)%3 == 0 && i%5 != 0
		if got := chunkV[name] == ""; got != want {
			t.Errorf("node %s: fits %v, want %v (%q)", name, got, want, chunkV[name])
		}
	}
}
