package scheduler

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
)

// maxBatchAge bounds how long a batch's candidate nodes are reused: nodes
// outside them (a new node, one that was not sampled) get their chance
// again at the latest after this long. Kubernetes' opportunistic batching
// uses the same half second.
const maxBatchAge = 500 * time.Millisecond

// batch is what a scheduling cycle leaves for the next pod with the same
// signature (opportunistic batching): the feasible nodes it scored and
// their raw scores by plugin, before normalization. Only the scheduling
// goroutine touches it. A batch is used by the cycle right after the one
// that made or last used it, and only when every node that changed in
// between is re-filtered and re-scored, so that a reused verdict is the
// one a full cycle would reach on the same candidates.
type batch struct {
	prof      *profile
	signature string
	created   time.Time
	nodes     []*framework.NodeInfo
	raw       [][]int64 // by score plugin, then by node
	skip      []bool    // score plugins skipped by PreScore
	index     map[string]int
}

// signature returns the pod's signature for batching in prof, and false
// when prof or the pod cannot batch.
func (p *profile) signature(info *framework.PodInfo) (string, bool) {
	if !p.batchable || info.Pod.Status.NominatedNodeName != "" {
		return "", false
	}
	var b strings.Builder
	for _, pl := range p.signers {
		sig, ok := pl.Signature(info)
		if !ok {
			return "", false
		}
		b.WriteString(pl.Name())
		b.WriteByte(0)
		b.WriteString(sig)
		b.WriteByte(0)
	}
	return b.String(), true
}

// newBatch keeps a cycle's scored candidates.
func newBatch(prof *profile, sig string, now time.Time, nodes []*framework.NodeInfo, raw [][]int64, skip []bool) *batch {
	b := &batch{prof: prof, signature: sig, created: now, nodes: nodes, raw: raw, skip: skip, index: make(map[string]int, len(nodes))}
	for j, n := range nodes {
		b.index[n.Node().Name] = j
	}
	return b
}

// usable reports whether the batch may serve a pod of prof with sig at now.
func (b *batch) usable(prof *profile, sig string, now time.Time) bool {
	return b != nil && b.prof == prof && b.signature == sig && now.Sub(b.created) < maxBatchAge
}

// remove drops candidate j (moving the last one into its place).
func (b *batch) remove(j int) {
	last := len(b.nodes) - 1
	delete(b.index, b.nodes[j].Node().Name)
	if j != last {
		b.nodes[j] = b.nodes[last]
		b.index[b.nodes[j].Node().Name] = j
		for i := range b.raw {
			b.raw[i][j] = b.raw[i][last]
		}
	}
	b.nodes = b.nodes[:last]
	for i := range b.raw {
		b.raw[i] = b.raw[i][:last]
	}
}

// fromBatch runs a cycle on the batch's candidates: the changed nodes are
// filtered and scored again (dropped when they no longer pass or are
// gone), then every plugin's scores are normalized afresh and the best
// node is picked as a full cycle would. It returns false, having changed
// nothing in res, when the batch cannot serve (no candidate left, a
// plugin's PreScore now skips differently, or an error), so that the
// caller runs a full cycle.
func (s *Scheduler) fromBatch(ctx context.Context, prof *profile, state *framework.CycleState, info *framework.PodInfo, b *batch,
	changed []string, lookup func(string) *framework.NodeInfo, skipFilter map[string]bool, res *result) bool {
	// Candidates to re-score are kept by name: a later removal moves the
	// last candidate into the removed one's place, so an index taken
	// before it may be stale or past the end.
	var again []string
	sample, start := sampled(state), time.Now()
	for _, name := range changed {
		j, ok := b.index[name]
		if !ok {
			continue // not a candidate: a new or unsampled node waits for the next full cycle
		}
		n := lookup(name)
		if n == nil || n.Node() == nil {
			b.remove(j)
			continue
		}
		if st := prof.runFilters(ctx, state, info, n, skipFilter, sample); !st.IsSuccess() {
			if st.Code() == framework.Error {
				return false
			}
			b.remove(j)
			continue
		}
		b.nodes[j] = n
		again = append(again, name)
	}
	prof.m.observePoint("Filter", prof.name, nil, start)
	// Each surviving candidate once: two workers must not write the
	// same score.
	rescore := make([]int, 0, len(again))
	seen := make(map[int]bool, len(again))
	for _, name := range again {
		if j, ok := b.index[name]; ok && !seen[j] {
			seen[j] = true
			rescore = append(rescore, j)
		}
	}
	if len(b.nodes) < 2 {
		return false
	}
	skip, err := s.runPreScore(ctx, prof, state, info, b.nodes)
	if err != nil || !slices.Equal(skip, b.skip) {
		return false
	}
	// A failure leaves b half rescored: the caller discards it.
	start = time.Now()
	defer func() { prof.m.observePoint("Score", prof.name, nil, start) }()
	if len(rescore) > 0 {
		if err := s.rawScores(ctx, prof, state, info, b.nodes, skip, b.raw, rescore); err != nil {
			return false
		}
	}
	return s.finishScores(ctx, prof, state, info, b.nodes, skip, b.raw, res) == nil
}
