package scheduler

import (
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
	"github.com/setpoint-dev/setpoint/store"
)

func cnode(name string) *api.Node {
	return &api.Node{ObjectMeta: store.ObjectMeta{Name: name}, Status: api.NodeStatus{Allocatable: api.ResourceList{"cpu": api.MustParse("4"), "pods": api.MustParse("10")}}}
}

func cpod(uid, node string) *api.Pod {
	return &api.Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: uid, UID: uid, ResourceVersion: "1"},
		Spec: api.PodSpec{NodeName: node, Containers: []api.Container{{Name: "c", Resources: api.ResourceRequirements{Requests: api.ResourceList{"cpu": api.MustParse("1")}}}}}}
}

func snapByName(c *cache) map[string]*framework.NodeInfo {
	out := map[string]*framework.NodeInfo{}
	for _, n := range c.snapshot() {
		out[n.Node().Name] = n
	}
	return out
}

// TestCacheAssumeAndSnapshot: assumed pods count at once, a failed
// binding forgets them, the informer's bound pod confirms them, and each
// snapshot reflects exactly the cache.
func TestCacheAssumeAndSnapshot(t *testing.T) {
	c := newCache()
	c.setNode(cnode("a"))
	c.setNode(cnode("b"))
	if s := snapByName(c); len(s) != 2 || s["a"].Requested.MilliCPU != 0 {
		t.Fatalf("snapshot %v", s)
	}
	p := cpod("p1", "")
	if err := c.assume(framework.NewPodInfo(p), "a"); err != nil {
		t.Fatal(err)
	}
	if err := c.assume(framework.NewPodInfo(p), "b"); err == nil {
		t.Fatal("assumed the same pod twice")
	}
	if s := snapByName(c); s["a"].Requested.MilliCPU != 1000 || s["b"].Requested.MilliCPU != 0 {
		t.Fatalf("after assume: a=%d b=%d", s["a"].Requested.MilliCPU, s["b"].Requested.MilliCPU)
	}
	c.forget("p1")
	if s := snapByName(c); s["a"].Requested.MilliCPU != 0 || c.counted("p1") {
		t.Fatal("forget left the pod counted")
	}
	// Assumed, then confirmed by the informer: forget no longer drops it.
	c.assume(framework.NewPodInfo(p), "a")
	c.setPod(cpod("p1", "a"))
	c.forget("p1")
	if s := snapByName(c); s["a"].Requested.MilliCPU != 1000 {
		t.Fatal("forget dropped a bound pod")
	}
	// A snapshot's NodeInfos are copies: later changes do not reach them.
	old := snapByName(c)["a"]
	c.setPod(cpod("p2", "a"))
	if old.Requested.MilliCPU != 1000 || snapByName(c)["a"].Requested.MilliCPU != 2000 {
		t.Fatal("snapshot not isolated or not refreshed")
	}
	// Removing a node drops it from snapshots; its pods wait for it.
	c.removeNode("a")
	if s := snapByName(c); len(s) != 1 || s["b"] == nil {
		t.Fatalf("after removing a: %v", s)
	}
	c.setNode(cnode("a"))
	if s := snapByName(c); len(s) != 2 || s["a"].Requested.MilliCPU != 2000 {
		t.Fatal("a node coming back lost its pods")
	}
	c.removePod("p1")
	c.removePod("p2")
	c.removeNode("a")
	c.removeNode("b")
	if s := c.snapshot(); len(s) != 0 || len(c.nodes) != 0 || len(c.pods) != 0 {
		t.Fatalf("cache not empty: %d nodes, %d pods, snapshot %d", len(c.nodes), len(c.pods), len(s))
	}
}
