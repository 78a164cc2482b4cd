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
	// scores holds, by node, each score plugin's weighted normalized
	// score, for the feasible nodes that were scored.
	scores map[string]map[string]int64
	totals map[string]int64
}

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
	nodes := s.cache.snapshot()
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
	want := s.numFeasibleToFind(len(nodes))
	start := int(s.nextStart.Load() % int64(len(nodes)))
	feasible := make([]*framework.NodeInfo, len(nodes))
	var found, processed atomic.Int64
	var mu sync.Mutex
	var firstErr error
	parallelize(s.cfg.Parallelism, len(nodes), func(i int) {
		n := nodes[(start+i)%len(nodes)]
		processed.Add(1)
		st := prof.runFilters(ctx, state, info, n, skip)
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
		return res
	}
	if err := s.score(ctx, prof, state, info, feasible, res); err != nil {
		res.err = err
		return res
	}
	res.node = pickBest(res.totals)
	return res
}

// score runs PreScore, Score and NormalizeScore and fills res.scores and
// res.totals.
func (s *Scheduler) score(ctx context.Context, prof *profile, state *framework.CycleState, info *framework.PodInfo, nodes []*framework.NodeInfo, res *result) error {
	skip := map[string]bool{}
	for _, pl := range prof.preScore {
		st := pl.PreScore(ctx, state, info, nodes)
		switch {
		case st.IsSkip():
			skip[pl.Name()] = true
		case !st.IsSuccess():
			return fmt.Errorf("running PreScore plugin %q: %w", pl.Name(), st.AsError())
		}
	}
	perPlugin := make([][]framework.NodeScore, len(prof.score))
	for i := range perPlugin {
		perPlugin[i] = make([]framework.NodeScore, len(nodes))
	}
	var mu sync.Mutex
	var firstErr error
	parallelize(s.cfg.Parallelism, len(nodes), func(j int) {
		n := nodes[j]
		for i, pl := range prof.score {
			perPlugin[i][j].Name = n.Node().Name
			if skip[pl.Name()] {
				continue
			}
			v, st := pl.Score(ctx, state, info, n)
			if !st.IsSuccess() {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("running Score plugin %q on node %s: %w", pl.Name(), n.Node().Name, st.AsError())
				}
				mu.Unlock()
				return
			}
			perPlugin[i][j].Score = v
		}
	}, nil)
	if firstErr != nil {
		return firstErr
	}
	res.scores = make(map[string]map[string]int64, len(nodes))
	res.totals = make(map[string]int64, len(nodes))
	for i, pl := range prof.score {
		if skip[pl.Name()] {
			continue
		}
		if nz, ok := pl.(framework.ScoreNormalizer); ok {
			if st := nz.NormalizeScore(ctx, state, info, perPlugin[i]); !st.IsSuccess() {
				return fmt.Errorf("running NormalizeScore of plugin %q: %w", pl.Name(), st.AsError())
			}
		}
		for _, ns := range perPlugin[i] {
			if ns.Score < framework.MinNodeScore || ns.Score > framework.MaxNodeScore {
				return fmt.Errorf("plugin %q returned score %d for node %s, outside [%d, %d]", pl.Name(), ns.Score, ns.Name, framework.MinNodeScore, framework.MaxNodeScore)
			}
			w := ns.Score * prof.weights[i]
			m := res.scores[ns.Name]
			if m == nil {
				m = make(map[string]int64, len(prof.score))
				res.scores[ns.Name] = m
			}
			m[pl.Name()] = w
			res.totals[ns.Name] += w
		}
	}
	return nil
}

// pickBest returns the node with the highest total, choosing uniformly
// among ties.
func pickBest(totals map[string]int64) string {
	var best string
	var bestScore int64
	ties := 0
	for name, v := range totals {
		switch {
		case ties == 0 || v > bestScore:
			best, bestScore, ties = name, v, 1
		case v == bestScore:
			ties++
			if rand.IntN(ties) == 0 {
				best = name
			}
		}
	}
	return best
}

// fitMessage is Kubernetes' explanation of an unschedulable pod:
// "0/N nodes are available: <count> <reason>, ...." with the reasons
// counted over nodes and sorted.
func (r *result) fitMessage() string {
	if r.numNodes == 0 {
		return "no nodes available to schedule pods"
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
	// reasons, feasible ones with their weighted scores by plugin.
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
		a.Result, a.Message = "unschedulable", r.fitMessage()
	default:
		a.Result = "scheduled"
	}
	for name, st := range r.statuses {
		a.Nodes = append(a.Nodes, NodeVerdict{Node: name, Plugin: st.Plugin(), Code: st.Code().String(), Reasons: st.Reasons()})
	}
	for name, sc := range r.scores {
		a.Nodes = append(a.Nodes, NodeVerdict{Node: name, Feasible: true, Scores: sc, Total: r.totals[name]})
	}
	if r.node != "" && r.scores == nil {
		a.Nodes = append(a.Nodes, NodeVerdict{Node: r.node, Feasible: true})
	}
	slices.SortFunc(a.Nodes, func(x, y NodeVerdict) int { return strings.Compare(x.Node, y.Node) })
	return a
}
