package plugins

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
	"github.com/setpoint-dev/setpoint/store"
)

// ipaWorld is a random cluster that changes step by step, as the
// scheduler's cache would change it: nodes come and go, pods are added
// and removed, namespaces are relabelled.
type ipaWorld struct {
	r      *rand.Rand
	nodes  map[string]*framework.NodeInfo
	ns     map[string]map[string]string
	nextID int
}

var ipaNamespaces = []string{"a", "b", "c"}

// randPod is a pod drawn from a small set of shapes, so that signatures
// repeat, with random (anti-)affinity terms by zone or hostname, some
// with namespaces or a namespaceSelector.
func (w *ipaWorld) randPod() *api.Pod {
	r := w.r
	w.nextID++
	apps := []string{"web", "db", "cache"}
	p := tpod(fmt.Sprintf("p%d", w.nextID), ipaNamespaces[r.IntN(len(ipaNamespaces))], "app", apps[r.IntN(len(apps))])
	shape := r.IntN(8)
	if shape == 0 {
		return p
	}
	key := func() string { return []string{zoneKey, hostKey}[r.IntN(2)] }
	mk := func() api.PodAffinityTerm {
		t := term(key(), matchLabels("app", apps[r.IntN(len(apps))]))
		switch r.IntN(5) {
		case 0:
			t.Namespaces = []string{ipaNamespaces[r.IntN(len(ipaNamespaces))]}
		case 1:
			t.NamespaceSelector = matchLabels("team", "x")
		}
		return t
	}
	var rq, arq []api.PodAffinityTerm
	var pf, apf []api.WeightedPodAffinityTerm
	for range r.IntN(2) {
		rq = append(rq, mk())
	}
	for range r.IntN(2) {
		arq = append(arq, mk())
	}
	for range r.IntN(3) {
		pf = append(pf, weighted(int32(1+r.IntN(100)), mk()))
	}
	for range r.IntN(2) {
		apf = append(apf, weighted(int32(1+r.IntN(100)), mk()))
	}
	return affinity(p, rq, pf, arq, apf)
}

func (w *ipaWorld) addNode() {
	w.nextID++
	name := fmt.Sprintf("n%d", w.nextID)
	l := map[string]string{hostKey: name}
	if w.r.IntN(6) > 0 {
		l[zoneKey] = fmt.Sprintf("z%d", w.r.IntN(3))
	}
	w.nodes[name] = framework.NewNodeInfo(&api.Node{ObjectMeta: store.ObjectMeta{Name: name, Labels: l}})
}

func (w *ipaWorld) anyNode() *framework.NodeInfo {
	names := make([]string, 0, len(w.nodes))
	for n := range w.nodes {
		names = append(names, n)
	}
	if len(names) == 0 {
		return nil
	}
	return w.nodes[names[w.r.IntN(len(names))]]
}

// step changes the world once.
func (w *ipaWorld) step() {
	switch k := w.r.IntN(20); {
	case k < 10:
		if n := w.anyNode(); n != nil {
			p := w.randPod()
			p.Spec.NodeName = n.Node().Name
			n.AddPodInfo(framework.NewPodInfo(p))
		}
	case k < 14:
		if n := w.anyNode(); n != nil && len(n.Pods) > 0 {
			_ = n.RemovePod(n.Pods[w.r.IntN(len(n.Pods))].Pod)
		}
	case k < 16:
		w.addNode()
	case k < 18:
		if n := w.anyNode(); n != nil && len(w.nodes) > 1 {
			delete(w.nodes, n.Node().Name)
		}
	default:
		ns := ipaNamespaces[w.r.IntN(len(ipaNamespaces))]
		w.ns[ns] = map[string]string{"team": []string{"x", "y"}[w.r.IntN(2)]}
	}
}

