package authz

import (
	"context"
	"log/slog"
	"reflect"
	"slices"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/informer"
)

// Aggregator is the cluster role aggregation controller: it keeps the
// rules of every cluster role with an aggregationRule equal to the union
// of the rules of the cluster roles its selectors match, as Kubernetes'
// clusterrole-aggregation controller does. Aggregated roles may
// themselves be aggregated (view into edit into admin); repeated passes
// converge because each pass writes only roles whose rules change.
type Aggregator struct {
	cache  *informer.Informer[*rbac.ClusterRole]
	update func(ctx context.Context, name string, rules []rbac.PolicyRule) error
	log    *slog.Logger
	dirty  chan struct{}
}

// NewAggregator returns an aggregator over the cluster role informer
// cache; update writes a role's new rules (with the store's compare and
// swap: a conflict is retried on the next pass).
func NewAggregator(cache *informer.Informer[*rbac.ClusterRole], update func(ctx context.Context, name string, rules []rbac.PolicyRule) error, log *slog.Logger) (*Aggregator, error) {
	a := &Aggregator{cache: cache, update: update, log: log, dirty: make(chan struct{}, 1)}
	poke := func() {
		select {
		case a.dirty <- struct{}{}:
		default:
		}
	}
	_, err := cache.AddHandler(informer.HandlerFuncs[*rbac.ClusterRole]{
		AddFunc:    func(*rbac.ClusterRole, bool) { poke() },
		UpdateFunc: func(_, _ *rbac.ClusterRole) { poke() },
		DeleteFunc: func(*rbac.ClusterRole, bool) { poke() },
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Run aggregates after every change of a cluster role until ctx ends. The
// cache's informer must be running.
func (a *Aggregator) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-a.dirty:
		}
		if err := a.cache.WaitForSync(ctx); err != nil {
			return nil
		}
		a.pass(ctx)
	}
}

// pass writes every aggregated role whose rules differ from its union.
func (a *Aggregator) pass(ctx context.Context) {
	all := a.cache.List()
	slices.SortFunc(all, func(x, y *rbac.ClusterRole) int { return strings.Compare(x.Name, y.Name) })
	for _, cr := range all {
		if cr.AggregationRule == nil {
			continue
		}
		want := AggregateRules(cr, all)
		if equalRules(cr.Rules, want) {
			continue
		}
		if err := a.update(ctx, cr.Name, want); err != nil {
			a.log.Warn("clusterrole aggregation failed; retried on the next change", "clusterrole", cr.Name, "err", err)
			select {
			case a.dirty <- struct{}{}:
			default:
			}
		}
	}
}

func equalRules(a, b []rbac.PolicyRule) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}
