package plugins

import (
	"context"
	"fmt"
	"math"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
)

// PodTopologySpreadName is the PodTopologySpread plugin's name.
const PodTopologySpreadName = "PodTopologySpread"

// Kubernetes' PodTopologySpread filter messages.
const (
	ErrReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints"
	ErrReasonNodeLabelNotMatch   = ErrReasonConstraintsNotMatch + " (missing required label)"
)

// SystemDefaultConstraints are Kubernetes' built-in default spread
// constraints, used for pods that declare none when the plugin has a
// DefaultSelector that finds their group.
var SystemDefaultConstraints = []api.TopologySpreadConstraint{
	{TopologyKey: api.LabelTopologyZone, WhenUnsatisfiable: api.ScheduleAnyway, MaxSkew: 5},
	{TopologyKey: api.LabelHostname, WhenUnsatisfiable: api.ScheduleAnyway, MaxSkew: 3},
}

// PodTopologySpread is the PodTopologySpread plugin, following
// Kubernetes:
//
//   - Pods counted for a constraint are the pods in the incoming pod's
//     namespace, not being deleted, matched by the constraint's
//     labelSelector plus, for each matchLabelKeys key the pod has, that
//     key equal to the pod's value. A nil labelSelector matches nothing.
//   - A node takes part (defines a domain, and its pods count) when it
//     has every constraint's topologyKey and passes the inclusion
//     policies: nodeAffinityPolicy Honor (default) requires the pod's
//     nodeSelector and required node affinity to match it;
//     nodeTaintsPolicy Honor (default Ignore) requires the pod to
//     tolerate its NoSchedule and NoExecute taints.
//   - Filter (DoNotSchedule constraints): a node without every key is
//     UnschedulableAndUnresolvable; otherwise, for each constraint, count
//     in the node's domain + 1 if the pod matches its own selector − the
//     smallest count over the domains must not exceed maxSkew. When fewer
//     domains than minDomains exist, the smallest count is taken as 0.
//   - Score (ScheduleAnyway constraints, or the default constraints):
//     per constraint, count × log(domains + 2) + maxSkew − 1, summed and
//     inverted so that the emptiest domains score highest; domains are
//     those of the feasible nodes, and with kubernetes.io/hostname the
//     node's own pods are counted.
//   - Default constraints (DefaultConstraints, Kubernetes' system defaults
//     when nil) apply to pods without constraints, with the selector that
//     DefaultSelector returns (Kubernetes: the selectors of the pod's
//     Services, ReplicaSet, StatefulSet or ReplicationController); without
//     a DefaultSelector, or when it returns nil, they do not apply.
type PodTopologySpread struct {
	// DefaultConstraints replace SystemDefaultConstraints when not nil.
	DefaultConstraints []api.TopologySpreadConstraint
	// DefaultSelector returns the selector of a pod's group for the
	// default constraints, or nil.
	DefaultSelector func(pod *api.Pod) *framework.Selector
}

var (
	_ framework.PreFilterPlugin = PodTopologySpread{}
	_ framework.FilterPlugin    = PodTopologySpread{}
	_ framework.PreScorePlugin  = PodTopologySpread{}
	_ framework.ScorePlugin     = PodTopologySpread{}
	_ framework.ScoreNormalizer = PodTopologySpread{}
)

// Name returns PodTopologySpreadName.
func (PodTopologySpread) Name() string { return PodTopologySpreadName }

// spreadConstraint is a compiled constraint.
type spreadConstraint struct {
	maxSkew       int64
	key           string
	minDomains    int
	selector      *framework.Selector
	honorAffinity bool
	honorTaints   bool
}

// compileConstraints compiles the pod's constraints with the action.
func compileConstraints(pod *api.Pod, cs []api.TopologySpreadConstraint, action api.UnsatisfiableConstraintAction, sel *framework.Selector) ([]spreadConstraint, error) {
	var out []spreadConstraint
	for i := range cs {
		c := &cs[i]
		if c.WhenUnsatisfiable != action {
			continue
		}
		if c.MaxSkew <= 0 {
			return nil, fmt.Errorf("spec.topologySpreadConstraints[%d].maxSkew: must be greater than 0, got %d", i, c.MaxSkew)
		}
		if c.TopologyKey == "" {
			return nil, fmt.Errorf("spec.topologySpreadConstraints[%d].topologyKey: required", i)
		}
		s := sel
		if s == nil {
			var err error
			if s, err = framework.NewSelector(c.LabelSelector); err != nil {
				return nil, fmt.Errorf("spec.topologySpreadConstraints[%d].labelSelector: %w", i, err)
			}
		}
		for _, k := range c.MatchLabelKeys {
			if v, ok := pod.Labels[k]; ok {
				s = s.With(true, k, v)
			}
		}
		sc := spreadConstraint{maxSkew: int64(c.MaxSkew), key: c.TopologyKey, minDomains: 1, selector: s,
			honorAffinity: c.NodeAffinityPolicy == nil || *c.NodeAffinityPolicy == api.NodeInclusionPolicyHonor,
			honorTaints:   c.NodeTaintsPolicy != nil && *c.NodeTaintsPolicy == api.NodeInclusionPolicyHonor}
		if c.MinDomains != nil {
			sc.minDomains = int(*c.MinDomains)
		}
		out = append(out, sc)
	}
	return out, nil
}

