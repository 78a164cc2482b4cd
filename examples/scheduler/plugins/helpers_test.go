package plugins

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
	"github.com/setpoint-dev/setpoint/store"
)

// tpod builds a pod in ns with labels ("k=v" pairs).
func tpod(name, ns string, kv ...string) *api.Pod {
	l := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		l[kv[i]] = kv[i+1]
	}
	return &api.Pod{ObjectMeta: store.ObjectMeta{Name: name, Namespace: ns, UID: ns + "/" + name, Labels: l},
		Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "busybox"}}}}
}

// tnode is a node of a test topology with the pods on it.
type tnode struct {
	name   string
	labels map[string]string
	taints []api.Taint
	images []api.ContainerImage
	pods   []*api.Pod
}

func zoneNode(name, zone string, pods ...*api.Pod) tnode {
	l := map[string]string{api.LabelHostname: name}
	if zone != "" {
		l[api.LabelTopologyZone] = zone
	}
	return tnode{name: name, labels: l, pods: pods}
}

func buildNodes(ts []tnode) []*framework.NodeInfo {
	out := make([]*framework.NodeInfo, len(ts))
	for i, t := range ts {
		n := &api.Node{ObjectMeta: store.ObjectMeta{Name: t.name, Labels: t.labels}, Spec: api.NodeSpec{Taints: t.taints}, Status: api.NodeStatus{Images: t.images}}
		infos := make([]*framework.PodInfo, len(t.pods))
		for j, p := range t.pods {
			cp := *p
			cp.Spec.NodeName = t.name
			infos[j] = framework.NewPodInfo(&cp)
		}
		out[i] = framework.NewNodeInfo(n, infos...)
	}
	return out
}

type preFilterFilter interface {
	framework.PreFilterPlugin
	framework.FilterPlugin
}

// filterVerdicts runs PreFilter then Filter on each node and returns, by
// node, "" for a fit or "Code: reason".
func filterVerdicts(t *testing.T, pl preFilterFilter, state *framework.CycleState, pod *api.Pod, nodes []*framework.NodeInfo) map[string]string {
	t.Helper()
	ctx := context.Background()
	info := framework.NewPodInfo(pod)
	framework.WriteAllNodes(state, nodes)
	out := map[string]string{}
	st := pl.PreFilter(ctx, state, info, nodes)
	if !st.IsSuccess() && !st.IsSkip() {
		for _, n := range nodes {
			out[n.Node().Name] = st.String()
		}
		return out
	}
	for _, n := range nodes {
		if st.IsSkip() {
			out[n.Node().Name] = ""
			continue
		}
		fs := pl.Filter(ctx, state, info, n)
		if fs.Code() == framework.Error {
			t.Fatalf("Filter on %s: %v", n.Node().Name, fs)
		}
		if fs.IsSuccess() {
			out[n.Node().Name] = ""
		} else {
			out[n.Node().Name] = fs.String()
		}
	}
	return out
}

type scorer interface {
	framework.PreScorePlugin
	framework.ScorePlugin
	framework.ScoreNormalizer
}

// normalizedScores runs PreScore, Score and NormalizeScore over nodes
// (all feasible); nil when PreScore skipped.
func normalizedScores(t *testing.T, pl scorer, state *framework.CycleState, pod *api.Pod, nodes []*framework.NodeInfo) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	info := framework.NewPodInfo(pod)
	framework.WriteAllNodes(state, nodes)
	if pf, ok := pl.(framework.PreFilterPlugin); ok {
		if st := pf.PreFilter(ctx, state, info, nodes); !st.IsSuccess() && !st.IsSkip() {
			t.Fatalf("PreFilter: %v", st)
		}
	}
	st := pl.PreScore(ctx, state, info, nodes)
	if st.IsSkip() {
		return nil
	}
	if !st.IsSuccess() {
		t.Fatalf("PreScore: %v", st)
	}
	scores := make([]framework.NodeScore, len(nodes))
	for i, n := range nodes {
		v, st := pl.Score(ctx, state, info, n)
		if !st.IsSuccess() {
			t.Fatalf("Score on %s: %v", n.Node().Name, st)
		}
		scores[i] = framework.NodeScore{Name: n.Node().Name, Score: v}
	}
	if st := pl.NormalizeScore(ctx, state, info, scores); !st.IsSuccess() {
		t.Fatalf("NormalizeScore: %v", st)
	}
	out := map[string]int64{}
	for _, s := range scores {
		out[s.Name] = s.Score
	}
	return out
}

func fmtVerdicts(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := ""
	for _, k := range keys {
		s += fmt.Sprintf("\n  %s: %q", k, m[k])
	}
	return s
}