func (w *ipaWorld) list() []*framework.NodeInfo {
	out := make([]*framework.NodeInfo, 0, len(w.nodes))
	for _, n := range w.nodes {
		out = append(out, n)
	}
	w.r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func (w *ipaWorld) state() *framework.CycleState {
	s := framework.NewCycleState()
	labels := maps.Clone(w.ns)
	framework.WriteNamespaces(s, framework.NamespaceListerFunc(func(name string) (map[string]string, bool) {
		l, ok := labels[name]
		return l, ok
	}))
	return s
}

// TestInterPodAffinityKeptCountsMatchFreshCounts is a property test: a
// plugin that keeps its counts across cycles (NewInterPodAffinity) gives
// the same filter verdicts and scores as one that counts every node
// afresh, over random histories of nodes, pods and namespace labels, in
// one goroutine and in parallel chunks.
func TestInterPodAffinityKeptCountsMatchFreshCounts(t *testing.T) {
	for _, threshold := range []int{1 << 30, 2} {
		t.Run(fmt.Sprintf("parallelChunkNodes=%d", threshold), func(t *testing.T) {
			old := parallelChunkNodes
			parallelChunkNodes = threshold
			defer func() { parallelChunkNodes = old }()
			for seed := range uint64(20) {
				w := &ipaWorld{r: rand.New(rand.NewPCG(seed, 7)), nodes: map[string]*framework.NodeInfo{},
					ns: map[string]map[string]string{"a": {"team": "x"}, "b": {"team": "y"}}}
				for range 6 {
					w.addNode()
				}
				kept := NewInterPodAffinity(0)
				// A few incoming pod shapes, so that signatures repeat.
				incoming := []*api.Pod{w.randPod(), w.randPod(), w.randPod(), w.randPod(), w.randPod(), w.randPod()}
				for i := range 60 {
					for range 1 + w.r.IntN(3) {
						w.step()
					}
					pod := incoming[w.r.IntN(len(incoming))]
					nodes := w.list()
					got := filterVerdicts(t, kept, w.state(), pod, nodes)
					want := filterVerdicts(t, InterPodAffinity{}, w.state(), pod, nodes)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Fatalf("seed %d step %d: filter verdicts of kept counts differ (-fresh +kept):\n%s", seed, i, diff)
					}
					gotS := normalizedScores(t, kept, w.state(), pod, nodes)
					wantS := normalizedScores(t, InterPodAffinity{}, w.state(), pod, nodes)
					if diff := cmp.Diff(wantS, gotS); diff != "" {
						t.Fatalf("seed %d step %d: scores of kept counts differ (-fresh +kept):\n%s", seed, i, diff)
					}
				}
			}
		})
	}
}

// TestInterPodAffinityKeptCountsConcurrent runs cycles of one plugin from
// several goroutines at once (as preemption's simulations may): each gets
// the counts of its own node list, whether it used the kept counts or
// found them busy and counted afresh.
func TestInterPodAffinityKeptCountsConcurrent(t *testing.T) {
	w := &ipaWorld{r: rand.New(rand.NewPCG(1, 2)), nodes: map[string]*framework.NodeInfo{}, ns: map[string]map[string]string{}}
	for range 30 {
		w.addNode()
	}
	for range 200 {
		w.step()
	}
	pod := affinity(tpod("in", "a", "app", "web"), nil, pref(weighted(10, term(zoneKey, matchLabels("app", "db")))),
		req(term(hostKey, matchLabels("app", "web"))), nil)
	info := framework.NewPodInfo(pod)
	base := w.list()
	// Views: the cluster with one node's pods removed, as preemption
	// simulates.
	views := make([][]*framework.NodeInfo, 8)
	for i := range views {
		v := append([]*framework.NodeInfo(nil), base...)
		c := v[i].Clone()
		for _, p := range append([]*framework.PodInfo(nil), c.Pods...) {
			_ = c.RemovePod(p.Pod)
		}
		v[i] = c
		views[i] = v
	}
	want := make([]map[string]string, len(views))
	for i, v := range views {
		want[i] = filterVerdicts(t, InterPodAffinity{}, w.state(), pod, v)
	}
	kept := NewInterPodAffinity(0)
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(views))
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 40 {
				i := (g + k) % len(views)
				state := w.state()
				if st := kept.PreFilter(context.Background(), state, info, views[i]); !st.IsSuccess() {
					errs <- fmt.Errorf("PreFilter: %v", st)
					return
				}
				for _, n := range views[i] {
					got := kept.Filter(context.Background(), state, info, n)
					gotS := ""
					if !got.IsSuccess() {
						gotS = got.String()
					}
					if gotS != want[i][n.Node().Name] {
						errs <- fmt.Errorf("view %d node %s: got %q, want %q", i, n.Node().Name, gotS, want[i][n.Node().Name])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