// includes reports whether node n passes c's inclusion policies.
func (c *spreadConstraint) includes(pod *api.Pod, n *api.Node, aff *framework.RequiredNodeAffinity) bool {
	if c.honorAffinity && !aff.Matches(n) {
		return false
	}
	if c.honorTaints {
		for i := range n.Spec.Taints {
			t := &n.Spec.Taints[i]
			if (t.Effect == api.TaintEffectNoSchedule || t.Effect == api.TaintEffectNoExecute) && !TolerationsTolerate(pod.Spec.Tolerations, t) {
				return false
			}
		}
	}
	return true
}

func hasAllKeys(labels map[string]string, cs []spreadConstraint) bool {
	for i := range cs {
		if _, ok := labels[cs[i].key]; !ok {
			return false
		}
	}
	return true
}

// countMatching counts the pods of ns that sel matches and that are not
// being deleted.
func countMatching(pods []*framework.PodInfo, sel *framework.Selector, ns string) int64 {
	var n int64
	for _, p := range pods {
		if p.Pod.DeletionTimestamp != nil || p.Pod.Namespace != ns {
			continue
		}
		if sel.Matches(p.Pod.Labels) {
			n++
		}
	}
	return n
}

const (
	spreadPreFilterKey framework.StateKey = "PreFilter" + PodTopologySpreadName
	spreadPreScoreKey  framework.StateKey = "PreScore" + PodTopologySpreadName
)

type spreadFilterState struct {
	constraints []spreadConstraint
	// counts[i] holds constraint i's matching pods by domain value.
	counts []map[string]int64
}

func (s *spreadFilterState) Clone() framework.StateData {
	c := &spreadFilterState{constraints: s.constraints, counts: make([]map[string]int64, len(s.counts))}
	for i, m := range s.counts {
		c.counts[i] = make(map[string]int64, len(m))
		for k, v := range m {
			c.counts[i][k] = v
		}
	}
	return c
}

// minMatch is the smallest count over constraint i's domains, 0 when
// there are fewer than minDomains domains.
func (s *spreadFilterState) minMatch(i int) int64 {
	m := s.counts[i]
	if len(m) < s.constraints[i].minDomains {
		return 0
	}
	lo := int64(math.MaxInt32)
	for _, v := range m {
		lo = min(lo, v)
	}
	return lo
}

// PreFilter counts the matching pods of each DoNotSchedule constraint by
// domain over all nodes; Skip when the pod has none.
func (PodTopologySpread) PreFilter(_ context.Context, state *framework.CycleState, p *framework.PodInfo, nodes []*framework.NodeInfo) *framework.Status {
	pod := p.Pod
	cs, err := compileConstraints(pod, pod.Spec.TopologySpreadConstraints, api.DoNotSchedule, nil)
	if err != nil {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, "invalid topology spread constraint: "+err.Error())
	}
	if len(cs) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	aff := framework.GetRequiredNodeAffinity(pod)
	s := &spreadFilterState{constraints: cs, counts: make([]map[string]int64, len(cs))}
	for i := range s.counts {
		s.counts[i] = map[string]int64{}
	}
	for _, n := range nodes {
		node := n.Node()
		if !hasAllKeys(node.Labels, cs) {
			continue
		}
		for i := range cs {
			if !cs[i].includes(pod, node, &aff) {
				continue
			}
			s.counts[i][node.Labels[cs[i].key]] += countMatching(n.Pods, cs[i].selector, pod.Namespace)
		}
	}
	state.Write(spreadPreFilterKey, s)
	return nil
}

// Filter checks each DoNotSchedule constraint's skew on the node.
func (PodTopologySpread) Filter(_ context.Context, state *framework.CycleState, p *framework.PodInfo, n *framework.NodeInfo) *framework.Status {
	s, err := framework.ReadAs[*spreadFilterState](state, spreadPreFilterKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	labels := n.Node().Labels
	for i := range s.constraints {
		c := &s.constraints[i]
		v, ok := labels[c.key]
		if !ok {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonNodeLabelNotMatch)
		}
		var self int64
		if c.selector.Matches(p.Pod.Labels) {
			self = 1
		}
		if s.counts[i][v]+self-s.minMatch(i) > c.maxSkew {
			return framework.NewStatus(framework.Unschedulable, ErrReasonConstraintsNotMatch)
		}
	}
	return nil
}

