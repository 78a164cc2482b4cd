package plugins

import (
	"context"
	"math"
	"runtime"
	"sync"

	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
)

// InterPodAffinityName is the InterPodAffinity plugin's name.
const InterPodAffinityName = "InterPodAffinity"

// Kubernetes' InterPodAffinity filter messages.
const (
	ErrReasonAffinityRulesNotMatch             = "node(s) didn't match pod affinity rules"
	ErrReasonAntiAffinityRulesNotMatch         = "node(s) didn't match pod anti-affinity rules"
	ErrReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules"
)

// DefaultHardPodAffinityWeight is the score weight an existing pod's
// required affinity term gives the domains it matches the incoming pod
// in (Kubernetes' hardPodAffinityWeight default).
const DefaultHardPodAffinityWeight = 1

// InterPodAffinity is the InterPodAffinity plugin, following Kubernetes:
//
//   - Filter, required affinity: on a node, every required affinity term
//     of the pod must find a pod it selects in the node's domain of the
//     term's topologyKey (pods matching all terms are counted), and the
//     node must carry every topologyKey. When no pod anywhere matches and
//     the pod matches its own terms, any node with the keys fits (the
//     first pod of a group). Failure: UnschedulableAndUnresolvable.
//   - Filter, required anti-affinity: no pod selected by one of the pod's
//     anti-affinity terms may be in the node's domain of that term.
//   - Filter, symmetry: no existing pod whose required anti-affinity
//     selects the incoming pod may be in the node's domain of that term.
//   - Score: preferred affinity (+weight) and anti-affinity (−weight) of
//     the pod towards existing pods, the same of existing pods towards the
//     pod, and existing pods' required affinity terms selecting the pod
//     (+HardPodAffinityWeight), summed by topology domain over all nodes,
//     then scaled min–max to 0–100.
//
// Terms select pods in their namespaces, in the pod's own namespace when
// they name none, or in the namespaces their namespaceSelector matches
// (labels from the CycleState's framework.NamespaceLister). Everything
// is counted once per cycle in PreFilter and PreScore, so Filter and
// Score are map lookups.
type InterPodAffinity struct {
	// HardPodAffinityWeight weighs existing pods' required affinity terms
	// in the score; 0 means DefaultHardPodAffinityWeight, negative turns
	// them off.
	HardPodAffinityWeight int64

	caches *ipaCaches
}

// NewInterPodAffinity returns an InterPodAffinity with hardWeight (see
// HardPodAffinityWeight) that keeps its counts across cycles: each
// node's share of them, for the last four pod signatures (namespace,
// labels and pod affinity), is kept while the node's Generation stays
// the same, so a pod like an earlier one (the replicas of one workload)
// is counted again only on the nodes that changed since. The result is
// the same as a literal InterPodAffinity's, which counts every node every
// cycle. Memory: up to four small count lists per node.
func NewInterPodAffinity(hardWeight int64) InterPodAffinity {
	return InterPodAffinity{HardPodAffinityWeight: hardWeight, caches: &ipaCaches{}}
}

var (
	_ framework.PreFilterPlugin = InterPodAffinity{}
	_ framework.FilterPlugin    = InterPodAffinity{}
	_ framework.PreScorePlugin  = InterPodAffinity{}
	_ framework.ScorePlugin     = InterPodAffinity{}
	_ framework.ScoreNormalizer = InterPodAffinity{}
)

// Name returns InterPodAffinityName.
func (InterPodAffinity) Name() string { return InterPodAffinityName }

type topologyPair struct{ key, value string }

const (
	ipaPreFilterKey framework.StateKey = "PreFilter" + InterPodAffinityName
	ipaPreScoreKey  framework.StateKey = "PreScore" + InterPodAffinityName
)

type ipaFilterState struct {
	// existingAnti counts, by domain, existing pods' required
	// anti-affinity terms that select the incoming pod.
	existingAnti *counts
	// existingAntiKeys is existingAnti's topology keys.
	existingAntiKeys []string
	// affinity counts, by domain of each required affinity term, pods
	// that match all of the incoming pod's required affinity terms.
	affinity *counts
	// anti counts, by domain, pods that one of the incoming pod's required
	// anti-affinity terms selects.
	anti *counts
	// selfMatch: the pod matches all its own required affinity terms.
	selfMatch bool
}

// Clone returns s: its counts are frozen.
func (s *ipaFilterState) Clone() framework.StateData { return s }

// nsLabelCache looks namespaces' labels up once per cycle.
type nsLabelCache struct {
	state *framework.CycleState
	m     map[string]map[string]string
	// used is set by every look-up.
	used bool
}

func (c *nsLabelCache) get(ns string) map[string]string {
	c.used = true
	if l, ok := c.m[ns]; ok {
		return l
	}
	if c.m == nil {
		c.m = map[string]map[string]string{}
	}
	l := framework.NamespaceLabels(c.state, ns)
	c.m[ns] = l
	return l
}

