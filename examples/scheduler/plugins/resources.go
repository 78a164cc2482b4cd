package plugins

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
)

// Names of the resource plugins.
const (
	NodeResourcesFitName                = "NodeResourcesFit"
	NodeResourcesBalancedAllocationName = "NodeResourcesBalancedAllocation"
)

// ErrReasonTooManyPods is the message for a node without a free pod slot.
const ErrReasonTooManyPods = "Too many pods"

// ScoringStrategy names how NodeResourcesFit scores nodes.
type ScoringStrategy string

// The scoring strategies.
const (
	// LeastAllocated prefers nodes with the most free resources (spreads).
	LeastAllocated ScoringStrategy = "LeastAllocated"
	// MostAllocated prefers the fullest nodes (bin packing).
	MostAllocated ScoringStrategy = "MostAllocated"
	// RequestedToCapacityRatio scores by a piecewise-linear function of
	// the utilization.
	RequestedToCapacityRatio ScoringStrategy = "RequestedToCapacityRatio"
)

// ResourceWeight is a resource the score looks at, and its weight.
type ResourceWeight struct {
	Name   api.ResourceName
	Weight int64
}

// UtilizationShapePoint is a point of RequestedToCapacityRatio's
// function: at Utilization percent, the score is Score (0-10).
type UtilizationShapePoint struct {
	Utilization int64
	Score       int64
}

// FitArgs configure NodeResourcesFit. The zero value is Kubernetes'
// default: LeastAllocated over cpu and memory, weight 1 each.
type FitArgs struct {
	Strategy  ScoringStrategy
	Resources []ResourceWeight
	// Shape is RequestedToCapacityRatio's function, points in increasing
	// utilization.
	Shape []UtilizationShapePoint
	// IgnoredResources are extended resources the filter does not check.
	IgnoredResources []api.ResourceName
}

// NodeResourcesFit is the NodeResourcesFit plugin.
type NodeResourcesFit struct {
	args    FitArgs
	ignored map[api.ResourceName]bool
}

var (
	_ framework.FilterPlugin = (*NodeResourcesFit)(nil)
	_ framework.ScorePlugin  = (*NodeResourcesFit)(nil)
)

// NewNodeResourcesFit checks args and returns the plugin.
func NewNodeResourcesFit(args FitArgs) (*NodeResourcesFit, error) {
	if args.Strategy == "" {
		args.Strategy = LeastAllocated
	}
	if len(args.Resources) == 0 {
		args.Resources = []ResourceWeight{{api.ResourceCPU, 1}, {api.ResourceMemory, 1}}
	}
	switch args.Strategy {
	case LeastAllocated, MostAllocated:
	case RequestedToCapacityRatio:
		if len(args.Shape) == 0 {
			return nil, errors.New("NodeResourcesFit: RequestedToCapacityRatio needs at least one shape point")
		}
		for i, p := range args.Shape {
			if p.Utilization < 0 || p.Utilization > 100 || p.Score < 0 || p.Score > 10 {
				return nil, fmt.Errorf("NodeResourcesFit: shape[%d]: utilization must be 0-100 and score 0-10, got %d and %d", i, p.Utilization, p.Score)
			}
			if i > 0 && p.Utilization <= args.Shape[i-1].Utilization {
				return nil, fmt.Errorf("NodeResourcesFit: shape[%d]: utilization must increase", i)
			}
		}
	default:
		return nil, fmt.Errorf("NodeResourcesFit: unknown scoring strategy %q (want LeastAllocated, MostAllocated or RequestedToCapacityRatio)", args.Strategy)
	}
	for i, r := range args.Resources {
		if r.Weight < 1 || r.Weight > 100 {
			return nil, fmt.Errorf("NodeResourcesFit: resources[%d] (%s): weight must be 1-100, got %d", i, r.Name, r.Weight)
		}
	}
	p := &NodeResourcesFit{args: args, ignored: map[api.ResourceName]bool{}}
	for _, r := range args.IgnoredResources {
		p.ignored[r] = true
	}
	return p, nil
}

// Name returns NodeResourcesFitName.
func (*NodeResourcesFit) Name() string { return NodeResourcesFitName }

// Filter checks a pod slot and every requested resource against the
// node's allocatable minus what its pods request, with one reason per
// missing resource.
func (f *NodeResourcesFit) Filter(_ context.Context, _ *framework.CycleState, p *framework.PodInfo, n *framework.NodeInfo) *framework.Status {
	reasons := InsufficientResources(p, n, f.ignored)
	if len(reasons) == 0 {
		return nil
	}
	return framework.NewStatus(framework.Unschedulable, reasons...)
}

