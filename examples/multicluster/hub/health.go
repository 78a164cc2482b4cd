package hub

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/store"
)

// Reasons of the ManagedCluster conditions the hub sets.
const (
	ReasonHeartbeatReceived  = "HeartbeatReceived"
	ReasonHeartbeatMissed    = "HeartbeatMissed"
	ReasonNoHeartbeat        = "NoHeartbeatYet"
	ReasonTunnelConnected    = "TunnelConnected"
	ReasonTunnelDisconnected = "TunnelDisconnected"
	ReasonHealthy            = "Healthy"
	ReasonChildNotReady      = "ChildAPIServerNotReady"
)

// registry is the hub's in-memory view of its managed clusters: the last
// heartbeat of each, its live tunnel sessions, and the conditions derived
// from them. Every change is recomputed at once (a tunnel that drops makes
// the cluster not ready immediately; a heartbeat that is grace late does
// so when the grace timer fires on the clock).
type registry struct {
	clock   clockwork.Clock
	grace   time.Duration
	mu      sync.Mutex
	byID    map[string]*clusterState
	changed chan struct{} // closed and replaced on every change
}

type clusterState struct {
	id            string
	status        multicluster.ManagedClusterStatus // the last heartbeat's, with the hub's conditions
	lastHeartbeat time.Time                         // zero: none yet
	sessions      int
	timer         clockwork.Timer
}

func newRegistry(clock clockwork.Clock, grace time.Duration) *registry {
	return &registry{clock: clock, grace: grace, byID: map[string]*clusterState{}, changed: make(chan struct{})}
}

// state returns id's state, creating it; r.mu is held.
func (r *registry) state(id string) *clusterState {
	s := r.byID[id]
	if s == nil {
		s = &clusterState{id: id}
		r.byID[id] = s
	}
	return s
}

// heartbeat records a heartbeat of id.
func (r *registry) heartbeat(id string, st multicluster.ManagedClusterStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.state(id)
	now := r.clock.Now()
	conds := s.status.Conditions
	s.status = st
	s.status.Conditions = conds
	s.status.LastObservedTime = store.NewTime(now)
	s.lastHeartbeat = now
	if s.timer == nil {
		s.timer = r.clock.AfterFunc(r.grace, func() { r.expire(id) })
	} else {
		s.timer.Reset(r.grace)
	}
	r.update(s)
}

// expire re-judges id when its grace timer fires.
func (r *registry) expire(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.byID[id]; s != nil {
		r.update(s)
	}
}

// connected counts a tunnel session of id up (+1) or down (-1).
func (r *registry) connected(id string, delta int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.state(id)
	s.sessions += delta
	r.update(s)
}

// update recomputes s's conditions; r.mu is held.
func (r *registry) update(s *clusterState) {
	now := r.clock.Now()
	fresh := !s.lastHeartbeat.IsZero() && now.Sub(s.lastHeartbeat) < r.grace
	var hb api.Condition
	switch {
	case s.lastHeartbeat.IsZero():
		hb = cond(multicluster.ConditionHeartbeatFresh, false, ReasonNoHeartbeat, "the agent has sent no heartbeat")
	case fresh:
		hb = cond(multicluster.ConditionHeartbeatFresh, true, ReasonHeartbeatReceived, "last heartbeat at "+s.lastHeartbeat.UTC().Format(time.RFC3339))
	default:
		hb = cond(multicluster.ConditionHeartbeatFresh, false, ReasonHeartbeatMissed,
			"no heartbeat since "+s.lastHeartbeat.UTC().Format(time.RFC3339)+", longer than the grace period "+r.grace.String())
	}
	tun := cond(multicluster.ConditionTunnelConnected, true, ReasonTunnelConnected, "the agent's tunnel is up")
	if s.sessions <= 0 {
		tun = cond(multicluster.ConditionTunnelConnected, false, ReasonTunnelDisconnected, "the agent's tunnel is down")
	}
	ready := cond(multicluster.ConditionReady, true, ReasonHealthy, "heartbeat fresh, tunnel up, child apiserver ready")
	var why []string
	for _, c := range []api.Condition{hb, tun} {
		if c.Status != api.ConditionTrue {
			why = append(why, c.Reason)
		}
	}
	if fresh && !s.status.Readyz {
		why = append(why, ReasonChildNotReady)
	}
	if len(why) > 0 {
		ready = cond(multicluster.ConditionReady, false, why[0], "not ready: "+strings.Join(why, ", "))
	}
	before := slices.Clone(s.status.Conditions)
	s.status.Conditions = setConditions(s.status.Conditions, now, ready, hb, tun)
	if !slices.EqualFunc(before, s.status.Conditions, func(a, b api.Condition) bool { return a == b }) {
		close(r.changed)
		r.changed = make(chan struct{})
	}
}