// termMatches evaluates t against pod, fetching the namespace's labels
// only when the term has a namespaceSelector.
func (c *nsLabelCache) termMatches(t *framework.AffinityTerm, pod *framework.PodInfo) bool {
	var nsl map[string]string
	if !t.Namespaces[pod.Pod.Namespace] && !t.NamespaceSelector.IsNothing() {
		nsl = c.get(pod.Pod.Namespace)
	}
	return t.Matches(pod.Pod, nsl)
}

func (c *nsLabelCache) matchesAll(terms []framework.AffinityTerm, pod *framework.PodInfo) bool {
	if len(terms) == 0 {
		return false
	}
	for i := range terms {
		if !c.termMatches(&terms[i], pod) {
			return false
		}
	}
	return true
}

// PreFilter counts, over all nodes, the pods the filter needs. It
// returns Skip when the pod has no required terms and no existing pod
// has required anti-affinity. Large clusters are counted in parallel
// chunks; a plugin made by NewInterPodAffinity counts again only the
// nodes that changed since a pod of the same signature was counted.
func (pl InterPodAffinity) PreFilter(_ context.Context, state *framework.CycleState, p *framework.PodInfo, nodes []*framework.NodeInfo) *framework.Status {
	if p.ParseError != nil {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, "invalid pod affinity: "+p.ParseError.Error())
	}
	own := len(p.RequiredAffinityTerms)+len(p.RequiredAntiAffinityTerms) > 0
	var c *partCache
	sig := ""
	if pl.caches != nil {
		c, sig = &pl.caches.filter, affinitySignature(p)
	}
	sums, anyExistingAnti := c.sums(state, sig, nodes, func(ns *nsLabelCache, n *framework.NodeInfo, add func(int, topologyPair, int64)) bool {
		return filterPart(ns, p, own, n, add)
	})
	s := &ipaFilterState{existingAnti: sums[partExistingAnti], affinity: sums[partAffinity], anti: sums[partAnti]}
	s.existingAntiKeys = s.existingAnti.topologyKeys()
	s.selfMatch = (&nsLabelCache{state: state}).matchesAll(p.RequiredAffinityTerms, p)
	state.Write(ipaPreFilterKey, s)
	if !own && !anyExistingAnti {
		return framework.NewStatus(framework.Skip)
	}
	return nil
}

// The count maps of a filter part.
const (
	partExistingAnti = iota
	partAffinity
	partAnti
)

// filterPart counts node n's pods for the filter of p (own: p has
// required terms) and reports whether n has pods with required
// anti-affinity.
func filterPart(ns *nsLabelCache, p *framework.PodInfo, own bool, n *framework.NodeInfo, add func(int, topologyPair, int64)) bool {
	labels := n.Node().Labels
	for _, e := range n.PodsWithRequiredAntiAffinity {
		for i := range e.RequiredAntiAffinityTerms {
			t := &e.RequiredAntiAffinityTerms[i]
			if v, ok := labels[t.TopologyKey]; ok && ns.termMatches(t, p) {
				add(partExistingAnti, topologyPair{t.TopologyKey, v}, 1)
			}
		}
	}
	if !own {
		return len(n.PodsWithRequiredAntiAffinity) > 0
	}
	for _, e := range n.Pods {
		if ns.matchesAll(p.RequiredAffinityTerms, e) {
			for i := range p.RequiredAffinityTerms {
				if v, ok := labels[p.RequiredAffinityTerms[i].TopologyKey]; ok {
					add(partAffinity, topologyPair{p.RequiredAffinityTerms[i].TopologyKey, v}, 1)
				}
			}
		}
		for i := range p.RequiredAntiAffinityTerms {
			t := &p.RequiredAntiAffinityTerms[i]
			if v, ok := labels[t.TopologyKey]; ok && ns.termMatches(t, e) {
				add(partAnti, topologyPair{t.TopologyKey, v}, 1)
			}
		}
	}
	return len(n.PodsWithRequiredAntiAffinity) > 0
}

// Filter checks the three required rules on one node, in Kubernetes'
// order: the pod's affinity, its anti-affinity, existing pods'
// anti-affinity.
func (InterPodAffinity) Filter(_ context.Context, state *framework.CycleState, p *framework.PodInfo, n *framework.NodeInfo) *framework.Status {
	s, err := framework.ReadAs[*ipaFilterState](state, ipaPreFilterKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	labels := n.Node().Labels
	podsExist := true
	for i := range p.RequiredAffinityTerms {
		k := p.RequiredAffinityTerms[i].TopologyKey
		v, ok := labels[k]
		if !ok {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch)
		}
		if s.affinity.get(topologyPair{k, v}) <= 0 {
			podsExist = false
		}
	}
	if !podsExist && !(s.affinity.len() == 0 && s.selfMatch) {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch)
	}
	for i := range p.RequiredAntiAffinityTerms {
		k := p.RequiredAntiAffinityTerms[i].TopologyKey
		if v, ok := labels[k]; ok && s.anti.get(topologyPair{k, v}) > 0 {
			return framework.NewStatus(framework.Unschedulable, ErrReasonAntiAffinityRulesNotMatch)
		}
	}
	for _, k := range s.existingAntiKeys {
		if v, ok := labels[k]; ok && s.existingAnti.get(topologyPair{k, v}) > 0 {
			return framework.NewStatus(framework.Unschedulable, ErrReasonExistingAntiAffinityRulesNotMatch)
		}
	}
	return nil
}

