package nodelifecycle_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/nodelifecycle"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
)

// sim plays the kubelets' heartbeats and steps the controller on a fake
// clock: each step advances the clock by the monitor period, renews the
// Leases of the live nodes, waits for the controller's caches to show the
// cluster as it is, and runs one monitor pass.
type sim struct {
	t     *testing.T
	cs    *client.Clientset
	clock *clockwork.FakeClock
	c     *nodelifecycle.Controller
	live  map[string]bool
	nodes *informer.Informer[*api.Node]
	pods  *informer.Informer[*api.Pod]
	lease *informer.Informer[*election.Lease]
}

func newSim(t *testing.T, cfg nodelifecycle.Config) *sim {
	t.Helper()
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	cfg.Client, cfg.Clock = cs, clock
	c, err := nodelifecycle.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	x := &sim{t: t, cs: cs, clock: clock, c: c, live: map[string]bool{}}
	// The controller's shared informers (same factory, same keys).
	x.nodes, _, _ = informer.Shared(cs.Informers(), cs.Nodes(), informer.Config[*api.Node]{})
	x.pods, _, _ = informer.Shared(cs.Informers(), cs.Pods(), informer.Config[*api.Pod]{})
	x.lease, _, _ = informer.Shared(cs.Informers(), cs.Leases(), informer.Config[*election.Lease]{Namespace: nodelifecycle.LeaseNamespace})
	controllertest.RunInformers(t, cs)
	if err := c.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	return x
}

// node creates a Ready node in zone with a Lease.
func (x *sim) node(name, zone string) {
	x.t.Helper()
	ctx := context.Background()
	n := &api.Node{}
	n.Name = name
	n.Labels = map[string]string{api.LabelTopologyZone: zone}
	out, err := x.cs.Nodes().Create(ctx, n)
	if err != nil {
		x.t.Fatal(err)
	}
	now := store.NewTime(x.clock.Now())
	out.Status.Conditions = []api.NodeCondition{{Type: api.NodeReady, Status: api.ConditionTrue, LastHeartbeatTime: now, LastTransitionTime: now}}
	if _, err := x.cs.Nodes().UpdateStatus(ctx, out); err != nil {
		x.t.Fatal(err)
	}
	x.live[name] = true
	x.renew(name)
}

func (x *sim) renew(name string) {
	x.t.Helper()
	ctx := context.Background()
	now := store.NewMicroTime(x.clock.Now())
	l, err := x.cs.Leases().Get(ctx, nodelifecycle.LeaseNamespace, name)
	if err != nil {
		l = &election.Lease{}
		l.Namespace, l.Name = nodelifecycle.LeaseNamespace, name
		l.Spec.HolderIdentity, l.Spec.RenewTime = &name, &now
		if _, err := x.cs.Leases().Create(ctx, l); err != nil {
			x.t.Fatal(err)
		}
		return
	}
	l.Spec.RenewTime = &now
	if _, err := x.cs.Leases().Update(ctx, l); err != nil {
		x.t.Fatal(err)
	}
}

// pod creates a running, Ready pod on node.
func (x *sim) pod(name, node string, tols ...api.Toleration) {
	x.t.Helper()
	ctx := context.Background()
	p := &api.Pod{}
	p.Namespace, p.Name = "default", name
	p.Spec.NodeName = node
	p.Spec.Tolerations = tols
	p.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
	out, err := x.cs.Pods().Create(ctx, p)
	if err != nil {
		x.t.Fatal(err)
	}
	out.Status.Phase = api.PodRunning
	out.Status.Conditions = []api.PodCondition{{Type: api.PodReady, Status: api.ConditionTrue}}
	if _, err := x.cs.Pods().UpdateStatus(ctx, out); err != nil {
		x.t.Fatal(err)
	}
}

// settle waits until the caches hold what the apiserver holds.
func (x *sim) settle() {
	x.t.Helper()
	ctx := context.Background()
	controllertest.Eventually(x.t, "caches caught up", func() error {
		nl, err := x.cs.Nodes().List(ctx, "", store.ListOptions{})
		if err != nil {
			return err
		}
		for _, n := range nl.Items {
			if c, ok := x.nodes.Get("", n.Name); !ok || c.ResourceVersion != n.ResourceVersion {
				return fmt.Errorf("node %s not caught up", n.Name)
			}
		}
		pl, err := x.cs.Pods().List(ctx, "", store.ListOptions{})
		if err != nil {
			return err
		}
		for _, p := range pl.Items {
			if c, ok := x.pods.Get(p.Namespace, p.Name); !ok || c.ResourceVersion != p.ResourceVersion {
				return fmt.Errorf("pod %s not caught up", p.Name)
			}
		}
		ll, err := x.cs.Leases().List(ctx, nodelifecycle.LeaseNamespace, store.ListOptions{})
		if err != nil {
			return err
		}
		for _, l := range ll.Items {
			if c, ok := x.lease.Get(l.Namespace, l.Name); !ok || c.ResourceVersion != l.ResourceVersion {
				return fmt.Errorf("lease %s not caught up", l.Name)
			}
		}
		return nil
	})
}

