package framework

import (
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

func rl(kv ...string) api.ResourceList {
	out := api.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		out[api.ResourceName(kv[i])] = api.MustParse(kv[i+1])
	}
	return out
}

func ctr(req api.ResourceList) api.Container {
	return api.Container{Name: "c", Resources: api.ResourceRequirements{Requests: req}}
}

func TestPodRequests(t *testing.T) {
	always := api.ContainerRestartPolicyAlways
	sidecar := ctr(rl("cpu", "200m"))
	sidecar.RestartPolicy = &always
	tests := []struct {
		name      string
		spec      api.PodSpec
		nonZero   bool
		cpu, mem  int64
		gpuScalar int64
	}{
		{name: "sum of containers", spec: api.PodSpec{Containers: []api.Container{ctr(rl("cpu", "100m", "memory", "1Ki")), ctr(rl("cpu", "0.25"))}}, cpu: 350, mem: 1024},
		{name: "cpu rounds up to millicores", spec: api.PodSpec{Containers: []api.Container{ctr(rl("cpu", "0.0001"))}}, cpu: 1},
		// The largest init container wins when it is larger than the sum.
		{name: "init container max", spec: api.PodSpec{InitContainers: []api.Container{ctr(rl("cpu", "2"))}, Containers: []api.Container{ctr(rl("cpu", "1")), ctr(rl("cpu", "500m"))}}, cpu: 2000},
		{name: "sum beats init", spec: api.PodSpec{InitContainers: []api.Container{ctr(rl("cpu", "1"))}, Containers: []api.Container{ctr(rl("cpu", "1")), ctr(rl("cpu", "500m"))}}, cpu: 1500},
		// A sidecar runs beside the later init containers and the app.
		{name: "sidecar", spec: api.PodSpec{InitContainers: []api.Container{sidecar, ctr(rl("cpu", "1"))}, Containers: []api.Container{ctr(rl("cpu", "100m"))}}, cpu: 1200},
		{name: "overhead added", spec: api.PodSpec{Overhead: rl("cpu", "250m"), Containers: []api.Container{ctr(rl("cpu", "100m"))}}, cpu: 350},
		{name: "extended resource", spec: api.PodSpec{Containers: []api.Container{ctr(rl("example.com/gpu", "2"))}}, gpuScalar: 2},
		{name: "nonzero defaults", nonZero: true, spec: api.PodSpec{Containers: []api.Container{ctr(nil), ctr(rl("cpu", "1"))}}, cpu: 1100, mem: 2 * DefaultMemoryRequest},
		{name: "pod-level requests replace", spec: api.PodSpec{Resources: &api.ResourceRequirements{Requests: rl("cpu", "3")}, Containers: []api.Container{ctr(rl("cpu", "1", "memory", "10"))}}, cpu: 3000, mem: 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := PodRequests(&api.Pod{Spec: tc.spec}, tc.nonZero)
			if r.MilliCPU != tc.cpu || r.Memory != tc.mem || r.Scalar["example.com/gpu"] != tc.gpuScalar {
				t.Fatalf("got cpu=%d mem=%d gpu=%d, want %d %d %d", r.MilliCPU, r.Memory, r.Scalar["example.com/gpu"], tc.cpu, tc.mem, tc.gpuScalar)
			}
		})
	}
}

func TestHostPortConflicts(t *testing.T) {
	h := HostPortInfo{}
	h.Add("127.0.0.1", "TCP", 80)
	h.Add("", "", 53)
	tests := []struct {
		ip, proto string
		port      int32
		want      bool
	}{
		{"127.0.0.1", "TCP", 80, true},
		{"0.0.0.0", "TCP", 80, true}, // any address overlaps every specific one
		{"10.0.0.1", "TCP", 80, false},
		{"127.0.0.1", "UDP", 80, false},
		{"10.0.0.1", "TCP", 53, true}, // 53 is bound on 0.0.0.0
		{"", "UDP", 53, false},
		{"", "TCP", 0, false},
	}
	for _, tc := range tests {
		if got := h.CheckConflict(tc.ip, tc.proto, tc.port); got != tc.want {
			t.Errorf("CheckConflict(%q,%q,%d) = %v, want %v", tc.ip, tc.proto, tc.port, got, tc.want)
		}
	}
	h.Remove("127.0.0.1", "TCP", 80)
	if h.CheckConflict("0.0.0.0", "TCP", 80) {
		t.Fatal("port 80 still in use after Remove")
	}
}

