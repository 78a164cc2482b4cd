package nodelifecycle

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
)

// nodeIndex indexes pods by node name.
const nodeIndex = "nodelifecycle.node"

// health is what the controller last observed of a node's heartbeats,
// and when (on its own clock, so the kubelet's clock does not matter).
type health struct {
	renew, heartbeat string
	probe            time.Time
}

// Controller watches node heartbeats, marks silent nodes Unknown, taints
// unhealthy nodes and evicts the pods that do not tolerate the taints;
// see the package documentation.
type Controller struct {
	cfg    Config
	log    *slog.Logger
	nodes  *informer.Informer[*api.Node]
	pods   *informer.Informer[*api.Pod]
	leases *informer.Informer[*election.Lease]

	mu      sync.Mutex
	health  map[string]*health
	buckets map[string]*bucket   // zone -> NoExecute taint limiter
	queue   map[string][]string  // zone -> nodes waiting for a NoExecute taint
	states  map[string]ZoneState // zone -> state

	evictions *prometheus.CounterVec
	zoneGauge *prometheus.GaugeVec
}

// New checks cfg and builds the controller; it sends no request.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	c := &Controller{cfg: cfg, log: cfg.Logger.With("controller", "nodelifecycle"), health: map[string]*health{},
		buckets: map[string]*bucket{}, queue: map[string][]string{}, states: map[string]ZoneState{}}
	var err error
	f := cfg.Client.Informers()
	if c.nodes, _, err = informer.Shared(f, cfg.Client.Nodes(), informer.Config[*api.Node]{}); err != nil {
		return nil, fmt.Errorf("nodelifecycle: %w", err)
	}
	if c.pods, _, err = informer.Shared(f, cfg.Client.Pods(), informer.Config[*api.Pod]{Indexers: map[string]informer.IndexFunc[*api.Pod]{
		nodeIndex: func(p *api.Pod) []string {
			if p.Spec.NodeName == "" {
				return nil
			}
			return []string{p.Spec.NodeName}
		}}}); err != nil {
		return nil, fmt.Errorf("nodelifecycle: %w", err)
	}
	if c.leases, _, err = informer.Shared(f, cfg.Client.Leases(), informer.Config[*election.Lease]{Namespace: LeaseNamespace}); err != nil {
		return nil, fmt.Errorf("nodelifecycle: %w", err)
	}
	c.evictions = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "setpoint", Subsystem: "nodelifecycle", Name: "evictions_total",
		Help: "Pods deleted by taint-based eviction, by zone."}, []string{"zone"})
	c.zoneGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "setpoint", Subsystem: "nodelifecycle", Name: "zone_health",
		Help: "Percentage of Ready nodes per zone."}, []string{"zone"})
	if cfg.Registerer != nil {
		for _, m := range []prometheus.Collector{c.evictions, c.zoneGauge} {
			if err := cfg.Registerer.Register(m); err != nil {
				return nil, fmt.Errorf("nodelifecycle: %w", err)
			}
		}
	}
	return c, nil
}

