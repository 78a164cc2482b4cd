package scheduler

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
)

// result is the outcome of one scheduling cycle's search.
type result struct {
	node string // "" when no node fits (or on err)
	err  error
	// numNodes is how many nodes the cluster has; statuses holds the
	// rejected nodes (all of them when no node fits).
	numNodes int
	statuses framework.NodeToStatus
	// preFilter is set when a PreFilter plugin rejected the pod for all
	// nodes.
	preFilter *framework.Status
	// best holds the verdicts of the highest-scored feasible nodes, at
	// most maxScoredVerdicts of them, the chosen node first.
	best []NodeVerdict
	// message is the explanation of an unschedulable pod (fitMessage
	// plus what PostFilter said), set by the scheduling cycle.
	message string
}

// maxScoredVerdicts bounds how many feasible nodes' scores an attempt's
// record keeps (the best ones by total), so that the records the debug
// endpoint serves do not grow with the cluster.
const maxScoredVerdicts = 10

// numFeasibleToFind is how many feasible nodes are looked for before
// scoring: all below 100 nodes, else the percentage (Kubernetes'
// adaptive one by default) but at least 100.
func (s *Scheduler) numFeasibleToFind(all int) int {
	const minFeasible = 100
	if all < minFeasible {
		return all
	}
	pct := s.cfg.PercentageOfNodesToScore
	if pct == 0 {
		pct = max(50-all/125, 5)
	}
	if pct >= 100 {
		return all
	}
	return max(all*pct/100, minFeasible)
}

// findNode filters (in parallel, stopping once enough feasible nodes are
// found), scores and picks the best node, breaking ties at random.
func (s *Scheduler) findNode(ctx context.Context, prof *profile, state *framework.CycleState, info *framework.PodInfo) *result {
	nodes, changed := s.cache.snapshotChanges()
	// A batch serves only the cycle right after the one that made or used
	// it: changed then names every node that changed in between.
	b := s.batch
	s.batch = nil
	res := &result{numNodes: len(nodes), statuses: framework.NodeToStatus{}}
	if len(nodes) == 0 {
		return res
	}
	framework.WriteAllNodes(state, nodes)
	skip, st := prof.runPreFilter(ctx, state, info, nodes)
	if st.Code() == framework.Error {
		res.err = st.AsError()
		return res
	}
	if !st.IsSuccess() {
		res.preFilter = st
		for _, n := range nodes {
			res.statuses[n.Node().Name] = st
		}
		return res
	}
	if info.ParseError != nil {
		st := framework.NewStatus(framework.UnschedulableAndUnresolvable, "invalid pod affinity: "+info.ParseError.Error())
		res.preFilter = st
		for _, n := range nodes {
			res.statuses[n.Node().Name] = st
		}
		return res
	}
	sig, signed := prof.signature(info)
	now := s.cfg.Clock.Now()
	if signed && b.usable(prof, sig, now) && s.fromBatch(ctx, prof, state, info, b, changed, s.cache.snapshotNode, skip, res) {
		s.batch = b
		s.metrics.batched.Inc()
		return res
	}
	want := s.numFeasibleToFind(len(nodes))
	start := int(s.nextStart.Load() % int64(len(nodes)))
	feasible := make([]*framework.NodeInfo, want)
	sample, filterStart := sampled(state), time.Now()
	var found, processed atomic.Int64
	var mu sync.Mutex
	var firstErr error
	parallelize(s.cfg.Parallelism, len(nodes), func(i int) {
		n := nodes[(start+i)%len(nodes)]
		processed.Add(1)
		st := prof.runFilters(ctx, state, info, n, skip, sample)
		if st.IsSuccess() {
			if k := found.Add(1); int(k) <= want {
				feasible[k-1] = n
			}
			return
		}
		mu.Lock()
		res.statuses[n.Node().Name] = st
		if st.Code() == framework.Error && firstErr == nil {
			firstErr = st.AsError()
		}
		mu.Unlock()
	}, func() bool { return int(found.Load()) >= want })
	s.nextStart.Store(int64(start) + processed.Load())
	prof.m.observePoint("Filter", prof.name, framework.AsStatus(firstErr), filterStart)
	if firstErr != nil {
		res.err = firstErr
		return res
	}
	feasible = feasible[:min(int(found.Load()), want)]
	switch len(feasible) {
	case 0:
		return res
	case 1:
		res.node = feasible[0].Node().Name
		res.best = []NodeVerdict{{Node: res.node, Feasible: true}}
		return res
	}
	raw, skipScores, err := s.score(ctx, prof, state, info, feasible, res)
	switch {
	case err != nil:
		res.err = err
	case signed:
		s.batch = newBatch(prof, sig, now, feasible, raw, skipScores)
	}
	return res
}