func TestLabelSelector(t *testing.T) {
	labels := map[string]string{"app": "web", "tier": "front"}
	tests := []struct {
		name    string
		sel     *api.LabelSelector
		want    bool
		wantErr bool
	}{
		{name: "nil selects nothing", sel: nil, want: false},
		{name: "empty selects everything", sel: &api.LabelSelector{}, want: true},
		{name: "matchLabels", sel: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, want: true},
		{name: "In", sel: &api.LabelSelector{MatchExpressions: []api.LabelSelectorRequirement{{Key: "tier", Operator: "In", Values: []string{"back", "front"}}}}, want: true},
		{name: "NotIn on missing key matches", sel: &api.LabelSelector{MatchExpressions: []api.LabelSelectorRequirement{{Key: "zone", Operator: "NotIn", Values: []string{"a"}}}}, want: true},
		{name: "DoesNotExist", sel: &api.LabelSelector{MatchExpressions: []api.LabelSelectorRequirement{{Key: "app", Operator: "DoesNotExist"}}}, want: false},
		{name: "In without values", sel: &api.LabelSelector{MatchExpressions: []api.LabelSelectorRequirement{{Key: "app", Operator: "In"}}}, wantErr: true},
		{name: "bad operator", sel: &api.LabelSelector{MatchExpressions: []api.LabelSelectorRequirement{{Key: "app", Operator: "Gt", Values: []string{"1"}}}}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSelector(tc.sel)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil && s.Matches(labels) != tc.want {
				t.Fatalf("Matches = %v, want %v", !tc.want, tc.want)
			}
		})
	}
}

func TestRequiredNodeAffinity(t *testing.T) {
	node := &api.Node{ObjectMeta: store.ObjectMeta{Name: "n1", Labels: map[string]string{"zone": "a", "cores": "16"}}}
	term := func(reqs ...api.NodeSelectorRequirement) api.NodeSelectorTerm {
		return api.NodeSelectorTerm{MatchExpressions: reqs}
	}
	tests := []struct {
		name     string
		selector map[string]string
		terms    []api.NodeSelectorTerm
		want     bool
	}{
		{name: "nodeSelector matches", selector: map[string]string{"zone": "a"}, want: true},
		{name: "nodeSelector misses", selector: map[string]string{"zone": "b"}, want: false},
		{name: "Gt", terms: []api.NodeSelectorTerm{term(api.NodeSelectorRequirement{Key: "cores", Operator: "Gt", Values: []string{"8"}})}, want: true},
		{name: "Lt", terms: []api.NodeSelectorTerm{term(api.NodeSelectorRequirement{Key: "cores", Operator: "Lt", Values: []string{"8"}})}, want: false},
		{name: "terms are ORed", terms: []api.NodeSelectorTerm{term(api.NodeSelectorRequirement{Key: "zone", Operator: "In", Values: []string{"b"}}), term(api.NodeSelectorRequirement{Key: "zone", Operator: "Exists"})}, want: true},
		{name: "matchFields metadata.name", terms: []api.NodeSelectorTerm{{MatchFields: []api.NodeSelectorRequirement{{Key: "metadata.name", Operator: "In", Values: []string{"n1"}}}}}, want: true},
		{name: "both must hold", selector: map[string]string{"zone": "b"}, terms: []api.NodeSelectorTerm{term(api.NodeSelectorRequirement{Key: "zone", Operator: "Exists"})}, want: false},
		// A term with no requirements matches no node.
		{name: "empty term", terms: []api.NodeSelectorTerm{{}}, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := &api.Pod{Spec: api.PodSpec{NodeSelector: tc.selector}}
			if tc.terms != nil {
				pod.Spec.Affinity = &api.Affinity{NodeAffinity: &api.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &api.NodeSelector{NodeSelectorTerms: tc.terms}}}
			}
			if got := GetRequiredNodeAffinity(pod).Matches(node); got != tc.want {
				t.Fatalf("Matches = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNodeInfoAddRemove(t *testing.T) {
	node := &api.Node{ObjectMeta: store.ObjectMeta{Name: "n1"}, Status: api.NodeStatus{Allocatable: rl("cpu", "4", "pods", "110")}}
	p := &api.Pod{ObjectMeta: store.ObjectMeta{Name: "p", UID: "u1"}, Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Resources: api.ResourceRequirements{Requests: rl("cpu", "1")}, Ports: []api.ContainerPort{{HostPort: 8080, ContainerPort: 80}}}}}}
	ni := NewNodeInfo(node, NewPodInfo(p))
	if ni.Requested.MilliCPU != 1000 || ni.Requested.AllowedPodNumber != 1 || !ni.UsedPorts.CheckConflict("", "TCP", 8080) {
		t.Fatalf("after add: %+v ports %v", ni.Requested, ni.UsedPorts)
	}
	c := ni.Clone()
	if err := ni.RemovePod(p); err != nil {
		t.Fatal(err)
	}
	if ni.Requested.MilliCPU != 0 || len(ni.Pods) != 0 || ni.UsedPorts.CheckConflict("", "TCP", 8080) {
		t.Fatalf("after remove: %+v", ni.Requested)
	}
	if c.Requested.MilliCPU != 1000 || len(c.Pods) != 1 {
		t.Fatal("clone changed with the original")
	}
	if err := ni.RemovePod(p); err == nil {
		t.Fatal("removing a pod twice succeeded")
	}
}

func TestStatusNil(t *testing.T) {
	var s *Status
	if !s.IsSuccess() || s.AsError() != nil || s.Code() != Success {
		t.Fatal("nil status is not success")
	}
	u := NewStatus(Unschedulable, "Insufficient cpu").WithPlugin("NodeResourcesFit")
	if !u.IsRejected() || u.Plugin() != "NodeResourcesFit" || u.AsError() == nil || u.String() != "Unschedulable: Insufficient cpu" {
		t.Fatalf("status %v", u)
	}
}
