package plugins

import (
	"context"
	"slices"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
	"github.com/setpoint-dev/setpoint/store"
)

func rl(kv ...string) api.ResourceList {
	out := api.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		out[api.ResourceName(kv[i])] = api.MustParse(kv[i+1])
	}
	return out
}

func podWith(req api.ResourceList) *api.Pod {
	return &api.Pod{ObjectMeta: store.ObjectMeta{Name: "p", Namespace: "default", UID: "p"},
		Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Resources: api.ResourceRequirements{Requests: req}}}}}
}

func nodeWith(alloc api.ResourceList, pods ...*api.Pod) *framework.NodeInfo {
	n := &api.Node{ObjectMeta: store.ObjectMeta{Name: "n", Labels: map[string]string{"zone": "a", "disk": "ssd"}}, Status: api.NodeStatus{Allocatable: alloc}}
	infos := make([]*framework.PodInfo, len(pods))
	for i, p := range pods {
		infos[i] = framework.NewPodInfo(p)
	}
	return framework.NewNodeInfo(n, infos...)
}

// Tolerations, as the Kubernetes documentation on taints and tolerations
// describes them.
func TestTolerationTolerates(t *testing.T) {
	taint := api.Taint{Key: "key1", Value: "value1", Effect: api.TaintEffectNoSchedule}
	secs := int64(3600)
	tests := []struct {
		name string
		tol  api.Toleration
		want bool
	}{
		{"Equal with key, value and effect", api.Toleration{Key: "key1", Operator: "Equal", Value: "value1", Effect: "NoSchedule"}, true},
		{"operator defaults to Equal", api.Toleration{Key: "key1", Value: "value1", Effect: "NoSchedule"}, true},
		{"Exists ignores the value", api.Toleration{Key: "key1", Operator: "Exists", Effect: "NoSchedule"}, true},
		{"empty effect matches every effect", api.Toleration{Key: "key1", Operator: "Equal", Value: "value1"}, true},
		{"empty key with Exists matches everything", api.Toleration{Operator: "Exists"}, true},
		{"other value", api.Toleration{Key: "key1", Operator: "Equal", Value: "value2", Effect: "NoSchedule"}, false},
		{"other effect", api.Toleration{Key: "key1", Operator: "Equal", Value: "value1", Effect: "NoExecute"}, false},
		{"other key", api.Toleration{Key: "key2", Operator: "Exists"}, false},
		{"empty key with Equal matches nothing", api.Toleration{Operator: "Equal", Value: "value1"}, false},
		{"tolerationSeconds does not matter to scheduling", api.Toleration{Key: "key1", Operator: "Exists", TolerationSeconds: &secs}, true},
	}
	for _, tc := range tests {
		if got := TolerationTolerates(&tc.tol, &taint); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTaintTolerationFilterAndScore(t *testing.T) {
	ctx := context.Background()
	mk := func(taints ...api.Taint) *framework.NodeInfo {
		n := nodeWith(rl("pods", "10"))
		n.Node().Spec.Taints = taints
		return n
	}
	pod := podWith(nil)
	pod.Spec.Tolerations = []api.Toleration{{Key: "a", Operator: "Exists", Effect: "NoSchedule"}, {Key: "p", Operator: "Exists", Effect: "PreferNoSchedule"}}
	pi := framework.NewPodInfo(pod)
	tt := TaintToleration{}
	for _, tc := range []struct {
		taint api.Taint
		want  string // "" when the node passes
	}{
		{api.Taint{Key: "a", Value: "1", Effect: "NoSchedule"}, ""},
		{api.Taint{Key: "b", Value: "2", Effect: "NoSchedule"}, "node(s) had untolerated taint {b: 2}"},
		{api.Taint{Key: "b", Value: "2", Effect: "NoExecute"}, "node(s) had untolerated taint {b: 2}"},
		{api.Taint{Key: "b", Value: "2", Effect: "PreferNoSchedule"}, ""}, // only lowers the score
	} {
		st := tt.Filter(ctx, nil, pi, mk(tc.taint))
		if st.Message() != tc.want || (tc.want != "" && st.Code() != framework.UnschedulableAndUnresolvable) {
			t.Errorf("taint %v: %v, want %q", tc.taint, st, tc.want)
		}
	}
	// Untolerated PreferNoSchedule taints: fewer is better.
	nodes := []*framework.NodeInfo{
		mk(),
		mk(api.Taint{Key: "p", Effect: "PreferNoSchedule"}), // tolerated
		mk(api.Taint{Key: "x", Effect: "PreferNoSchedule"}),
		mk(api.Taint{Key: "x", Effect: "PreferNoSchedule"}, api.Taint{Key: "y", Effect: "PreferNoSchedule"}),
	}
	scores := make([]framework.NodeScore, len(nodes))
	for i, n := range nodes {
		v, _ := tt.Score(ctx, nil, pi, n)
		scores[i] = framework.NodeScore{Score: v}
	}
	tt.NormalizeScore(ctx, nil, pi, scores)
	var got []int64
	for _, s := range scores {
		got = append(got, s.Score)
	}
	if want := []int64{100, 100, 50, 0}; !slices.Equal(got, want) {
		t.Fatalf("scores %v, want %v", got, want)
	}
}

func TestNodeResourcesFitFilter(t *testing.T) {
	ctx := context.Background()
	fit, err := NewNodeResourcesFit(FitArgs{IgnoredResources: []api.ResourceName{"example.com/ignored"}})
	if err != nil {
		t.Fatal(err)
	}
	existing := podWith(rl("cpu", "3", "memory", "1Gi", "example.com/gpu", "1"))
	existing.UID = "existing"
	node := nodeWith(rl("cpu", "4", "memory", "2Gi", "pods", "2", "example.com/gpu", "2"), existing)
	for _, tc := range []struct {
		name string
		req  api.ResourceList
		want []string
	}{
		{"fits", rl("cpu", "1", "memory", "1Gi"), nil},
		{"cpu", rl("cpu", "1001m"), []string{"Insufficient cpu"}},
		{"cpu and memory", rl("cpu", "2", "memory", "2Gi"), []string{"Insufficient cpu", "Insufficient memory"}},
		{"extended", rl("example.com/gpu", "2"), []string{"Insufficient example.com/gpu"}},
		{"unknown extended", rl("example.com/fpga", "1"), []string{"Insufficient example.com/fpga"}},
		{"ignored extended", rl("example.com/ignored", "5"), nil},
		{"no requests fit a full node", nil, nil},
	} {
		st := fit.Filter(ctx, nil, framework.NewPodInfo(podWith(tc.req)), node)
		if !slices.Equal(st.Reasons(), tc.want) || (tc.want != nil && st.Code() != framework.Unschedulable) {
			t.Errorf("%s: %v, want %v", tc.name, st, tc.want)
		}
	}
	// The pod count: a node with allocatable pods=1 holding a pod is full.
	full := nodeWith(rl("cpu", "4", "pods", "1"), existing)
	if st := fit.Filter(ctx, nil, framework.NewPodInfo(podWith(nil)), full); !slices.Equal(st.Reasons(), []string{"Too many pods"}) {
		t.Errorf("full node: %v", st)
	}
}

func TestNodeResourcesFitScore(t *testing.T) {
	ctx := context.Background()
	score := func(args FitArgs, pod *api.Pod, node *framework.NodeInfo) int64 {
		t.Helper()
		fit, err := NewNodeResourcesFit(args)
		if err != nil {
			t.Fatal(err)
		}
		v, st := fit.Score(ctx, nil, framework.NewPodInfo(pod), node)
		if !st.IsSuccess() {
			t.Fatal(st)
		}
		return v
	}
	node := nodeWith(rl("cpu", "4", "memory", "8Gi", "pods", "10"))
	pod := podWith(rl("cpu", "1", "memory", "2Gi"))
	// (capacity - requested) * 100 / capacity: 75 for both resources.
	if got := score(FitArgs{}, pod, node); got != 75 {
		t.Errorf("LeastAllocated = %d, want 75", got)
	}
	// requested * 100 / capacity.
	if got := score(FitArgs{Strategy: MostAllocated}, pod, node); got != 25 {
		t.Errorf("MostAllocated = %d, want 25", got)
	}
	// Kubernetes' bin packing example: utilizations 75% (foo), 50%
	// (memory) and 37% (cpu) on the shape 0->0, 100->10 weigh 5, 1 and 3:
	// (75*5 + 50*1 + 37*3) / 9 = 59.
	used := podWith(rl("intel.com/foo", "1", "memory", "256Mi", "cpu", "1"))
	used.UID = "used"
	binNode := nodeWith(rl("intel.com/foo", "4", "memory", "1Gi", "cpu", "8", "pods", "10"), used)
	args := FitArgs{Strategy: RequestedToCapacityRatio,
		Shape:     []UtilizationShapePoint{{0, 0}, {100, 10}},
		Resources: []ResourceWeight{{"intel.com/foo", 5}, {"memory", 1}, {"cpu", 3}}}
	if got := score(args, podWith(rl("intel.com/foo", "2", "memory", "256Mi", "cpu", "2")), binNode); got != 59 {
		t.Errorf("RequestedToCapacityRatio = %d, want 59", got)
	}
	// A pod without requests counts the defaults (0.1 core, 200 MiB).
	if got := score(FitArgs{Resources: []ResourceWeight{{"cpu", 1}}}, podWith(nil), node); got != (4000-100)*100/4000 {
		t.Errorf("LeastAllocated of an empty pod = %d", got)
	}
	for _, bad := range []FitArgs{{Strategy: "Random"}, {Strategy: RequestedToCapacityRatio}, {Resources: []ResourceWeight{{"cpu", 0}}},
		{Strategy: RequestedToCapacityRatio, Shape: []UtilizationShapePoint{{50, 1}, {40, 2}}}} {
		if _, err := NewNodeResourcesFit(bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

func TestBalancedAllocation(t *testing.T) {
	ctx := context.Background()
	node := nodeWith(rl("cpu", "4", "memory", "8Gi", "pods", "10"))
	for _, tc := range []struct {
		req  api.ResourceList
		want int64
	}{
		{rl("cpu", "1", "memory", "2Gi"), 100}, // 25% and 25%
		{rl("cpu", "2", "memory", "2Gi"), 87},  // 50% and 25%: std 0.125
		{rl("cpu", "4", "memory", "0"), 50},    // 100% and 0%
	} {
		v, _ := BalancedAllocation{}.Score(ctx, nil, framework.NewPodInfo(podWith(tc.req)), node)
		if v != tc.want {
			t.Errorf("%v: %d, want %d", tc.req, v, tc.want)
		}
	}
}

func TestNodeAffinity(t *testing.T) {
	ctx := context.Background()
	node := nodeWith(rl("pods", "10"))
	na := NodeAffinity{}
	for _, tc := range []struct {
		name     string
		affinity *api.NodeAffinity
		selector map[string]string
		pass     bool
		score    int64
	}{
		{name: "no constraints", pass: true},
		{name: "selector", selector: map[string]string{"zone": "a"}, pass: true},
		{name: "selector misses", selector: map[string]string{"zone": "b"}},
		{name: "NotIn", pass: false, affinity: &api.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &api.NodeSelector{
			NodeSelectorTerms: []api.NodeSelectorTerm{{MatchExpressions: []api.NodeSelectorRequirement{{Key: "zone", Operator: "NotIn", Values: []string{"a"}}}}}}}},
		{name: "DoesNotExist", pass: true, affinity: &api.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &api.NodeSelector{
			NodeSelectorTerms: []api.NodeSelectorTerm{{MatchExpressions: []api.NodeSelectorRequirement{{Key: "gpu", Operator: "DoesNotExist"}}}}}}},
		{name: "preferred weights add", pass: true, score: 7, affinity: &api.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []api.PreferredSchedulingTerm{
			{Weight: 3, Preference: api.NodeSelectorTerm{MatchExpressions: []api.NodeSelectorRequirement{{Key: "zone", Operator: "In", Values: []string{"a"}}}}},
			{Weight: 4, Preference: api.NodeSelectorTerm{MatchExpressions: []api.NodeSelectorRequirement{{Key: "disk", Operator: "Exists"}}}},
			{Weight: 50, Preference: api.NodeSelectorTerm{MatchExpressions: []api.NodeSelectorRequirement{{Key: "zone", Operator: "In", Values: []string{"b"}}}}},
		}}},
	} {
		pod := podWith(nil)
		pod.Spec.NodeSelector = tc.selector
		if tc.affinity != nil {
			pod.Spec.Affinity = &api.Affinity{NodeAffinity: tc.affinity}
		}
		pi := framework.NewPodInfo(pod)
		state := framework.NewCycleState()
		if st := na.PreFilter(ctx, state, pi, nil); !st.IsSuccess() {
			t.Fatalf("%s: PreFilter %v", tc.name, st)
		}
		st := na.Filter(ctx, state, pi, node)
		if st.IsSuccess() != tc.pass || (!tc.pass && st.Message() != ErrReasonNodeAffinity) {
			t.Errorf("%s: Filter %v, want pass=%v", tc.name, st, tc.pass)
		}
		if v, _ := na.Score(ctx, state, pi, node); v != tc.score {
			t.Errorf("%s: Score %d, want %d", tc.name, v, tc.score)
		}
	}
	// A term that does not compile rejects the pod before any node.
	pod := podWith(nil)
	pod.Spec.Affinity = &api.Affinity{NodeAffinity: &api.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &api.NodeSelector{
		NodeSelectorTerms: []api.NodeSelectorTerm{{MatchExpressions: []api.NodeSelectorRequirement{{Key: "cores", Operator: "Gt", Values: []string{"many"}}}}}}}}
	if st := na.PreFilter(ctx, framework.NewCycleState(), framework.NewPodInfo(pod), nil); st.Code() != framework.UnschedulableAndUnresolvable {
		t.Errorf("bad term: %v", st)
	}
}

func TestNodeUnschedulableNamePorts(t *testing.T) {
	ctx := context.Background()
	node := nodeWith(rl("pods", "10"))
	node.Node().Spec.Unschedulable = true
	pod := podWith(nil)
	if st := (NodeUnschedulable{}).Filter(ctx, nil, framework.NewPodInfo(pod), node); st.Message() != ErrReasonUnschedulable {
		t.Errorf("cordoned: %v", st)
	}
	pod.Spec.Tolerations = []api.Toleration{{Key: framework.TaintNodeUnschedulable, Operator: "Exists", Effect: "NoSchedule"}}
	if st := (NodeUnschedulable{}).Filter(ctx, nil, framework.NewPodInfo(pod), node); !st.IsSuccess() {
		t.Errorf("tolerating pod on cordoned node: %v", st)
	}
	pod.Spec.NodeName = "other"
	if st := (NodeName{}).Filter(ctx, nil, framework.NewPodInfo(pod), node); st.Message() != ErrReasonNodeName {
		t.Errorf("NodeName: %v", st)
	}
	user := podWith(nil)
	user.UID = "user"
	user.Spec.Containers[0].Ports = []api.ContainerPort{{HostPort: 80, HostIP: "10.0.0.1", Protocol: "TCP"}}
	busy := nodeWith(rl("pods", "10"), user)
	for _, tc := range []struct {
		port api.ContainerPort
		want bool
	}{
		{api.ContainerPort{HostPort: 80}, false}, // 0.0.0.0 overlaps 10.0.0.1
		{api.ContainerPort{HostPort: 80, HostIP: "10.0.0.2"}, true},
		{api.ContainerPort{HostPort: 80, Protocol: "UDP"}, true},
		{api.ContainerPort{ContainerPort: 80}, true}, // no host port
	} {
		p := podWith(nil)
		p.Spec.Containers[0].Ports = []api.ContainerPort{tc.port}
		st := (NodePorts{}).Filter(ctx, nil, framework.NewPodInfo(p), busy)
		if st.IsSuccess() != tc.want {
			t.Errorf("port %+v: %v, want pass=%v", tc.port, st, tc.want)
		}
	}
}