// step advances the clock by d, renews the live nodes' Leases and runs
// one monitor pass on settled caches.
func (x *sim) step(d time.Duration) {
	x.t.Helper()
	x.clock.Advance(d)
	for _, n := range slices.Sorted(mapsKeys(x.live)) {
		x.renew(n)
	}
	x.settle()
	if err := x.c.Monitor(context.Background()); err != nil {
		x.t.Fatalf("monitor: %v", err)
	}
	x.settle()
}

func mapsKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func (x *sim) get(name string) *api.Node {
	x.t.Helper()
	n, err := x.cs.Nodes().Get(context.Background(), "", name)
	if err != nil {
		x.t.Fatal(err)
	}
	return n
}

func taints(n *api.Node) []string {
	var out []string
	for _, t := range n.Spec.Taints {
		out = append(out, t.Key+":"+string(t.Effect))
	}
	slices.Sort(out)
	return out
}

func ready(n *api.Node) api.ConditionStatus {
	for _, c := range n.Status.Conditions {
		if c.Type == api.NodeReady {
			return c.Status
		}
	}
	return ""
}

// terminating reports whether pod name is marked for deletion (or gone).
func (x *sim) terminating(name string) bool {
	x.t.Helper()
	p, err := x.cs.Pods().Get(context.Background(), "default", name)
	if err != nil {
		return true
	}
	return p.DeletionTimestamp != nil
}

func secs(n int64) *int64 { return &n }

// TestSilentNode: a node whose Lease stops being renewed becomes Unknown
// after the grace period (50 s), gets both unreachable taints, its pods are
// marked not Ready; a pod tolerating 0 s is evicted at once, one tolerating
// for 30 s after 30 s, one tolerating forever never. When it comes back
// the taints go.
func TestSilentNode(t *testing.T) {
	x := newSim(t, nodelifecycle.Config{})
	x.node("n1", "a")
	x.node("n2", "a")
	x.node("n3", "a")
	unreachable := func(s *int64) api.Toleration {
		return api.Toleration{Key: nodelifecycle.TaintUnreachable, Operator: api.TolerationOpExists, Effect: api.TaintEffectNoExecute, TolerationSeconds: s}
	}
	// The apiserver gives every pod 300 s tolerations unless it has its own.
	x.pod("plain", "n1", unreachable(secs(0)))
	x.pod("tolerant", "n1", unreachable(secs(30)))
	x.pod("forever", "n1", unreachable(nil))
	x.pod("elsewhere", "n2")
	x.step(0)
	delete(x.live, "n1") // the kubelet of n1 stops
	for i := range 10 {  // 50 s: still within the grace period
		x.step(5 * time.Second)
		if got := ready(x.get("n1")); got != api.ConditionTrue {
			t.Fatalf("after %ds n1 Ready=%s, want True within the grace period", (i+1)*5, got)
		}
	}
	x.step(5 * time.Second) // 55 s
	n1 := x.get("n1")
	if got := ready(n1); got != api.ConditionUnknown {
		t.Fatalf("n1 Ready=%s after 55 s of silence, want Unknown", got)
	}
	want := []string{nodelifecycle.TaintUnreachable + ":NoExecute", nodelifecycle.TaintUnreachable + ":NoSchedule"}
	if got := taints(n1); !slices.Equal(got, want) {
		t.Fatalf("n1 taints %v, want %v", got, want)
	}
	if got := taints(x.get("n2")); len(got) != 0 {
		t.Errorf("n2 taints %v, want none", got)
	}
	if !x.terminating("plain") {
		t.Error("plain pod not evicted at once")
	}
	if x.terminating("tolerant") || x.terminating("forever") || x.terminating("elsewhere") {
		t.Error("a tolerating pod or a pod of a healthy node was evicted at once")
	}
	p, _ := x.cs.Pods().Get(context.Background(), "default", "forever")
	if p.Status.Conditions[0].Status != api.ConditionFalse {
		t.Errorf("pod on the silent node still Ready: %+v", p.Status.Conditions)
	}
	for range 5 { // 25 s after the taint
		x.step(5 * time.Second)
	}
	if x.terminating("tolerant") {
		t.Fatal("tolerant pod evicted before its 30 s")
	}
	x.step(5 * time.Second) // 30 s
	if !x.terminating("tolerant") {
		t.Fatal("tolerant pod not evicted after its 30 s")
	}
	for range 20 {
		x.step(5 * time.Second)
	}
	if x.terminating("forever") || x.terminating("elsewhere") {
		t.Fatal("pod tolerating forever, or pod on a healthy node, evicted")
	}
	// The kubelet comes back and posts Ready.
	ctx := context.Background()
	n1 = x.get("n1")
	now := store.NewTime(x.clock.Now())
	n1.Status.Conditions = []api.NodeCondition{{Type: api.NodeReady, Status: api.ConditionTrue, LastHeartbeatTime: now, LastTransitionTime: now}}
	if _, err := x.cs.Nodes().UpdateStatus(ctx, n1); err != nil {
		t.Fatal(err)
	}
	x.live["n1"] = true
	x.step(5 * time.Second)
	if got := taints(x.get("n1")); len(got) != 0 {
		t.Errorf("n1 taints %v after it came back, want none", got)
	}
}

