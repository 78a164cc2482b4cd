package hub

import (
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/multicluster"
)

func conditionOf(t *testing.T, r *registry, id, typ string) api.Condition {
	t.Helper()
	c, ok := r.get(id)
	if !ok {
		t.Fatalf("cluster %s unknown", id)
	}
	for _, cd := range c.Status.Conditions {
		if cd.Type == typ {
			return cd
		}
	}
	t.Fatalf("cluster %s has no condition %s: %+v", id, typ, c.Status.Conditions)
	return api.Condition{}
}

// TestRegistryGrace: a cluster is ready while its tunnel is up and its
// last heartbeat is younger than the grace period, to the nanosecond;
// each cause of not-ready is named; transition times move only on a
// change of status.
func TestRegistryGrace(t *testing.T) {
	fc := clockwork.NewFakeClock()
	const grace = 30 * time.Second
	r := newRegistry(fc, grace)
	defer r.stop()
	r.connected("a", +1)
	if c := conditionOf(t, r, "a", multicluster.ConditionReady); c.Status != api.ConditionFalse || c.Reason != ReasonNoHeartbeat {
		t.Errorf("connected, no heartbeat: %+v", c)
	}
	r.heartbeat("a", multicluster.ManagedClusterStatus{Readyz: true, NodeCount: 2, ReadyNodeCount: 2})
	ready := conditionOf(t, r, "a", multicluster.ConditionReady)
	if ready.Status != api.ConditionTrue {
		t.Fatalf("after a heartbeat: %+v", ready)
	}
	fc.Advance(grace - time.Nanosecond)
	if c := conditionOf(t, r, "a", multicluster.ConditionHeartbeatFresh); c.Status != api.ConditionTrue {
		t.Errorf("just inside the grace: %+v", c)
	}
	changed := r.changes()
	fc.Advance(time.Nanosecond)
	<-changed // the grace timer fired and changed the conditions
	if c := conditionOf(t, r, "a", multicluster.ConditionReady); c.Status != api.ConditionFalse || c.Reason != ReasonHeartbeatMissed {
		t.Errorf("at the grace: %+v", c)
	}
	r.heartbeat("a", multicluster.ManagedClusterStatus{Readyz: true})
	if c := conditionOf(t, r, "a", multicluster.ConditionReady); c.Status != api.ConditionTrue || c.LastTransitionTime == ready.LastTransitionTime {
		t.Errorf("after a late heartbeat: %+v (first ready at %v)", c, ready.LastTransitionTime)
	}
	again := conditionOf(t, r, "a", multicluster.ConditionReady)
	fc.Advance(time.Second)
	r.heartbeat("a", multicluster.ManagedClusterStatus{Readyz: true})
	if c := conditionOf(t, r, "a", multicluster.ConditionReady); c.LastTransitionTime != again.LastTransitionTime {
		t.Errorf("a heartbeat that changes nothing moved the transition time: %v -> %v", again.LastTransitionTime, c.LastTransitionTime)
	}
	r.connected("a", -1)
	if c := conditionOf(t, r, "a", multicluster.ConditionReady); c.Status != api.ConditionFalse || c.Reason != ReasonTunnelDisconnected {
		t.Errorf("tunnel down: %+v", c)
	}
	r.connected("a", +1)
	r.heartbeat("a", multicluster.ManagedClusterStatus{Readyz: false})
	if c := conditionOf(t, r, "a", multicluster.ConditionReady); c.Status != api.ConditionFalse || c.Reason != ReasonChildNotReady {
		t.Errorf("child apiserver not ready: %+v", c)
	}
}