func cond(typ string, ok bool, reason, msg string) api.Condition {
	st := api.ConditionFalse
	if ok {
		st = api.ConditionTrue
	}
	return api.Condition{Type: typ, Status: st, Reason: reason, Message: msg}
}

// setConditions replaces the conditions of the types given, keeping the
// transition time of one whose status did not change.
func setConditions(old []api.Condition, now time.Time, conds ...api.Condition) []api.Condition {
	out := make([]api.Condition, 0, len(conds))
	for _, c := range conds {
		c.LastTransitionTime = store.NewTime(now)
		for _, o := range old {
			if o.Type == c.Type && o.Status == c.Status {
				c.LastTransitionTime = o.LastTransitionTime
			}
		}
		out = append(out, c)
	}
	return out
}

// get returns id's ManagedCluster.
func (r *registry) get(id string) (*multicluster.ManagedCluster, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.byID[id]
	if !ok {
		return nil, false
	}
	return s.object(), true
}

// list returns every ManagedCluster, by ID.
func (r *registry) list() []multicluster.ManagedCluster {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]multicluster.ManagedCluster, 0, len(r.byID))
	for _, s := range r.byID {
		out = append(out, *s.object())
	}
	slices.SortFunc(out, func(a, b multicluster.ManagedCluster) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// object is s as a ManagedCluster (a deep copy); the registry's lock is
// held.
func (s *clusterState) object() *multicluster.ManagedCluster {
	mc := &multicluster.ManagedCluster{
		TypeMeta:   store.TypeMeta{APIVersion: multicluster.GroupVersion, Kind: "ManagedCluster"},
		ObjectMeta: store.ObjectMeta{Name: s.id, Namespace: multicluster.ClusterNamespace(s.id)},
		Spec:       multicluster.ManagedClusterSpec{ClusterID: s.id, SyncMode: multicluster.SyncPull},
		Status:     s.status,
	}
	return mc.DeepCopy()
}

// forget drops id.
func (r *registry) forget(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.byID[id]; s != nil {
		if s.timer != nil {
			s.timer.Stop()
		}
		delete(r.byID, id)
		close(r.changed)
		r.changed = make(chan struct{})
	}
}

// changes returns a channel closed at the next change of any condition.
func (r *registry) changes() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}

// stop stops the grace timers.
func (r *registry) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.byID {
		if s.timer != nil {
			s.timer.Stop()
		}
	}
}

// writeStatuses copies the hub's view of each cluster (its last heartbeat
// and the conditions) into the status of its ManagedCluster in the parent
// whenever a heartbeat arrives or a condition changes, until ctx ends. A
// cluster without a ManagedCluster (not registered through the hub) is
// skipped; a failed write is retried at the next change.
func (h *Hub) writeStatuses(ctx context.Context) {
	for {
		changed := h.reg.changes()
		for _, c := range h.reg.list() {
			cur, err := h.managed.Get(ctx, c.Namespace, c.Name)
			if err != nil {
				if !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
					h.log.Warn("reading managed cluster", "cluster", c.Name, "err", err)
				}
				continue
			}
			if reflect.DeepEqual(cur.Status, c.Status) {
				continue
			}
			cur.Status = c.Status
			if _, err := h.managed.UpdateStatus(ctx, cur); err != nil && ctx.Err() == nil {
				h.log.Warn("writing managed cluster status", "cluster", c.Name, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-h.beat:
		}
	}
}
