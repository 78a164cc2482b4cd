package scheduler

import (
	"slices"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/policy"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
	"github.com/setpoint-dev/setpoint/store"
)

func victim(name string, prio int32, startedHoursAgo int) *api.Pod {
	st := store.NewTime(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).Add(-time.Duration(startedHoursAgo) * time.Hour))
	return &api.Pod{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: name, UID: name, Labels: map[string]string{"app": name}},
		Spec: api.PodSpec{Priority: &prio}, Status: api.PodStatus{StartTime: &st}}
}

// Kubernetes' order of preference among preemption candidates.
func TestPickCandidate(t *testing.T) {
	tests := []struct {
		name string
		cs   []candidate
		want string
	}{
		{"a node needing no victim wins", []candidate{{node: "a", victims: []*api.Pod{victim("x", 1, 1)}}, {node: "b"}}, "b"},
		{"fewest PDB violations first", []candidate{
			{node: "a", victims: []*api.Pod{victim("x", 1, 1)}, numViolating: 1},
			{node: "b", victims: []*api.Pod{victim("y", 50, 1), victim("z", 60, 1)}}}, "b"},
		{"then lowest highest victim priority", []candidate{
			{node: "a", victims: []*api.Pod{victim("x", 10, 1)}},
			{node: "b", victims: []*api.Pod{victim("y", 5, 1), victim("z", 5, 1), victim("w", 1, 1)}}}, "b"},
		{"then lowest priority sum", []candidate{
			{node: "a", victims: []*api.Pod{victim("x", 5, 1), victim("y", 5, 1)}},
			{node: "b", victims: []*api.Pod{victim("z", 5, 1), victim("w", 1, 1)}}}, "b"},
		{"then fewest victims (sums offset per victim)", []candidate{
			{node: "a", victims: []*api.Pod{victim("x", 0, 1), victim("y", 0, 1)}},
			{node: "b", victims: []*api.Pod{victim("z", 0, 1)}}}, "b"},
		{"then the latest start of the highest-priority victims", []candidate{
			{node: "a", victims: []*api.Pod{victim("x", 3, 5)}},
			{node: "b", victims: []*api.Pod{victim("y", 3, 2)}},
			{node: "c", victims: []*api.Pod{victim("z", 3, 9)}}}, "b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := pickCandidate(tc.cs).node; got != tc.want {
				t.Errorf("picked %s, want %s", got, tc.want)
			}
		})
	}
}

// splitByPDB counts each budget down over the victims, most important
// first; pods already in disruptedPods, other namespaces, unlabelled
// pods and empty selectors never violate.
func TestSplitByPDB(t *testing.T) {
	pdb := func(ns string, allowed int32, sel *api.LabelSelector, disrupted ...string) *policy.PodDisruptionBudget {
		p := &policy.PodDisruptionBudget{ObjectMeta: store.ObjectMeta{Namespace: ns, Name: "b"}}
		p.Spec.Selector = sel
		p.Status.DisruptionsAllowed = allowed
		p.Status.DisruptedPods = map[string]store.Time{}
		for _, d := range disrupted {
			p.Status.DisruptedPods[d] = store.Now()
		}
		return p
	}
	web := &api.LabelSelector{MatchLabels: map[string]string{"tier": "web"}}
	mk := func(names ...string) []*framework.PodInfo {
		var out []*framework.PodInfo
		for _, n := range names {
			p := victim(n, 1, 1)
			p.Labels["tier"] = "web"
			out = append(out, framework.NewPodInfo(p))
		}
		return out
	}
	unlabelled := framework.NewPodInfo(&api.Pod{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: "u", UID: "u"}})
	names := func(ps []*framework.PodInfo) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Pod.Name)
		}
		return out
	}
	tests := []struct {
		name          string
		pods          []*framework.PodInfo
		pdbs          []*policy.PodDisruptionBudget
		wantViolating []string
	}{
		{"one disruption allowed: the second violates", mk("a", "b"), []*policy.PodDisruptionBudget{pdb("default", 1, web)}, []string{"b"}},
		{"none allowed: both violate", mk("a", "b"), []*policy.PodDisruptionBudget{pdb("default", 0, web)}, []string{"a", "b"}},
		{"already disrupted pods do not count down", mk("a", "b"), []*policy.PodDisruptionBudget{pdb("default", 1, web, "a")}, nil},
		{"another namespace's budget", mk("a"), []*policy.PodDisruptionBudget{pdb("other", 0, web)}, nil},
		{"an empty selector matches nothing", mk("a"), []*policy.PodDisruptionBudget{pdb("default", 0, &api.LabelSelector{})}, nil},
		{"an unlabelled pod matches no budget", []*framework.PodInfo{unlabelled}, []*policy.PodDisruptionBudget{pdb("default", 0, &api.LabelSelector{MatchExpressions: []api.LabelSelectorRequirement{{Key: "x", Operator: api.LabelSelectorOpDoesNotExist}}})}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, nv := splitByPDB(tc.pods, tc.pdbs)
			if got := names(v); len(got)+len(nv) != len(tc.pods) || !slices.Equal(got, tc.wantViolating) {
				t.Errorf("violating %v (non-violating %v), want %v", got, names(nv), tc.wantViolating)
			}
		})
	}
}