type spreadScoreState struct {
	constraints []spreadConstraint
	weights     []float64
	// pairs counts matching pods by (key, value) for the domains of the
	// feasible nodes (hostname constraints are counted per node in Score).
	pairs   map[topologyPair]int64
	ignored map[string]bool
}

func (s *spreadScoreState) Clone() framework.StateData { return s }

// PreScore counts the ScheduleAnyway (or default) constraints' pods by
// the feasible nodes' domains; Skip when there are no such constraints.
func (pl PodTopologySpread) PreScore(_ context.Context, state *framework.CycleState, p *framework.PodInfo, feasible []*framework.NodeInfo) *framework.Status {
	pod := p.Pod
	var cs []spreadConstraint
	requireAll := true
	if len(pod.Spec.TopologySpreadConstraints) > 0 {
		var err error
		if cs, err = compileConstraints(pod, pod.Spec.TopologySpreadConstraints, api.ScheduleAnyway, nil); err != nil {
			return framework.AsStatus(err)
		}
	} else if pl.DefaultSelector != nil {
		sel := pl.DefaultSelector(pod)
		if sel.IsNothing() || sel.Empty() {
			return framework.NewStatus(framework.Skip)
		}
		defaults := pl.DefaultConstraints
		if defaults == nil {
			defaults = SystemDefaultConstraints
			requireAll = false
		}
		var err error
		if cs, err = compileConstraints(pod, defaults, api.ScheduleAnyway, sel); err != nil {
			return framework.AsStatus(err)
		}
	}
	if len(cs) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	s := &spreadScoreState{constraints: cs, weights: make([]float64, len(cs)), pairs: map[topologyPair]int64{}, ignored: map[string]bool{}}
	sizes := make([]int, len(cs))
	for _, n := range feasible {
		node := n.Node()
		if requireAll && !hasAllKeys(node.Labels, cs) {
			s.ignored[node.Name] = true
			continue
		}
		for i := range cs {
			if cs[i].key == api.LabelHostname {
				continue
			}
			pair := topologyPair{cs[i].key, node.Labels[cs[i].key]}
			if _, ok := s.pairs[pair]; !ok {
				s.pairs[pair] = 0
				sizes[i]++
			}
		}
	}
	for i := range cs {
		sz := sizes[i]
		if cs[i].key == api.LabelHostname {
			sz = len(feasible) - len(s.ignored)
		}
		s.weights[i] = math.Log(float64(sz + 2))
	}
	nodes := framework.AllNodes(state, feasible)
	aff := framework.GetRequiredNodeAffinity(pod)
	for _, n := range nodes {
		node := n.Node()
		if requireAll && !hasAllKeys(node.Labels, cs) {
			continue
		}
		for i := range cs {
			if !cs[i].includes(pod, node, &aff) {
				continue
			}
			pair := topologyPair{cs[i].key, node.Labels[cs[i].key]}
			if _, ok := s.pairs[pair]; !ok {
				continue
			}
			s.pairs[pair] += countMatching(n.Pods, cs[i].selector, pod.Namespace)
		}
	}
	state.Write(spreadPreScoreKey, s)
	return nil
}

// Score sums, over the constraints, count × weight + maxSkew − 1.
func (PodTopologySpread) Score(_ context.Context, state *framework.CycleState, p *framework.PodInfo, n *framework.NodeInfo) (int64, *framework.Status) {
	s, err := framework.ReadAs[*spreadScoreState](state, spreadPreScoreKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	node := n.Node()
	if s.ignored[node.Name] {
		return 0, nil
	}
	var score float64
	for i := range s.constraints {
		c := &s.constraints[i]
		v, ok := node.Labels[c.key]
		if !ok {
			continue
		}
		var cnt int64
		if c.key == api.LabelHostname {
			cnt = countMatching(n.Pods, c.selector, p.Pod.Namespace)
		} else {
			cnt = s.pairs[topologyPair{c.key, v}]
		}
		score += float64(cnt)*s.weights[i] + float64(c.maxSkew-1)
	}
	return int64(math.Round(score)), nil
}

// NormalizeScore inverts the sums: MaxNodeScore × (max + min − score) /
// max, ignored nodes (missing a key) 0, all MaxNodeScore when max is 0.
func (PodTopologySpread) NormalizeScore(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	s, err := framework.ReadAs[*spreadScoreState](state, spreadPreScoreKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	lo, hi := int64(math.MaxInt64), int64(0)
	for _, sc := range scores {
		if s.ignored[sc.Name] {
			continue
		}
		lo, hi = min(lo, sc.Score), max(hi, sc.Score)
	}
	for i := range scores {
		switch {
		case s.ignored[scores[i].Name]:
			scores[i].Score = 0
		case hi == 0:
			scores[i].Score = framework.MaxNodeScore
		default:
			scores[i].Score = framework.MaxNodeScore * (hi + lo - scores[i].Score) / hi
		}
	}
	return nil
}
