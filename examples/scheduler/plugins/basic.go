package plugins

import (
	"context"
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
)

// Names of the default plugins.
const (
	NodeNameName          = "NodeName"
	NodeUnschedulableName = "NodeUnschedulable"
	NodePortsName         = "NodePorts"
	TaintTolerationName   = "TaintToleration"
	NodeAffinityName      = "NodeAffinity"
)

// Kubernetes' filter messages.
const (
	ErrReasonNodeName          = "node(s) didn't match the requested node name"
	ErrReasonUnschedulable     = "node(s) were unschedulable"
	ErrReasonNodePorts         = "node(s) didn't have free ports for the requested pod ports"
	ErrReasonNodeAffinity      = "node(s) didn't match Pod's node affinity/selector"
	errReasonUntoleratedFormat = "node(s) had untolerated taint {%s: %s}"
)

// NodeName is the NodeName plugin.
type NodeName struct{}

var _ framework.FilterPlugin = NodeName{}

// Name returns NodeNameName.
func (NodeName) Name() string { return NodeNameName }

// Filter accepts only the node the pod names, if it names one.
func (NodeName) Filter(_ context.Context, _ *framework.CycleState, p *framework.PodInfo, n *framework.NodeInfo) *framework.Status {
	if want := p.Pod.Spec.NodeName; want != "" && want != n.Node().Name {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonNodeName)
	}
	return nil
}

// NodeUnschedulable is the NodeUnschedulable plugin.
type NodeUnschedulable struct{}

var _ framework.FilterPlugin = NodeUnschedulable{}

// Name returns NodeUnschedulableName.
func (NodeUnschedulable) Name() string { return NodeUnschedulableName }

// Filter rejects cordoned nodes unless the pod tolerates the
// unschedulable taint.
func (NodeUnschedulable) Filter(_ context.Context, _ *framework.CycleState, p *framework.PodInfo, n *framework.NodeInfo) *framework.Status {
	if !n.Node().Spec.Unschedulable {
		return nil
	}
	t := api.Taint{Key: framework.TaintNodeUnschedulable, Effect: api.TaintEffectNoSchedule}
	if TolerationsTolerate(p.Pod.Spec.Tolerations, &t) {
		return nil
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonUnschedulable)
}

// NodePorts is the NodePorts plugin.
type NodePorts struct{}

var _ framework.FilterPlugin = NodePorts{}

// Name returns NodePortsName.
func (NodePorts) Name() string { return NodePortsName }

// Filter rejects nodes where a requested host port is taken.
func (NodePorts) Filter(_ context.Context, _ *framework.CycleState, p *framework.PodInfo, n *framework.NodeInfo) *framework.Status {
	for _, hp := range p.HostPorts {
		if n.UsedPorts.CheckConflict(hp.HostIP, string(hp.Protocol), hp.HostPort) {
			return framework.NewStatus(framework.Unschedulable, ErrReasonNodePorts)
		}
	}
	return nil
}

// TolerationTolerates reports whether one toleration tolerates a taint:
// an empty effect matches every effect; Exists with an empty key matches
// every taint; Equal (the default) needs equal key and value.
func TolerationTolerates(tol *api.Toleration, t *api.Taint) bool {
	if tol.Effect != "" && tol.Effect != t.Effect {
		return false
	}
	if tol.Key != "" && tol.Key != t.Key {
		return false
	}
	switch tol.Operator {
	case api.TolerationOpExists:
		return true
	case "", api.TolerationOpEqual:
		return tol.Key != "" && tol.Value == t.Value
	}
	return false
}

// TolerationsTolerate reports whether any toleration tolerates the taint.
func TolerationsTolerate(tols []api.Toleration, t *api.Taint) bool {
	for i := range tols {
		if TolerationTolerates(&tols[i], t) {
			return true
		}
	}
	return false
}

// TaintToleration is the TaintToleration plugin.
type TaintToleration struct{}

var (
	_ framework.FilterPlugin    = TaintToleration{}
	_ framework.ScorePlugin     = TaintToleration{}
	_ framework.ScoreNormalizer = TaintToleration{}
)

// Name returns TaintTolerationName.
func (TaintToleration) Name() string { return TaintTolerationName }

// Filter rejects a node with a NoSchedule or NoExecute taint the pod does
// not tolerate, naming the first such taint.
func (TaintToleration) Filter(_ context.Context, _ *framework.CycleState, p *framework.PodInfo, n *framework.NodeInfo) *framework.Status {
	for i := range n.Node().Spec.Taints {
		t := &n.Node().Spec.Taints[i]
		if t.Effect != api.TaintEffectNoSchedule && t.Effect != api.TaintEffectNoExecute {
			continue
		}
		if !TolerationsTolerate(p.Pod.Spec.Tolerations, t) {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, fmt.Sprintf(errReasonUntoleratedFormat, t.Key, t.Value))
		}
	}
	return nil
}

