package framework

import (
	"context"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// MaxNodeScore and MinNodeScore bound the scores NormalizeScore leaves,
// as in Kubernetes.
const (
	MaxNodeScore int64 = 100
	MinNodeScore int64 = 0
)

// Plugin is anything the framework runs; its name is unique in a profile
// and names it in statuses, explanations and metrics.
type Plugin interface {
	Name() string
}

// PreFilterPlugin runs once per scheduling cycle before the filters; it
// may write CycleState for its Filter, return Skip to say its Filter has
// nothing to check, or reject the pod for every node at once.
type PreFilterPlugin interface {
	Plugin
	PreFilter(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo) *Status
}

// FilterPlugin says whether the pod may run on one node. Filters run in
// parallel for different nodes and must only read state.
type FilterPlugin interface {
	Plugin
	Filter(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) *Status
}

// SignPlugin is implemented by plugins whose PreFilter, Filter, PreScore
// and Score results for a node depend only on the pod and that node's
// NodeInfo (not on other nodes, nor on cluster-wide state), and whose
// NormalizeScore, if any, only rescales the scores it is given. For pods
// with equal signatures the scheduler may then reuse the last pod's
// feasible nodes and scores, re-filtering and re-scoring only the nodes
// that changed since (its opportunistic batching; Kubernetes 1.35+ asks
// plugins for a pod signature for the same purpose). Signature encodes
// the parts of the pod the plugin reads; false says this pod's results
// must not be reused. A profile batches only when every PreFilter,
// Filter, PreScore and Score plugin in it is a SignPlugin.
type SignPlugin interface {
	Plugin
	Signature(pod *PodInfo) (string, bool)
}

// NodeToStatus maps a node's name to the status of the filter that
// rejected it.
type NodeToStatus map[string]*Status

// PostFilterPlugin runs when no node passed the filters (preemption); it
// may return a nominated node name.
type PostFilterPlugin interface {
	Plugin
	PostFilter(ctx context.Context, state *CycleState, pod *PodInfo, filtered NodeToStatus) (nominated string, s *Status)
}

// PreScorePlugin runs once before scoring with the nodes that passed the
// filters; Skip means its Score is not called.
type PreScorePlugin interface {
	Plugin
	PreScore(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo) *Status
}

// NodeScore is a node's score from one plugin.
type NodeScore struct {
	Name  string
	Score int64
}

// ScorePlugin ranks a feasible node. Scores run in parallel for different
// nodes and must only read state.
type ScorePlugin interface {
	Plugin
	Score(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) (int64, *Status)
}

// ScoreNormalizer is implemented by score plugins whose raw scores are
// not already in [MinNodeScore, MaxNodeScore]: NormalizeScore rewrites
// them in place after every node was scored (the NormalizeScore
// extension point).
type ScoreNormalizer interface {
	NormalizeScore(ctx context.Context, state *CycleState, pod *PodInfo, scores []NodeScore) *Status
}

// ReservePlugin is told when a pod is assumed on a node (Reserve) and
// when that assumption is dropped (Unreserve, in reverse order).
type ReservePlugin interface {
	Plugin
	Reserve(ctx context.Context, state *CycleState, pod *PodInfo, nodeName string) *Status
	Unreserve(ctx context.Context, state *CycleState, pod *PodInfo, nodeName string)
}

// PermitPlugin approves, rejects or holds (Wait, up to the timeout it
// returns) a pod before binding.
type PermitPlugin interface {
	Plugin
	Permit(ctx context.Context, state *CycleState, pod *PodInfo, nodeName string) (*Status, time.Duration)
}

// PreBindPlugin does work the binding needs (such as binding volumes).
type PreBindPlugin interface {
	Plugin
	PreBind(ctx context.Context, state *CycleState, pod *PodInfo, nodeName string) *Status
}

// BindPlugin binds the pod; Skip passes it to the next Bind plugin.
type BindPlugin interface {
	Plugin
	Bind(ctx context.Context, state *CycleState, pod *api.Pod, nodeName string) *Status
}

// PostBindPlugin is told that the pod was bound.
type PostBindPlugin interface {
	Plugin
	PostBind(ctx context.Context, state *CycleState, pod *api.Pod, nodeName string)
}