// score runs PreScore, Score and NormalizeScore, picks the node with
// the highest weighted total (uniformly among ties) into res.node, and
// keeps the best verdicts in res.best. It returns the raw scores and the
// skipped plugins, for a batch.
func (s *Scheduler) score(ctx context.Context, prof *profile, state *framework.CycleState, info *framework.PodInfo, nodes []*framework.NodeInfo, res *result) ([][]int64, []bool, error) {
	skip, err := s.runPreScore(ctx, prof, state, info, nodes)
	if err != nil {
		return nil, nil, err
	}
	start := time.Now()
	defer func() { prof.m.observePoint("Score", prof.name, nil, start) }()
	raw := make([][]int64, len(prof.score))
	flat := make([]int64, len(prof.score)*len(nodes))
	for i := range raw {
		raw[i] = flat[i*len(nodes) : (i+1)*len(nodes) : (i+1)*len(nodes)]
	}
	if err := s.rawScores(ctx, prof, state, info, nodes, skip, raw, nil); err != nil {
		return nil, nil, err
	}
	return raw, skip, s.finishScores(ctx, prof, state, info, nodes, skip, raw, res)
}

// runPreScore runs the PreScore plugins and says which score plugins
// they skip, by index.
func (s *Scheduler) runPreScore(ctx context.Context, prof *profile, state *framework.CycleState, info *framework.PodInfo, nodes []*framework.NodeInfo) ([]bool, error) {
	skip := make([]bool, len(prof.score))
	start, sample := time.Now(), sampled(state)
	var last *framework.Status
	defer func() { prof.m.observePoint("PreScore", prof.name, last, start) }()
	for _, pl := range prof.preScore {
		pstart := time.Now()
		st := pl.PreScore(ctx, state, info, nodes)
		prof.m.observePlugin(sample, pl.Name(), "PreScore", st, pstart)
		if !st.IsSkip() {
			last = st
		}
		switch {
		case st.IsSkip():
			if i := slices.Index(prof.scoreNames, pl.Name()); i >= 0 {
				skip[i] = true
			}
		case !st.IsSuccess():
			return nil, fmt.Errorf("running PreScore plugin %q: %w", pl.Name(), st.AsError())
		}
	}
	return skip, nil
}

// rawScores runs the Score plugins (but the skipped ones) on the nodes at
// the indices in which (every node when which is nil), in parallel, into
// raw[plugin][node].
func (s *Scheduler) rawScores(ctx context.Context, prof *profile, state *framework.CycleState, info *framework.PodInfo, nodes []*framework.NodeInfo, skip []bool, raw [][]int64, which []int) error {
	n := len(nodes)
	if which != nil {
		n = len(which)
	}
	var mu sync.Mutex
	var firstErr error
	sample := sampled(state)
	parallelize(s.cfg.Parallelism, n, func(k int) {
		j := k
		if which != nil {
			j = which[k]
		}
		for i, pl := range prof.score {
			if skip[i] {
				continue
			}
			var pstart time.Time
			if sample {
				pstart = time.Now()
			}
			v, st := pl.Score(ctx, state, info, nodes[j])
			prof.m.observePlugin(sample, pl.Name(), "Score", st, pstart)
			if !st.IsSuccess() {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("running Score plugin %q on node %s: %w", pl.Name(), nodes[j].Node().Name, st.AsError())
				}
				mu.Unlock()
				return
			}
			raw[i][j] = v
		}
	}, nil)
	return firstErr
}

// finishScores normalizes copies of the raw scores, weighs and sums them,
// picks the best node into res.node (uniformly among ties) and keeps the
// best verdicts in res.best.
func (s *Scheduler) finishScores(ctx context.Context, prof *profile, state *framework.CycleState, info *framework.PodInfo, nodes []*framework.NodeInfo, skip []bool, raw [][]int64, res *result) error {
	totals := make([]int64, len(nodes))
	weighted := make([][]int64, len(prof.score))
	scores := make([]framework.NodeScore, len(nodes))
	for i, pl := range prof.score {
		if skip[i] {
			continue
		}
		for j, n := range nodes {
			scores[j] = framework.NodeScore{Name: n.Node().Name, Score: raw[i][j]}
		}
		if nz, ok := pl.(framework.ScoreNormalizer); ok {
			if st := nz.NormalizeScore(ctx, state, info, scores); !st.IsSuccess() {
				return fmt.Errorf("running NormalizeScore of plugin %q: %w", pl.Name(), st.AsError())
			}
		}
		weighted[i] = make([]int64, len(nodes))
		for j, ns := range scores {
			if ns.Score < framework.MinNodeScore || ns.Score > framework.MaxNodeScore {
				return fmt.Errorf("plugin %q returned score %d for node %s, outside [%d, %d]", pl.Name(), ns.Score, ns.Name, framework.MinNodeScore, framework.MaxNodeScore)
			}
			weighted[i][j] = ns.Score * prof.weights[i]
			totals[j] += weighted[i][j]
		}
	}
	chosen := pickBest(totals)
	res.node = nodes[chosen].Node().Name
	// The verdicts of the chosen node and the next best ones.
	top := topIndices(totals, chosen, maxScoredVerdicts)
	res.best = make([]NodeVerdict, len(top))
	for k, j := range top {
		v := NodeVerdict{Node: nodes[j].Node().Name, Feasible: true, Total: totals[j], Scores: make(map[string]int64, len(prof.score))}
		for i := range prof.score {
			if !skip[i] {
				v.Scores[prof.scoreNames[i]] = weighted[i][j]
			}
		}
		res.best[k] = v
	}
	return nil
}

