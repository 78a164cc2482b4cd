package deployment

import (
	"context"
	"slices"

	"github.com/setpoint-dev/setpoint/examples/api/apps"
)

// resolve returns maxSurge and maxUnavailable as pod counts: maxSurge
// rounds percentages up, maxUnavailable down, and if both come to zero
// maxUnavailable is 1 (Kubernetes' ResolveFenceposts). Recreate: 0, 0.
func resolve(d *apps.Deployment) (surge, unavailable int) {
	ru := d.Spec.Strategy.RollingUpdate
	if d.Spec.Strategy.Type == apps.RecreateDeploymentStrategyType || ru == nil {
		return 0, 0
	}
	n := int(replicas(d))
	if ru.MaxSurge != nil {
		surge, _ = ru.MaxSurge.ScaledValue(n, true)
	}
	if ru.MaxUnavailable != nil {
		unavailable, _ = ru.MaxUnavailable.ScaledValue(n, false)
	}
	if surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	return surge, unavailable
}

func maxSurge(d *apps.Deployment) int {
	s, _ := resolve(d)
	return s
}

// maxUnavailable is never more than replicas.
func maxUnavailable(d *apps.Deployment) int32 {
	_, u := resolve(d)
	return min(int32(u), replicas(d))
}

func specTotal(rsList []*apps.ReplicaSet) int32 {
	var n int32
	for _, rs := range rsList {
		if rs != nil {
			n += rsReplicas(rs)
		}
	}
	return n
}

// podTotal is, per replica set, the larger of what it wants and the pods
// it last reported (status.replicas: an old set scaled down may still
// have pods its controller has not deleted yet), summed.
func podTotal(rsList []*apps.ReplicaSet) int32 {
	var n int32
	for _, rs := range rsList {
		if rs != nil {
			n += max(rsReplicas(rs), rs.Status.Replicas)
		}
	}
	return n
}

func availableTotal(rsList []*apps.ReplicaSet) int32 {
	var n int32
	for _, rs := range rsList {
		if rs != nil {
			n += rs.Status.AvailableReplicas
		}
	}
	return n
}

// newRSReplicas is how many replicas the new replica set may have now
// (Kubernetes' NewRSNewReplicas): for a rolling update, up to replicas
// while all replica sets together stay within replicas + maxSurge; for
// Recreate, replicas. Unlike Kubernetes, which sums what the sets want,
// the sum counts the pods an old set still has beyond what it wants
// (podTotal), so the pods themselves stay within the bound while a
// scale-down is still being carried out.
func newRSReplicas(d *apps.Deployment, all []*apps.ReplicaSet, newRS *apps.ReplicaSet) int32 {
	want := replicas(d)
	if d.Spec.Strategy.Type == apps.RecreateDeploymentStrategyType {
		return want
	}
	cur := int32(0)
	if newRS != nil {
		cur = rsReplicas(newRS)
	}
	total := podTotal(all)
	maxTotal := want + int32(maxSurge(d))
	if total >= maxTotal {
		return cur
	}
	return min(cur+maxTotal-total, want)
}

// rollingUpdate makes one step of a rolling update: scale the new replica
// set up within maxSurge, then scale old ones down while at least
// replicas - maxUnavailable pods stay available (Kubernetes'
// rolloutRolling, reconcileNewReplicaSet and reconcileOldReplicaSets).
func (c *Controller) rollingUpdate(ctx context.Context, d *apps.Deployment, newRS *apps.ReplicaSet, old []*apps.ReplicaSet) error {
	all := append(slices.Clone(old), newRS)
	if newRS != nil {
		want := replicas(d)
		switch cur := rsReplicas(newRS); {
		case cur > want:
			if _, err := c.scale(ctx, d, newRS, want); err != nil {
				return err
			}
			return nil
		case cur < want:
			if n := newRSReplicas(d, all, newRS); n != cur {
				out, err := c.scale(ctx, d, newRS, n)
				if err != nil {
					return err
				}
				newRS = out
				all[len(all)-1] = out
			}
		}
	}
	active := activeReplicaSets(old)
	if len(active) == 0 {
		return nil
	}
	minAvailable := replicas(d) - maxUnavailable(d)
	var newUnavailable int32
	if newRS != nil {
		newUnavailable = max(rsReplicas(newRS)-newRS.Status.AvailableReplicas, 0)
	}
	maxScaleDown := specTotal(all) - minAvailable - newUnavailable
	if maxScaleDown <= 0 {
		return nil
	}
	// Oldest first.
	slices.SortFunc(active, func(a, b *apps.ReplicaSet) int {
		return a.CreationTimestamp.Compare(b.CreationTimestamp.Time)
	})
	// First the unhealthy replicas of old replica sets: they add no
	// availability.
	var scaled int32
	for i, rs := range active {
		if scaled >= maxScaleDown {
			break
		}
		unhealthy := rsReplicas(rs) - rs.Status.AvailableReplicas
		if unhealthy <= 0 {
			continue
		}
		n := min(unhealthy, maxScaleDown-scaled)
		out, err := c.scale(ctx, d, rs, rsReplicas(rs)-n)
		if err != nil {
			return err
		}
		active[i] = out
		scaled += n
	}
	// Then available ones, as far as availability allows.
	all = append(slices.Clone(active), newRS)
	budget := availableTotal(all) - minAvailable
	if budget <= 0 {
		return nil
	}
	budget = min(budget, maxScaleDown-scaled)
	for _, rs := range active {
		if budget <= 0 {
			break
		}
		if rsReplicas(rs) == 0 {
			continue
		}
		n := min(rsReplicas(rs), budget)
		if _, err := c.scale(ctx, d, rs, rsReplicas(rs)-n); err != nil {
			return err
		}
		budget -= n
	}
	return nil
}

// oldRunning reports whether an old replica set still has or wants pods.
func oldRunning(old []*apps.ReplicaSet) bool {
	for _, rs := range old {
		if rs.Status.Replicas > 0 || rsReplicas(rs) > 0 || (rs.Status.TerminatingReplicas != nil && *rs.Status.TerminatingReplicas > 0) {
			return true
		}
	}
	return false
}

// recreate scales every old replica set to zero, waits until none of
// their pods remain, and only then scales the new one up (Kubernetes'
// rolloutRecreate).
func (c *Controller) recreate(ctx context.Context, d *apps.Deployment, newRS *apps.ReplicaSet, old []*apps.ReplicaSet) error {
	for _, rs := range activeReplicaSets(old) {
		if _, err := c.scale(ctx, d, rs, 0); err != nil {
			return err
		}
	}
	if oldRunning(old) {
		return nil // an old pod still runs: the replica set events bring us back
	}
	if newRS != nil && rsReplicas(newRS) != replicas(d) {
		if _, err := c.scale(ctx, d, newRS, replicas(d)); err != nil {
			return err
		}
	}
	return nil
}