// ipaScoreState is the score of each topology domain, and the
// topology keys that have one.
type ipaScoreState struct {
	scores *counts
	keys   []string
}

func (s *ipaScoreState) Clone() framework.StateData { return s }

// PreScore sums the preferred terms by topology domain over all nodes
// (in parallel chunks on large clusters; with NewInterPodAffinity's
// plugin, again only over nodes changed since a pod of the same
// signature); Skip when nothing contributes.
func (pl InterPodAffinity) PreScore(_ context.Context, state *framework.CycleState, p *framework.PodInfo, feasible []*framework.NodeInfo) *framework.Status {
	nodes := framework.AllNodes(state, feasible)
	hard := pl.HardPodAffinityWeight
	if hard == 0 {
		hard = DefaultHardPodAffinityWeight
	}
	own := len(p.PreferredAffinityTerms)+len(p.PreferredAntiAffinityTerms) > 0
	var c *partCache
	sig := ""
	if pl.caches != nil {
		c, sig = &pl.caches.score, affinitySignature(p)
	}
	sums, _ := c.sums(state, sig, nodes, func(ns *nsLabelCache, n *framework.NodeInfo, add func(int, topologyPair, int64)) bool {
		scorePart(ns, p, own, hard, n, add)
		return false
	})
	if sums[0].len() == 0 {
		return framework.NewStatus(framework.Skip)
	}
	s := &ipaScoreState{scores: sums[0], keys: sums[0].topologyKeys()}
	state.Write(ipaPreScoreKey, s)
	return nil
}

// scorePart adds node n's share of p's scores: p's preferences towards
// the node's pods (own: p has preferred terms) and their terms towards p.
func scorePart(ns *nsLabelCache, p *framework.PodInfo, own bool, hard int64, n *framework.NodeInfo, add func(int, topologyPair, int64)) {
	labels := n.Node().Labels
	pods := n.PodsWithAffinity
	if own {
		pods = n.Pods
	}
	// weighted adds sign × weight for each term of terms that selects
	// target, in the node's domain of the term.
	weighted := func(terms []framework.WeightedAffinityTerm, target *framework.PodInfo, sign int64) {
		for i := range terms {
			t := &terms[i]
			if v, ok := labels[t.TopologyKey]; ok && ns.termMatches(&t.AffinityTerm, target) {
				add(0, topologyPair{t.TopologyKey, v}, sign*int64(t.Weight))
			}
		}
	}
	for _, e := range pods {
		// The incoming pod's preferences towards e.
		weighted(p.PreferredAffinityTerms, e, 1)
		weighted(p.PreferredAntiAffinityTerms, e, -1)
		// e's terms towards the incoming pod.
		if !e.HasAffinity() {
			continue
		}
		if hard > 0 {
			for i := range e.RequiredAffinityTerms {
				t := &e.RequiredAffinityTerms[i]
				if v, ok := labels[t.TopologyKey]; ok && ns.termMatches(t, p) {
					add(0, topologyPair{t.TopologyKey, v}, hard)
				}
			}
		}
		weighted(e.PreferredAffinityTerms, p, 1)
		weighted(e.PreferredAntiAffinityTerms, p, -1)
	}
}

// Score sums the scores of the node's domains.
func (InterPodAffinity) Score(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, n *framework.NodeInfo) (int64, *framework.Status) {
	s, err := framework.ReadAs[*ipaScoreState](state, ipaPreScoreKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	var total int64
	labels := n.Node().Labels
	for _, k := range s.keys {
		if v, ok := labels[k]; ok {
			total += s.scores.get(topologyPair{k, v})
		}
	}
	return total, nil
}

// NormalizeScore scales the sums min–max to [0, MaxNodeScore]; all equal
// gives 0 everywhere.
func (InterPodAffinity) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, s := range scores {
		lo, hi = min(lo, s.Score), max(hi, s.Score)
	}
	diff := hi - lo
	for i := range scores {
		if diff > 0 {
			scores[i].Score = int64(float64(framework.MaxNodeScore) * float64(scores[i].Score-lo) / float64(diff))
		} else {
			scores[i].Score = 0
		}
	}
	return nil
}

// parallelChunkNodes is the cluster size from which the affinity counts
// are split over goroutines: below it one goroutine is quicker.
// (A variable so that tests can compare both ways.)
var parallelChunkNodes = 256

// inChunks runs fn over [0, n) in contiguous chunks, one per CPU (one
// chunk below parallelChunkNodes), in parallel, and returns each chunk's
// result, at least one.
func inChunks[T any](n int, fn func(lo, hi int) T) []T {
	workers := 1
	if n >= parallelChunkNodes {
		workers = min(runtime.GOMAXPROCS(0), 16)
	}
	if workers <= 1 {
		return []T{fn(0, n)}
	}
	out := make([]T, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[w] = fn(lo, hi)
		}()
	}
	wg.Wait()
	return out
}