// Score counts the PreferNoSchedule taints that the pod's
// PreferNoSchedule (or effect-less) tolerations do not tolerate;
// NormalizeScore turns fewer into higher.
func (TaintToleration) Score(_ context.Context, _ *framework.CycleState, p *framework.PodInfo, n *framework.NodeInfo) (int64, *framework.Status) {
	var tols []api.Toleration
	for _, tol := range p.Pod.Spec.Tolerations {
		if tol.Effect == "" || tol.Effect == api.TaintEffectPreferNoSchedule {
			tols = append(tols, tol)
		}
	}
	var count int64
	for i := range n.Node().Spec.Taints {
		t := &n.Node().Spec.Taints[i]
		if t.Effect == api.TaintEffectPreferNoSchedule && !TolerationsTolerate(tols, t) {
			count++
		}
	}
	return count, nil
}

// NormalizeScore maps counts to MaxNodeScore × (1 − count/max count).
func (TaintToleration) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	DefaultNormalizeScore(framework.MaxNodeScore, true, scores)
	return nil
}

// DefaultNormalizeScore scales scores so that the highest becomes
// maxPriority (all stay 0 when the highest is 0, or all become
// maxPriority when reverse is set), and with reverse flips them
// (maxPriority − score), as Kubernetes' helper does.
func DefaultNormalizeScore(maxPriority int64, reverse bool, scores []framework.NodeScore) {
	var highest int64
	for _, s := range scores {
		highest = max(highest, s.Score)
	}
	if highest == 0 {
		if reverse {
			for i := range scores {
				scores[i].Score = maxPriority
			}
		}
		return
	}
	for i := range scores {
		s := maxPriority * scores[i].Score / highest
		if reverse {
			s = maxPriority - s
		}
		scores[i].Score = s
	}
}

// NodeAffinity is the NodeAffinity plugin.
type NodeAffinity struct{}

var (
	_ framework.PreFilterPlugin = NodeAffinity{}
	_ framework.FilterPlugin    = NodeAffinity{}
	_ framework.ScorePlugin     = NodeAffinity{}
	_ framework.ScoreNormalizer = NodeAffinity{}
)

const nodeAffinityKey framework.StateKey = "PreFilter" + NodeAffinityName

type nodeAffinityState struct {
	required  framework.RequiredNodeAffinity
	preferred *framework.PreferredSchedulingTerms
}

func (s *nodeAffinityState) Clone() framework.StateData { return s }

// Name returns NodeAffinityName.
func (NodeAffinity) Name() string { return NodeAffinityName }

// PreFilter compiles the pod's node selector and affinity once; a term
// that does not compile rejects the pod on every node.
func (NodeAffinity) PreFilter(_ context.Context, state *framework.CycleState, p *framework.PodInfo, _ []*framework.NodeInfo) *framework.Status {
	st := &nodeAffinityState{required: framework.GetRequiredNodeAffinity(p.Pod)}
	if err := st.required.Err(); err != nil {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, "invalid node affinity: "+err.Error())
	}
	if a := p.Pod.Spec.Affinity; a != nil && a.NodeAffinity != nil && len(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution) > 0 {
		pref, err := framework.NewPreferredSchedulingTerms(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution)
		if err != nil {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, "invalid node affinity: "+err.Error())
		}
		st.preferred = pref
	}
	state.Write(nodeAffinityKey, st)
	return nil
}

func affinityState(state *framework.CycleState, p *framework.PodInfo) *nodeAffinityState {
	if st, err := framework.ReadAs[*nodeAffinityState](state, nodeAffinityKey); err == nil {
		return st
	}
	st := &nodeAffinityState{required: framework.GetRequiredNodeAffinity(p.Pod)}
	if a := p.Pod.Spec.Affinity; a != nil && a.NodeAffinity != nil {
		st.preferred, _ = framework.NewPreferredSchedulingTerms(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	return st
}

// Filter rejects nodes that do not match the pod's node selector or
// required node affinity.
func (NodeAffinity) Filter(_ context.Context, state *framework.CycleState, p *framework.PodInfo, n *framework.NodeInfo) *framework.Status {
	if !affinityState(state, p).required.Matches(n.Node()) {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonNodeAffinity)
	}
	return nil
}

// Score sums the weights of the preferred terms the node matches.
func (NodeAffinity) Score(_ context.Context, state *framework.CycleState, p *framework.PodInfo, n *framework.NodeInfo) (int64, *framework.Status) {
	st := affinityState(state, p)
	if st.preferred == nil {
		return 0, nil
	}
	return st.preferred.Score(n.Node()), nil
}

// NormalizeScore scales the sums so that the best node gets MaxNodeScore.
func (NodeAffinity) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	DefaultNormalizeScore(framework.MaxNodeScore, false, scores)
	return nil
}