// WaitForSync waits until the controller's caches (nodes, pods, node
// Leases) are filled, or ctx ends.
func (c *Controller) WaitForSync(ctx context.Context) error {
	for _, w := range []interface{ WaitForSync(context.Context) error }{c.nodes, c.pods, c.leases} {
		if err := w.WaitForSync(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Run waits for the caches and runs Monitor every NodeMonitorPeriod until
// ctx ends. A failed pass is logged and the next one retries.
func (c *Controller) Run(ctx context.Context) error {
	if err := c.WaitForSync(ctx); err != nil {
		return nil // ctx ended
	}
	t := c.cfg.Clock.NewTicker(c.cfg.NodeMonitorPeriod)
	defer t.Stop()
	for {
		if err := c.Monitor(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("node monitor pass incomplete", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.Chan():
		}
	}
}

// ZoneStates returns the zone states of the last pass, by zone key
// (region and zone labels).
func (c *Controller) ZoneStates() map[string]ZoneState {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]ZoneState, len(c.states))
	for k, v := range c.states {
		out[k] = v
	}
	return out
}

// zoneOf is Kubernetes' zone key: region and zone labels.
func zoneOf(n *api.Node) string {
	return n.Labels["topology.kubernetes.io/region"] + ":\x00:" + n.Labels[api.LabelTopologyZone]
}

func readyCondition(n *api.Node) *api.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == api.NodeReady {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

func readyStatus(n *api.Node) api.ConditionStatus {
	if rc := readyCondition(n); rc != nil {
		return rc.Status
	}
	return api.ConditionUnknown
}

// Monitor makes one pass: node health, zone states, taints, evictions.
func (c *Controller) Monitor(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Clock.Now()
	var errs []error
	nodes := c.nodes.List()
	slices.SortFunc(nodes, func(a, b *api.Node) int { return cmp.Compare(a.Name, b.Name) })
	seen := map[string]bool{}
	for i, n := range nodes {
		seen[n.Name] = true
		upd, err := c.checkHealth(ctx, n, now)
		if err != nil {
			errs = append(errs, err)
		}
		nodes[i] = upd
	}
	for name := range c.health {
		if !seen[name] {
			delete(c.health, name)
		}
	}
	// Zone states and limiter rates.
	total, notReady := map[string]int{}, map[string]int{}
	for _, n := range nodes {
		z := zoneOf(n)
		total[z]++
		if readyStatus(n) != api.ConditionTrue {
			notReady[z]++
		}
	}
	allFull := len(total) > 0
	for z, t := range total {
		st := zoneState(t, notReady[z], c.cfg.UnhealthyZoneThreshold)
		c.states[z] = st
		allFull = allFull && st == StateFullDisruption
		c.zoneGauge.WithLabelValues(z).Set(100 * float64(t-notReady[z]) / float64(t))
	}
	for z := range c.states {
		if total[z] == 0 {
			delete(c.states, z)
			delete(c.buckets, z)
			delete(c.queue, z)
		}
	}
	for z, st := range c.states {
		qps := c.cfg.EvictionLimiterQPS
		switch {
		case allFull:
			qps = 0 // every zone down: the problem is likely ours, not the nodes'
		case st == StatePartialDisruption && total[z] > c.cfg.LargeClusterSizeThreshold:
			qps = c.cfg.SecondaryEvictionLimiterQPS
		case st == StatePartialDisruption:
			qps = 0
		}
		if c.buckets[z] == nil {
			c.buckets[z] = newBucket(qps, now)
		}
		c.buckets[z].setRate(qps, now)
	}
	// Taints.
	byName := map[string]*api.Node{}
	for _, n := range nodes {
		byName[n.Name] = n
		upd, err := c.taintPass(ctx, n, allFull)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		byName[n.Name] = upd
	}
	for _, z := range sortedKeys(c.queue) {
		q := c.queue[z]
		for len(q) > 0 {
			n := byName[q[0]]
			if n == nil || !c.wantsNoExecute(n, allFull) {
				q = q[1:]
				continue
			}
			if !c.buckets[z].take(now) {
				break
			}
			q = q[1:]
			upd, err := c.setTaints(ctx, n, api.TaintEffectNoExecute, wantedTaint(n), now)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			byName[n.Name] = upd
		}
		c.queue[z] = q
	}
	// Taint-based eviction.
	for _, n := range byName {
		errs = append(errs, c.evictPass(ctx, n, now))
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// checkHealth updates what is known of n's heartbeats and, past the grace
// period, marks its conditions Unknown and its pods not Ready. It returns
// the node as it now is.
func (c *Controller) checkHealth(ctx context.Context, n *api.Node, now time.Time) (*api.Node, error) {
	renew := ""
	if l, ok := c.leases.Get(LeaseNamespace, n.Name); ok && l.Spec.RenewTime != nil {
		renew = l.Spec.RenewTime.String()
	}
	rc := readyCondition(n)
	hb := ""
	if rc != nil {
		hb = rc.LastHeartbeatTime.String()
	}
	h := c.health[n.Name]
	if h == nil {
		h = &health{renew: renew, heartbeat: hb, probe: now}
		c.health[n.Name] = h
	} else if h.renew != renew || h.heartbeat != hb {
		h.renew, h.heartbeat, h.probe = renew, hb, now
	}
	grace := c.cfg.NodeMonitorGracePeriod
	if rc == nil {
		grace = c.cfg.NodeStartupGracePeriod
	}
	if now.Sub(h.probe) <= grace || (rc != nil && rc.Status == api.ConditionUnknown) {
		return n, nil
	}
	st := n.DeepCopy()
	t := store.NewTime(now)
	if rc == nil {
		st.Status.Conditions = append(st.Status.Conditions, api.NodeCondition{Type: api.NodeReady, Status: api.ConditionUnknown,
			Reason: "NodeStatusNeverUpdated", Message: "Kubelet never posted node status.", LastHeartbeatTime: t, LastTransitionTime: t})
	}
	for i := range st.Status.Conditions {
		cond := &st.Status.Conditions[i]
		switch cond.Type {
		case api.NodeReady, "MemoryPressure", "DiskPressure", "PIDPressure":
			if cond.Status != api.ConditionUnknown {
				cond.Status, cond.Reason, cond.Message, cond.LastTransitionTime = api.ConditionUnknown, "NodeStatusUnknown", "Kubelet stopped posting node status.", t
			}
		}
	}
	out, err := c.cfg.Client.Nodes().UpdateStatus(ctx, st)
	if err != nil {
		return n, fmt.Errorf("node %s: mark Unknown: %w", n.Name, err)
	}
	h.heartbeat = ""
	if rc := readyCondition(out); rc != nil {
		h.heartbeat = rc.LastHeartbeatTime.String()
	}
	c.log.Info("node stopped posting status", "object", n.Name, "silent", now.Sub(h.probe))
	c.cfg.Recorder.Eventf(ctx, out, api.NodeResource, controllerutil.EventNormal, "NodeNotReady", "Node %s status is now: NodeNotReady", n.Name)
	return out, c.markPodsNotReady(ctx, n.Name)
}

// markPodsNotReady sets the Ready condition of the node's pods False, as
// Kubernetes' MarkPodsNotReady does, so endpoints stop sending them traffic.
func (c *Controller) markPodsNotReady(ctx context.Context, node string) error {
	pods, _ := c.pods.ByIndex(nodeIndex, node)
	var errs []error
	for _, p := range pods {
		if !controllerutil.IsPodReady(p) {
			continue
		}
		st := p.DeepCopy()
		for i := range st.Status.Conditions {
			if st.Status.Conditions[i].Type == api.PodReady {
				st.Status.Conditions[i].Status = api.ConditionFalse
				st.Status.Conditions[i].LastTransitionTime = store.NewTime(c.cfg.Clock.Now())
			}
		}
		if _, err := c.cfg.Client.Pods().UpdateStatus(ctx, st); err != nil && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, fmt.Errorf("pod %s/%s: mark not ready: %w", p.Namespace, p.Name, err))
		}
	}
	return errors.Join(errs...)
}

// wantedTaint is the key of the taint n's Ready condition calls for, or ""
// when it is Ready.
func wantedTaint(n *api.Node) string {
	switch readyStatus(n) {
	case api.ConditionTrue:
		return ""
	case api.ConditionFalse:
		return TaintNotReady
	}
	return TaintUnreachable
}

func (c *Controller) wantsNoExecute(n *api.Node, allFull bool) bool {
	want := wantedTaint(n)
	return want != "" && !allFull && !hasTaint(n, want, api.TaintEffectNoExecute)
}

func hasTaint(n *api.Node, key string, effect api.TaintEffect) bool {
	return slices.ContainsFunc(n.Spec.Taints, func(t api.Taint) bool { return t.Key == key && t.Effect == effect })
}

// taintPass sets the NoSchedule taint at once, and for NoExecute: removes
// it from Ready nodes (and from every node when all zones are down),
// swaps not-ready and unreachable at once, and queues a new one behind
// the zone's rate limiter.
func (c *Controller) taintPass(ctx context.Context, n *api.Node, allFull bool) (*api.Node, error) {
	now := c.cfg.Clock.Now()
	want := wantedTaint(n)
	n, err := c.setTaints(ctx, n, api.TaintEffectNoSchedule, want, now)
	if err != nil {
		return n, err
	}
	hasNE := hasTaint(n, TaintNotReady, api.TaintEffectNoExecute) || hasTaint(n, TaintUnreachable, api.TaintEffectNoExecute)
	switch {
	case want == "" || allFull:
		if hasNE {
			return c.setTaints(ctx, n, api.TaintEffectNoExecute, "", now)
		}
	case hasTaint(n, want, api.TaintEffectNoExecute):
	case hasNE:
		return c.setTaints(ctx, n, api.TaintEffectNoExecute, want, now) // swap
	default:
		z := zoneOf(n)
		if !slices.Contains(c.queue[z], n.Name) {
			c.queue[z] = append(c.queue[z], n.Name)
		}
	}
	return n, nil
}

// setTaints makes n's managed taints of effect exactly want ("" none).
func (c *Controller) setTaints(ctx context.Context, n *api.Node, effect api.TaintEffect, want string, now time.Time) (*api.Node, error) {
	managed := func(t api.Taint) bool {
		return t.Effect == effect && (t.Key == TaintNotReady || t.Key == TaintUnreachable)
	}
	var have []string
	for _, t := range n.Spec.Taints {
		if managed(t) {
			have = append(have, t.Key)
		}
	}
	if (want == "" && len(have) == 0) || (len(have) == 1 && have[0] == want) {
		return n, nil
	}
	upd := n.DeepCopy()
	upd.Spec.Taints = slices.DeleteFunc(upd.Spec.Taints, managed)
	if want != "" {
		t := api.Taint{Key: want, Effect: effect}
		if effect == api.TaintEffectNoExecute {
			at := store.NewTime(now)
			t.TimeAdded = &at
		}
		upd.Spec.Taints = append(upd.Spec.Taints, t)
	}
	out, err := c.cfg.Client.Nodes().Update(ctx, upd)
	if err != nil {
		return n, fmt.Errorf("node %s: taints: %w", n.Name, err)
	}
	c.log.Info("node taints set", "object", n.Name, "effect", effect, "taint", want)
	return out, nil
}
