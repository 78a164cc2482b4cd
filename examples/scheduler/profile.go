package scheduler

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
	"github.com/setpoint-dev/setpoint/examples/scheduler/plugins"
)

// profile is a Profile split by extension point.
type profile struct {
	name       string
	preFilter  []framework.PreFilterPlugin
	filter     []framework.FilterPlugin
	postFilter []framework.PostFilterPlugin
	preScore   []framework.PreScorePlugin
	score      []framework.ScorePlugin
	scoreNames []string // the score plugins' names, by index
	// signers are the PreFilter, Filter, PreScore and Score plugins;
	// batchable says that all of them are SignPlugins.
	signers   []framework.SignPlugin
	batchable bool
	// m records extension point and plugin durations (nil: none).
	m        *metrics
	weights  []int64
	reserve  []framework.ReservePlugin
	permit   []framework.PermitPlugin
	preBind  []framework.PreBindPlugin
	bind     []framework.BindPlugin
	postBind []framework.PostBindPlugin
}

func newProfile(s *Scheduler, p Profile, defaultBinder framework.BindPlugin) *profile {
	pls := p.Plugins
	if pls == nil {
		pls = DefaultPlugins()
	}
	out := &profile{name: p.SchedulerName, batchable: true}
	for _, pl := range pls {
		if vb, ok := pl.(*plugins.VolumeBinding); ok && vb.Client == nil {
			vb.Client = s.vols
		}
		if pts, ok := pl.(plugins.PodTopologySpread); ok && pts.DefaultSelector == nil {
			// Kubernetes' system defaults, for the pod's Services and
			// controller.
			pts.DefaultSelector = s.podGroupSelector
			pl = pts
		}
		if x, ok := pl.(framework.PreFilterPlugin); ok {
			out.preFilter = append(out.preFilter, x)
		}
		if cyclePlugin(pl) {
			if x, ok := pl.(framework.SignPlugin); ok {
				out.signers = append(out.signers, x)
			} else {
				out.batchable = false
			}
		}
		if x, ok := pl.(framework.FilterPlugin); ok {
			out.filter = append(out.filter, x)
		}
		if _, ok := pl.(*DefaultPreemption); ok {
			// Each profile gets its own, bound to the scheduler.
			out.postFilter = append(out.postFilter, &DefaultPreemption{s: s, prof: out})
		} else if x, ok := pl.(framework.PostFilterPlugin); ok {
			out.postFilter = append(out.postFilter, x)
		}
		if x, ok := pl.(framework.PreScorePlugin); ok {
			out.preScore = append(out.preScore, x)
		}
		if x, ok := pl.(framework.ScorePlugin); ok {
			out.score = append(out.score, x)
			out.scoreNames = append(out.scoreNames, pl.Name())
			w := p.Weights[pl.Name()]
			if w == 0 {
				w = cmp.Or(defaultWeights[pl.Name()], 1)
			}
			out.weights = append(out.weights, w)
		}
		if x, ok := pl.(framework.ReservePlugin); ok {
			out.reserve = append(out.reserve, x)
		}
		if x, ok := pl.(framework.PermitPlugin); ok {
			out.permit = append(out.permit, x)
		}
		if x, ok := pl.(framework.PreBindPlugin); ok {
			out.preBind = append(out.preBind, x)
		}
		if x, ok := pl.(framework.BindPlugin); ok {
			out.bind = append(out.bind, x)
		}
		if x, ok := pl.(framework.PostBindPlugin); ok {
			out.postBind = append(out.postBind, x)
		}
	}
	out.bind = append(out.bind, defaultBinder)
	return out
}

// cyclePlugin reports whether pl takes part in finding a node (PreFilter,
// Filter, PreScore or Score).
func cyclePlugin(pl framework.Plugin) bool {
	switch pl.(type) {
	case framework.PreFilterPlugin, framework.FilterPlugin, framework.PreScorePlugin, framework.ScorePlugin:
		return true
	}
	return false
}

// runPreFilter runs the PreFilter plugins; a rejection applies to every
// node. Plugins returning Skip are remembered so their Filter is skipped.
func (p *profile) runPreFilter(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, nodes []*framework.NodeInfo) (skip map[string]bool, s *framework.Status) {
	start, sample := time.Now(), sampled(state)
	defer func() { p.m.observePoint("PreFilter", p.name, s, start) }()
	for _, pl := range p.preFilter {
		pstart := time.Now()
		st := pl.PreFilter(ctx, state, pod, nodes)
		p.m.observePlugin(sample, pl.Name(), "PreFilter", st, pstart)
		switch {
		case st.IsSkip():
			if skip == nil {
				skip = map[string]bool{}
			}
			skip[pl.Name()] = true
		case !st.IsSuccess():
			if st.Code() == framework.Error {
				return nil, framework.AsStatus(fmt.Errorf("running PreFilter plugin %q: %w", pl.Name(), st.AsError())).WithPlugin(pl.Name())
			}
			return nil, st.WithPlugin(pl.Name())
		}
	}
	return skip, nil
}

// runPostFilter runs the PostFilter plugins until one nominates a node;
// it returns the node and the messages of those that did not.
func (p *profile) runPostFilter(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, filtered framework.NodeToStatus) (string, []string, error) {
	var msgs []string
	start, sample := time.Now(), sampled(state)
	var last *framework.Status
	defer func() { p.m.observePoint("PostFilter", p.name, last, start) }()
	for _, pl := range p.postFilter {
		pstart := time.Now()
		node, st := pl.PostFilter(ctx, state, pod, filtered)
		p.m.observePlugin(sample, pl.Name(), "PostFilter", st, pstart)
		last = st
		if st.Code() == framework.Error {
			return "", msgs, fmt.Errorf("running PostFilter plugin %q: %w", pl.Name(), st.AsError())
		}
		if st.IsSuccess() && node != "" {
			return node, msgs, nil
		}
		if m := st.Message(); m != "" {
			msgs = append(msgs, m)
		}
	}
	return "", msgs, nil
}

// runFilters runs every Filter on one node until one rejects it.
func (p *profile) runFilters(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, n *framework.NodeInfo, skip map[string]bool, sample bool) *framework.Status {
	for _, pl := range p.filter {
		if skip[pl.Name()] {
			continue
		}
		var pstart time.Time
		if sample {
			pstart = time.Now()
		}
		st := pl.Filter(ctx, state, pod, n)
		p.m.observePlugin(sample, pl.Name(), "Filter", st, pstart)
		if !st.IsSuccess() {
			return st.WithPlugin(pl.Name())
		}
	}
	return nil
}

// parallelize runs fn(i) for i in [0, n) on up to workers goroutines,
// stopping early when stop returns true.
func parallelize(workers, n int, fn func(i int), stop func() bool) {
	if n == 0 {
		return
	}
	workers = min(workers, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	wg.Add(workers)
	for range workers {
		go func() {
			defer wg.Done()
			for {
				if stop != nil && stop() {
					return
				}
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}
