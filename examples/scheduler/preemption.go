package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/policy"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
	"github.com/setpoint-dev/setpoint/store"
)

// DefaultPreemptionName is the DefaultPreemption plugin's name.
const DefaultPreemptionName = "DefaultPreemption"

// Kubernetes' preemption messages.
const (
	reasonNoVictims      = "No preemption victims found for incoming pod"
	reasonNotHelpful     = "Preemption is not helpful for scheduling"
	msgNeverPolicy       = "preemption: not eligible due to preemptionPolicy=Never."
	msgTerminatingVictim = "preemption: not eligible due to a terminating pod on the nominated node."
)

// DefaultPreemption is the DefaultPreemption PostFilter plugin. When no
// node fits a pod it looks, as Kubernetes does, for the node where
// evicting pods of lower priority lets the pod fit:
//
//   - A pod with preemptionPolicy Never does not preempt; a pod already
//     nominated to a node where a lower-priority pod is terminating waits
//     for it instead of preempting again.
//   - Candidates are the nodes a filter rejected as Unschedulable (not
//     UnschedulableAndUnresolvable). On each, every lower-priority pod is
//     removed; if the pod then passes PreFilter and Filter, the removed
//     pods are added back one by one, most important first (priority,
//     then earlier start), those whose PodDisruptionBudget would be
//     violated first, and each that can stay stays: the rest are victims.
//   - The node is chosen by, in order: fewest victims violating a budget,
//     lowest highest victim priority, lowest sum of victim priorities,
//     fewest victims, latest start of the highest-priority victims.
//   - The victims get a Preempted event and are deleted through the API
//     (gracefully, with their UID as precondition, and with the fences of
//     the context, such as the leader's); the pod's
//     status.nominatedNodeName is set, and the pod is retried when the
//     victims are gone.
//
// Pods' priority is spec.priority (0 when unset). Differences from
// Kubernetes: no DisruptionTarget condition is added to victims before
// deletion, the nominated pod's room is not held against lower-priority
// pods scheduled meanwhile, and each candidate is checked by running
// PreFilter again rather than through AddPod/RemovePod extensions.
type DefaultPreemption struct {
	s    *Scheduler
	prof *profile
}

// NewDefaultPreemption returns the plugin, for a Profile's Plugins; the
// scheduler binds it to itself.
func NewDefaultPreemption() *DefaultPreemption { return &DefaultPreemption{} }

var _ framework.PostFilterPlugin = (*DefaultPreemption)(nil)

// Name returns DefaultPreemptionName.
func (*DefaultPreemption) Name() string { return DefaultPreemptionName }

// candidate is a node with the victims that make room on it.
type candidate struct {
	node         string
	victims      []*api.Pod
	numViolating int
}

// PostFilter picks victims and a node, evicts the victims and nominates
// the node.
func (pl *DefaultPreemption) PostFilter(ctx context.Context, state *framework.CycleState, info *framework.PodInfo, filtered framework.NodeToStatus) (string, *framework.Status) {
	if pl.s == nil {
		return "", framework.NewStatus(framework.Error, "DefaultPreemption is not bound to a scheduler")
	}
	pod := info.Pod
	if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy == api.PreemptNever {
		return "", framework.NewStatus(framework.Unschedulable, msgNeverPolicy)
	}
	nodes := framework.AllNodes(state, nil)
	if nn := pod.Status.NominatedNodeName; nn != "" {
		for _, n := range nodes {
			if n.Node().Name != nn {
				continue
			}
			for _, p := range n.Pods {
				if p.Pod.DeletionTimestamp != nil && priorityOf(p.Pod) < priorityOf(pod) {
					return "", framework.NewStatus(framework.Unschedulable, msgTerminatingVictim)
				}
			}
		}
	}
	cands, reasons := pl.findCandidates(ctx, info, nodes, filtered)
	if len(cands) == 0 {
		return "", framework.NewStatus(framework.Unschedulable, reasons)
	}
	best := pickCandidate(cands)
	if err := pl.s.preempt(ctx, pod, best); err != nil {
		return "", framework.AsStatus(err)
	}
	return best.node, nil
}