// InsufficientResources returns Kubernetes' reasons the pod does not fit:
// "Too many pods" and "Insufficient <resource>".
func InsufficientResources(p *framework.PodInfo, n *framework.NodeInfo, ignored map[api.ResourceName]bool) []string {
	var reasons []string
	if n.Requested.AllowedPodNumber+1 > n.Allocatable.AllowedPodNumber {
		reasons = append(reasons, ErrReasonTooManyPods)
	}
	r := &p.Requests
	if r.MilliCPU == 0 && r.Memory == 0 && r.EphemeralStorage == 0 && len(r.Scalar) == 0 {
		return reasons
	}
	if r.MilliCPU > 0 && r.MilliCPU > n.Allocatable.MilliCPU-n.Requested.MilliCPU {
		reasons = append(reasons, "Insufficient cpu")
	}
	if r.Memory > 0 && r.Memory > n.Allocatable.Memory-n.Requested.Memory {
		reasons = append(reasons, "Insufficient memory")
	}
	if r.EphemeralStorage > 0 && r.EphemeralStorage > n.Allocatable.EphemeralStorage-n.Requested.EphemeralStorage {
		reasons = append(reasons, "Insufficient ephemeral-storage")
	}
	for name, v := range r.Scalar {
		if v == 0 || ignored[name] {
			continue
		}
		if v > n.Allocatable.Scalar[name]-n.Requested.Scalar[name] {
			reasons = append(reasons, "Insufficient "+string(name))
		}
	}
	return reasons
}

// Score scores the node by the strategy over the non-zero requests of its
// pods plus the pod's, weighted by resource.
func (f *NodeResourcesFit) Score(_ context.Context, _ *framework.CycleState, p *framework.PodInfo, n *framework.NodeInfo) (int64, *framework.Status) {
	var sum, weights int64
	for _, rw := range f.args.Resources {
		alloc, req := usage(p, n, rw.Name)
		if alloc == 0 {
			continue
		}
		var s int64
		switch f.args.Strategy {
		case LeastAllocated:
			if req <= alloc {
				s = (alloc - req) * framework.MaxNodeScore / alloc
			}
		case MostAllocated:
			s = min(req, alloc) * framework.MaxNodeScore / alloc
		case RequestedToCapacityRatio:
			s = f.shapeScore(min(req, alloc) * 100 / alloc)
		}
		sum += s * rw.Weight
		weights += rw.Weight
	}
	if weights == 0 {
		return 0, nil
	}
	return sum / weights, nil
}

// shapeScore interpolates the shape, its 0-10 scores scaled to
// 0-MaxNodeScore first, at utilization u (0-100).
func (f *NodeResourcesFit) shapeScore(u int64) int64 {
	pts := f.args.Shape
	scale := framework.MaxNodeScore / 10
	if u <= pts[0].Utilization {
		return pts[0].Score * scale
	}
	for i := 1; i < len(pts); i++ {
		if u <= pts[i].Utilization {
			a, b := pts[i-1], pts[i]
			return a.Score*scale + (b.Score-a.Score)*scale*(u-a.Utilization)/(b.Utilization-a.Utilization)
		}
	}
	return pts[len(pts)-1].Score * scale
}

// usage returns the node's allocatable amount of a resource and what its
// pods plus p would request of it (non-zero requests for cpu and memory).
func usage(p *framework.PodInfo, n *framework.NodeInfo, name api.ResourceName) (alloc, req int64) {
	switch name {
	case api.ResourceCPU:
		return n.Allocatable.MilliCPU, n.NonZeroRequested.MilliCPU + p.NonZeroRequests.MilliCPU
	case api.ResourceMemory:
		return n.Allocatable.Memory, n.NonZeroRequested.Memory + p.NonZeroRequests.Memory
	}
	return n.Allocatable.Get(name), n.Requested.Get(name) + p.Requests.Get(name)
}

// BalancedAllocation is the NodeResourcesBalancedAllocation plugin over
// cpu and memory.
type BalancedAllocation struct{}

var _ framework.ScorePlugin = BalancedAllocation{}

// Name returns NodeResourcesBalancedAllocationName.
func (BalancedAllocation) Name() string { return NodeResourcesBalancedAllocationName }

// Score is 100 × (1 − the standard deviation of the requested fractions
// of cpu and memory), each fraction capped at 1.
func (BalancedAllocation) Score(_ context.Context, _ *framework.CycleState, p *framework.PodInfo, n *framework.NodeInfo) (int64, *framework.Status) {
	var fr []float64
	for _, name := range []api.ResourceName{api.ResourceCPU, api.ResourceMemory} {
		alloc, req := usage(p, n, name)
		if alloc == 0 {
			continue
		}
		fr = append(fr, math.Min(1, float64(req)/float64(alloc)))
	}
	var std float64
	switch len(fr) {
	case 2:
		std = math.Abs(fr[0]-fr[1]) / 2
	case 0, 1:
		std = 0
	}
	return int64((1 - std) * float64(framework.MaxNodeScore)), nil
}