// pickBest returns the index of the highest total, choosing uniformly
// among ties (reservoir sampling, as Kubernetes' selectHost does).
func pickBest(totals []int64) int {
	best, ties := 0, 0
	for j, v := range totals {
		switch {
		case ties == 0 || v > totals[best]:
			best, ties = j, 1
		case v == totals[best]:
			ties++
			if rand.IntN(ties) == 0 {
				best = j
			}
		}
	}
	return best
}

// topIndices returns first and then the indices of the highest other
// totals, at most k in all, best first.
func topIndices(totals []int64, first, k int) []int {
	top := make([]int, 1, min(k, len(totals)))
	top[0] = first
	for j, v := range totals {
		if j == first || k <= 1 {
			continue
		}
		if len(top) == k && v <= totals[top[k-1]] {
			continue
		}
		if len(top) < k {
			top = append(top, j)
		} else {
			top[k-1] = j
		}
		for m := len(top) - 1; m > 1 && totals[top[m]] > totals[top[m-1]]; m-- {
			top[m], top[m-1] = top[m-1], top[m]
		}
	}
	return top
}

// fitMessage is Kubernetes' explanation of an unschedulable pod:
// "0/N nodes are available: <count> <reason>, ...." with the reasons
// counted over nodes and sorted, or "0/N nodes are available: <message>."
// when a PreFilter plugin rejected the pod.
func (r *result) fitMessage() string {
	if r.numNodes == 0 {
		return "no nodes available to schedule pods"
	}
	if r.preFilter != nil {
		// A PreFilter rejection applies to every node: Kubernetes gives
		// its message once, not counted per node.
		return fmt.Sprintf("0/%d nodes are available: %s.", r.numNodes, r.preFilter.Message())
	}
	counts := map[string]int{}
	for _, st := range r.statuses {
		for _, reason := range st.Reasons() {
			counts[reason]++
		}
	}
	reasons := make([]string, 0, len(counts))
	for reason, n := range counts {
		reasons = append(reasons, fmt.Sprintf("%d %s", n, reason))
	}
	sort.Strings(reasons)
	return fmt.Sprintf("0/%d nodes are available: %s.", r.numNodes, strings.Join(reasons, ", "))
}

// Attempt is the record of a pod's last scheduling attempt that the
// debug endpoint serves.
type Attempt struct {
	// Time is when the attempt ended.
	Time time.Time `json:"time"`
	// Result is "scheduled", "unschedulable" or "error".
	Result string `json:"result"`
	// Node is the chosen node, if any.
	Node string `json:"node,omitempty"`
	// Message is the explanation when no node was chosen.
	Message string `json:"message,omitempty"`
	// Nodes holds each node's verdict: rejected nodes with the plugin and
	// reasons, and the best-scored feasible ones (at most ten, the chosen
	// node among them) with their weighted scores by plugin.
	Nodes []NodeVerdict `json:"nodes"`
}

// NodeVerdict is one node's outcome in an attempt.
type NodeVerdict struct {
	Node     string           `json:"node"`
	Feasible bool             `json:"feasible"`
	Plugin   string           `json:"plugin,omitempty"`
	Code     string           `json:"code,omitempty"`
	Reasons  []string         `json:"reasons,omitempty"`
	Scores   map[string]int64 `json:"scores,omitempty"`
	Total    int64            `json:"total,omitempty"`
}

func (r *result) attempt(now time.Time) *Attempt {
	a := &Attempt{Time: now, Node: r.node}
	switch {
	case r.err != nil:
		a.Result, a.Message = "error", r.err.Error()
	case r.node == "":
		a.Result, a.Message = "unschedulable", r.message
	default:
		a.Result = "scheduled"
	}
	a.Nodes = make([]NodeVerdict, 0, len(r.statuses)+len(r.best))
	for name, st := range r.statuses {
		a.Nodes = append(a.Nodes, NodeVerdict{Node: name, Plugin: st.Plugin(), Code: st.Code().String(), Reasons: st.Reasons()})
	}
	a.Nodes = append(a.Nodes, r.best...)
	slices.SortFunc(a.Nodes, func(x, y NodeVerdict) int { return strings.Compare(x.Node, y.Node) })
	return a
}