// findCandidates returns the nodes where preemption helps, or the
// "preemption: 0/N nodes are available" explanation.
func (pl *DefaultPreemption) findCandidates(ctx context.Context, info *framework.PodInfo, nodes []*framework.NodeInfo, filtered framework.NodeToStatus) ([]candidate, string) {
	pdbs := pl.s.pdbList()
	counts := map[string]int{}
	var out []candidate
	for i, n := range nodes {
		if st, ok := filtered[n.Node().Name]; ok && st.Code() != framework.Unschedulable {
			counts[reasonNotHelpful]++
			continue
		}
		c, ok := pl.selectVictims(ctx, info, nodes, i, pdbs)
		if !ok {
			counts[reasonNoVictims]++
			continue
		}
		out = append(out, c)
	}
	parts := make([]string, 0, len(counts))
	for r, n := range counts {
		parts = append(parts, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(parts)
	return out, fmt.Sprintf("preemption: 0/%d nodes are available: %s.", len(nodes), strings.Join(parts, ", "))
}

// fits runs the profile's PreFilter over view and its filters on node.
func (pl *DefaultPreemption) fits(ctx context.Context, info *framework.PodInfo, view []*framework.NodeInfo, node *framework.NodeInfo) bool {
	state := framework.NewCycleState()
	framework.WriteNamespaces(state, framework.NamespaceListerFunc(pl.s.namespaceLabels))
	framework.WriteAllNodes(state, view)
	skip, st := pl.prof.runPreFilter(ctx, state, info, view)
	if !st.IsSuccess() {
		return false
	}
	return pl.prof.runFilters(ctx, state, info, node, skip, false).IsSuccess()
}

// selectVictims finds the fewest, least important pods to remove from
// nodes[idx] so that the pod fits.
func (pl *DefaultPreemption) selectVictims(ctx context.Context, info *framework.PodInfo, nodes []*framework.NodeInfo, idx int, pdbs []*policy.PodDisruptionBudget) (candidate, bool) {
	prio := priorityOf(info.Pod)
	node := nodes[idx].Clone()
	var potential []*framework.PodInfo
	for _, p := range slices.Clone(node.Pods) {
		if priorityOf(p.Pod) < prio {
			potential = append(potential, p)
			_ = node.RemovePod(p.Pod)
		}
	}
	if len(potential) == 0 {
		return candidate{}, false
	}
	view := slices.Clone(nodes)
	view[idx] = node
	if !pl.fits(ctx, info, view, node) {
		return candidate{}, false
	}
	slices.SortStableFunc(potential, func(a, b *framework.PodInfo) int { return moreImportant(a.Pod, b.Pod) })
	violating, nonViolating := splitByPDB(potential, pdbs)
	c := candidate{node: node.Node().Name}
	reprieve := func(p *framework.PodInfo) bool {
		node.AddPodInfo(p)
		if pl.fits(ctx, info, view, node) {
			return true
		}
		_ = node.RemovePod(p.Pod)
		c.victims = append(c.victims, p.Pod)
		return false
	}
	for _, p := range violating {
		if !reprieve(p) {
			c.numViolating++
		}
	}
	for _, p := range nonViolating {
		reprieve(p)
	}
	return c, true
}

// moreImportant orders pods by priority (higher first), then by start
// time (earlier first), as Kubernetes' MoreImportantPod.
func moreImportant(a, b *api.Pod) int {
	if pa, pb := priorityOf(a), priorityOf(b); pa != pb {
		if pa > pb {
			return -1
		}
		return 1
	}
	return startTime(a).Compare(startTime(b))
}

func startTime(p *api.Pod) time.Time {
	if p.Status.StartTime != nil {
		return p.Status.StartTime.Time
	}
	return p.CreationTimestamp.Time
}

// splitByPDB splits pods (most important first) into those whose
// eviction would exceed a matching budget's disruptionsAllowed and the
// others, counting down each budget as Kubernetes does.
func splitByPDB(pods []*framework.PodInfo, pdbs []*policy.PodDisruptionBudget) (violating, nonViolating []*framework.PodInfo) {
	allowed := make([]int32, len(pdbs))
	sels := make([]*framework.Selector, len(pdbs))
	for i, pdb := range pdbs {
		allowed[i] = pdb.Status.DisruptionsAllowed
		sels[i], _ = framework.NewSelector(pdb.Spec.Selector)
	}
	for _, p := range pods {
		violated := false
		if len(p.Pod.Labels) > 0 {
			for i, pdb := range pdbs {
				if pdb.Namespace != p.Pod.Namespace || sels[i].IsNothing() || sels[i].Empty() || !sels[i].Matches(p.Pod.Labels) {
					continue
				}
				if _, ok := pdb.Status.DisruptedPods[p.Pod.Name]; ok {
					continue
				}
				allowed[i]--
				if allowed[i] < 0 {
					violated = true
				}
			}
		}
		if violated {
			violating = append(violating, p)
		} else {
			nonViolating = append(nonViolating, p)
		}
	}
	return violating, nonViolating
}

// pickCandidate applies Kubernetes' order of preference.
func pickCandidate(cs []candidate) candidate {
	for _, c := range cs {
		if len(c.victims) == 0 {
			return c
		}
	}
	keep := func(score func(c candidate) int64) {
		best := int64(math.MaxInt64)
		for _, c := range cs {
			best = min(best, score(c))
		}
		cs = slices.DeleteFunc(cs, func(c candidate) bool { return score(c) != best })
	}
	highest := func(c candidate) int32 {
		h := int32(math.MinInt32)
		for _, v := range c.victims {
			h = max(h, priorityOf(v))
		}
		return h
	}
	keep(func(c candidate) int64 { return int64(c.numViolating) })
	keep(func(c candidate) int64 { return int64(highest(c)) })
	keep(func(c candidate) int64 {
		var sum int64
		for _, v := range c.victims {
			sum += int64(priorityOf(v)) + math.MaxInt32 + 1
		}
		return sum
	})
	keep(func(c candidate) int64 { return int64(len(c.victims)) })
	// Latest earliest-start among each node's highest-priority victims:
	// the smallest negated time wins.
	keep(func(c candidate) int64 {
		h := highest(c)
		earliest := int64(math.MaxInt64)
		for _, v := range c.victims {
			if priorityOf(v) == h {
				earliest = min(earliest, startTime(v).UnixNano())
			}
		}
		return -earliest
	})
	return cs[0]
}

// pdbList returns the PodDisruptionBudgets the informer holds.
func (s *Scheduler) pdbList() []*policy.PodDisruptionBudget {
	if s.pdbs == nil {
		return nil
	}
	return s.pdbs.List()
}

// preempt evicts c's victims and nominates c's node for pod.
func (s *Scheduler) preempt(ctx context.Context, pod *api.Pod, c candidate) error {
	for _, v := range c.victims {
		s.event(ctx, v, "Normal", "Preempted", fmt.Sprintf("Preempted by pod %s on node %s", pod.UID, c.node))
		if _, err := s.cfg.Client.Pods().Delete(ctx, v.Namespace, v.Name, store.WithPreconditionUID(v.UID)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("preempting pod %s/%s on node %s: %w", v.Namespace, v.Name, c.node, err)
		}
	}
	s.log.Info("preempted", "pod", pod.Namespace+"/"+pod.Name, "node", c.node, "victims", len(c.victims))
	for range 5 {
		cur, err := s.cfg.Client.Pods().Get(ctx, pod.Namespace, pod.Name)
		if err != nil {
			return fmt.Errorf("nominating node %s for pod %s/%s: %w", c.node, pod.Namespace, pod.Name, err)
		}
		if cur.UID != pod.UID || cur.Spec.NodeName != "" || cur.Status.NominatedNodeName == c.node {
			return nil
		}
		cur.Status.NominatedNodeName = c.node
		if _, err = s.cfg.Client.Pods().UpdateStatus(ctx, cur); err == nil {
			return nil
		} else if !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("nominating node %s for pod %s/%s: %w", c.node, pod.Namespace, pod.Name, err)
		}
	}
	return fmt.Errorf("nominating node %s for pod %s/%s: status kept changing", c.node, pod.Namespace, pod.Name)
}
