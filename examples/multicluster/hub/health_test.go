package hub_test

import (
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/multicluster/agent"
	"github.com/setpoint-dev/setpoint/examples/multicluster/hub"
	"github.com/setpoint-dev/setpoint/examples/multicluster/mctest"
)

func condition(c *multicluster.ManagedCluster, typ string) api.Condition {
	for _, cd := range c.Status.Conditions {
		if cd.Type == typ {
			return cd
		}
	}
	return api.Condition{}
}

// checkReadyInvariant: Ready holds exactly when the tunnel is up and the
// heartbeat fresh (the child's apiserver is ready in this test).
func checkReadyInvariant(t *testing.T, c *multicluster.ManagedCluster) {
	t.Helper()
	want := condition(c, multicluster.ConditionTunnelConnected).Status == api.ConditionTrue &&
		condition(c, multicluster.ConditionHeartbeatFresh).Status == api.ConditionTrue
	if got := condition(c, multicluster.ConditionReady).Status == api.ConditionTrue; got != want {
		t.Errorf("Ready=%v but tunnel and heartbeat say %v: %+v", got, want, c.Status.Conditions)
	}
}

// TestHealthCutAndRestore: the agent's connection to the hub runs through
// a fault proxy. Cutting it makes the child not ready at once (tunnel
// down) while its last heartbeat is still fresh; the heartbeat goes stale
// exactly at the grace on the fake clock; restoring the network brings
// the tunnel back after the agent's reconnect wait, and the next
// heartbeat makes the child ready again.
func TestHealthCutAndRestore(t *testing.T) {
	t.Parallel()
	const grace, period, reconnect = 30 * time.Second, 10 * time.Second, time.Second
	fc := clockwork.NewFakeClock()
	p := mctest.StartParent(t, "agent-a")
	p.GrantAgent(t, "agent-a", "a")
	h := mctest.StartHub(t, p, func(c *hub.Config) { c.Clock, c.HeartbeatGrace = fc, grace })
	proxy := mctest.StartFaultProxy(t, h.Addr())
	child := mctest.StartChild(t)
	mctest.StartAgent(t, "https://"+proxy.Addr(), h.CACertPEM(), child, "a", "agent-a", func(c *agent.Config) {
		c.Clock, c.HeartbeatPeriod, c.ReconnectMin, c.ReconnectMax = fc, period, reconnect, reconnect
	})
	c := mctest.WaitCondition(t, h, "a", multicluster.ConditionReady, api.ConditionTrue)
	if c.Status.KubernetesVersion == "" || !c.Status.Readyz {
		t.Errorf("first heartbeat: %+v", c.Status)
	}

	proxy.Cut()
	c = mctest.WaitCondition(t, h, "a", multicluster.ConditionTunnelConnected, api.ConditionFalse)
	if r := condition(c, multicluster.ConditionReady); r.Status != api.ConditionFalse || r.Reason != hub.ReasonTunnelDisconnected {
		t.Errorf("tunnel cut: Ready %+v, want False for %s", r, hub.ReasonTunnelDisconnected)
	}
	if f := condition(c, multicluster.ConditionHeartbeatFresh); f.Status != api.ConditionTrue {
		t.Errorf("tunnel cut, no time passed: the heartbeat should still be fresh: %+v", f)
	}
	checkReadyInvariant(t, c)

	fc.Advance(grace)
	c = mctest.WaitCondition(t, h, "a", multicluster.ConditionHeartbeatFresh, api.ConditionFalse)
	if f := condition(c, multicluster.ConditionHeartbeatFresh); f.Reason != hub.ReasonHeartbeatMissed {
		t.Errorf("after the grace: %+v", f)
	}
	checkReadyInvariant(t, c)

	proxy.Restore()
	// the agent retries every reconnect interval of the fake clock;
	// advance it until the tunnel is back
	for i := 0; ; i++ {
		changed := h.Changed()
		if c, _ := h.Cluster("a"); condition(c, multicluster.ConditionTunnelConnected).Status == api.ConditionTrue {
			checkReadyInvariant(t, c)
			break
		}
		if i == 100 {
			t.Fatalf("the tunnel did not come back after %d reconnect intervals", i)
		}
		fc.Advance(reconnect)
		select {
		case <-changed:
		case <-time.After(100 * time.Millisecond): // the agent had not yet started its wait
		}
	}
	fc.Advance(period)
	c = mctest.WaitCondition(t, h, "a", multicluster.ConditionReady, api.ConditionTrue)
	checkReadyInvariant(t, c)
}