// TestRateLimits: in a healthy zone NoExecute taints are added at the
// primary rate (one per 10 s); a small zone with most nodes down
// (PartialDisruption) gets none, only NoSchedule; when every zone is down
// no NoExecute taint is added.
func TestRateLimits(t *testing.T) {
	x := newSim(t, nodelifecycle.Config{})
	for i := range 6 {
		x.node(fmt.Sprint("a", i), "a")
	}
	for i := range 5 {
		x.node(fmt.Sprint("b", i), "b")
	}
	x.step(0)
	delete(x.live, "a0")
	delete(x.live, "a1")
	for i := range 4 {
		delete(x.live, fmt.Sprint("b", i))
	}
	for range 11 { // 55 s: all six silent nodes Unknown at once
		x.step(5 * time.Second)
	}
	states := x.c.ZoneStates()
	if states[":\x00:a"] != nodelifecycle.StateNormal || states[":\x00:b"] != nodelifecycle.StatePartialDisruption {
		t.Fatalf("zone states %q", states)
	}
	noExec := func(prefix string) int {
		n := 0
		for i := range map[string]int{"a": 6, "b": 5}[prefix] {
			if slices.Contains(taints(x.get(fmt.Sprint(prefix, i))), nodelifecycle.TaintUnreachable+":NoExecute") {
				n++
			}
		}
		return n
	}
	if got := noExec("a"); got != 1 {
		t.Fatalf("zone a: %d NoExecute taints right away, want 1 (rate 0.1/s)", got)
	}
	x.step(5 * time.Second)
	if got := noExec("a"); got != 1 {
		t.Fatalf("zone a: %d NoExecute taints after 5 s, want still 1", got)
	}
	x.step(5 * time.Second)
	if got := noExec("a"); got != 2 {
		t.Fatalf("zone a: %d NoExecute taints after 10 s, want 2", got)
	}
	for range 10 {
		x.step(5 * time.Second)
	}
	if got := noExec("b"); got != 0 {
		t.Errorf("zone b (partially disrupted, small): %d NoExecute taints, want 0", got)
	}
	if got := taints(x.get("b0")); !slices.Contains(got, nodelifecycle.TaintUnreachable+":NoSchedule") {
		t.Errorf("b0 taints %v, want NoSchedule unreachable", got)
	}
	// Every node down: the NoExecute taints are withdrawn.
	x.live = map[string]bool{}
	for range 12 {
		x.step(5 * time.Second)
	}
	if got := noExec("a"); got != 0 {
		t.Errorf("every zone down: %d NoExecute taints in a, want 0", got)
	}
}

func TestConfigValidate(t *testing.T) {
	cs := &client.Clientset{}
	for _, c := range []nodelifecycle.Config{{}, {Client: cs, NodeMonitorGracePeriod: -1}, {Client: cs, EvictionLimiterQPS: -1},
		{Client: cs, UnhealthyZoneThreshold: 1.5}, {Client: cs, LargeClusterSizeThreshold: -1}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
		if _, err := nodelifecycle.New(c); err == nil {
			t.Errorf("New(%+v): no error", c)
		}
	}
}
