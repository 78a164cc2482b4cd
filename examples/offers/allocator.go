package offers

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
)

// Errors of the Allocator; each returned error wraps one and names the
// offer, framework, node or resource concerned.
var (
	// ErrInvalid: an argument is malformed (negative amount, bad config).
	ErrInvalid = errors.New("invalid argument")
	// ErrNotFound: no such node, framework or role.
	ErrNotFound = errors.New("not found")
	// ErrUnknownOffer: no offer has that ID.
	ErrUnknownOffer = errors.New("unknown offer")
	// ErrForeignOffer: the offer was made to another framework.
	ErrForeignOffer = errors.New("offer made to another framework")
	// ErrOfferClosed: the offer was already accepted, declined or rescinded.
	ErrOfferClosed = errors.New("offer no longer pending")
	// ErrOfferExpired: the offer's expiry time has passed.
	ErrOfferExpired = errors.New("offer expired")
	// ErrExceedsOffer: the tasks need more of a resource than the offer holds.
	ErrExceedsOffer = errors.New("tasks exceed offer")
	// ErrOvercommit: the change would put a node beyond its allocatable.
	ErrOvercommit = errors.New("node overcommitted")
)

// Config configures an Allocator. The zero value is valid.
type Config struct {
	// Clock is the time source; default the real clock.
	Clock clockwork.Clock
	// OfferTimeout is how long an offer stays pending before it expires
	// and its resources return to the pool. Default 30s.
	OfferTimeout time.Duration
	// HoardCycles: a framework that holds an offer through this many
	// cycles without accepting anything since it was made is hoarding:
	// all its pending offers are rescinded and it is offered nothing for
	// as many cycles. Default 5.
	HoardCycles int
	// ExpiredRefuse is how long a framework is not offered a node again
	// after its offer there expired unanswered, so that the resources go
	// to the next framework (as a decline with Mesos' default
	// refuse_seconds would). Default 5s.
	ExpiredRefuse time.Duration
	// Registerer receives the allocator's metrics; nil registers none.
	Registerer prometheus.Registerer
}

// Validate reports a bad configuration.
func (c Config) Validate() error {
	if c.OfferTimeout < 0 {
		return fmt.Errorf("offers config: OfferTimeout %s is negative: %w", c.OfferTimeout, ErrInvalid)
	}
	if c.ExpiredRefuse < 0 {
		return fmt.Errorf("offers config: ExpiredRefuse %s is negative: %w", c.ExpiredRefuse, ErrInvalid)
	}
	if c.HoardCycles < 0 {
		return fmt.Errorf("offers config: HoardCycles %d is negative: %w", c.HoardCycles, ErrInvalid)
	}
	return nil
}

// Role is the configuration of one role: its weight among roles, its
// quota and its reservations.
type Role struct {
	// Weight scales the role's fair share among roles; default 1.
	Weight int32
	// Quota bounds what the role's frameworks hold (allocated and
	// offered) in each resource it names; empty means no bound.
	Quota api.ResourceList
	// Reservations are resources on named nodes held for the role:
	// frameworks of other roles are never offered them.
	Reservations map[string]api.ResourceList
}

type node struct {
	name        string
	allocatable vec
	used        vec            // by pods the allocator did not place
	allocated   vec            // by frameworks' tasks
	offered     vec            // held by pending offers
	roleHeld    []vec          // by role id
	reserved    map[string]vec // role → reservation
}

type framework struct {
	name       string
	role       string
	weight     int64
	task       vec
	hasTask    bool
	total      vec
	totalMask  vec // 1 where TotalResources names the resource
	registered bool
	held       vec            // allocated + offered
	allocated  map[string]vec // node → allocated by its tasks
	filters    map[string]time.Time
	lastAccept int64 // cycle of the last accept
	suspended  int64 // offered nothing before this cycle
	// its children of the made and share metrics, looked up once
	madeTotal  prometheus.Counter
	shareGauge prometheus.Gauge
}

type role struct {
	id       int
	weight   int64
	quota    vec
	hasQuota vec // 1 where quota names the resource
	held     vec
}

// offer is a pending or recently answered offer in the books. A cycle
// makes thousands at once, in one slab, so the record is kept to one
// cache line (64 bytes): framework and node by pointer (a framework's or
// node's pending offers end before it leaves the books), resources by
// pointer to a vector and a map shared by the cycle's offers of equal
// size, expiry as nanoseconds from the Allocator's epoch, phase as an
// index in offerPhases.
type offer struct {
	seq       int64 // its ID is "o-<seq>"
	framework *framework
	node      *node
	res       *vec             // read-only, shared
	list      api.ResourceList // res as its API object holds it; read-only, shared
	expires   int64            // nanoseconds after epoch; made OfferTimeout before
	cycle     int64
	tasks     int32 // task increments made of res in its cycle
	phase     uint8 // index in offerPhases
}

// id is the offer's ID, its API object's name.
func (o *offer) id() string { return "o-" + strconv.FormatInt(o.seq, 10) }

// offerPhases are the phases an offer record's phase indexes.
var offerPhases = [...]offersapi.OfferPhase{offersapi.OfferPending, offersapi.OfferAccepted, offersapi.OfferDeclined, offersapi.OfferRescinded, offersapi.OfferExpired}

// phaseIndex is p's index in offerPhases (0, Pending, for any other).
func phaseIndex(p offersapi.OfferPhase) uint8 {
	for i, q := range offerPhases {
		if q == p {
			return uint8(i)
		}
	}
	return 0
}

// expiry is when o expires.
func (a *Allocator) expiry(o *offer) time.Time { return a.epoch.Add(time.Duration(o.expires)) }

// Allocator is the first level of two-level scheduling: it offers nodes'
// free resources to frameworks by weighted hierarchical Dominant Resource
// Fairness and keeps the books of offers and allocations. It is safe for
// concurrent use; every method runs under one lock.
type Allocator struct {
	mu            sync.Mutex
	clock         clockwork.Clock
	epoch         time.Time // the clock's now at New; offer expiries count from it
	timeout       time.Duration
	expiredRefuse time.Duration
	hoard         int64
	names         names
	nodes         map[string]*node
	nodeOrder     []string // sorted
	frameworks    map[string]*framework
	roles         map[string]*role
	reservations  map[string]map[string]vec // role → node → reserved
	offers        pendingOffers
	closed        map[int64]*offer // answered offers by seq, kept one timeout
	seq           int64
	cycle         int64
	total         vec // sum of allocatable
	metrics       *metrics
	changed       chan struct{} // closed and replaced when offers are made or end
}

// New returns an Allocator with no nodes, roles or frameworks.
func New(cfg Config) (*Allocator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.OfferTimeout == 0 {
		cfg.OfferTimeout = 30 * time.Second
	}
	if cfg.ExpiredRefuse == 0 {
		cfg.ExpiredRefuse = 5 * time.Second
	}
	if cfg.HoardCycles == 0 {
		cfg.HoardCycles = 5
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Allocator{
		clock: cfg.Clock, epoch: cfg.Clock.Now(), timeout: cfg.OfferTimeout, expiredRefuse: cfg.ExpiredRefuse, hoard: int64(cfg.HoardCycles),
		nodes: map[string]*node{}, frameworks: map[string]*framework{}, roles: map[string]*role{}, reservations: map[string]map[string]vec{},
		closed: map[int64]*offer{}, metrics: m, changed: make(chan struct{}),
	}, nil
}

// SetNode adds a node or changes its allocatable. Lowering allocatable
// below what the node's pods, tasks and offers hold is ErrOvercommit and
// changes nothing.
func (a *Allocator) SetNode(name string, allocatable api.ResourceList) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if name == "" {
		return fmt.Errorf("node name: required: %w", ErrInvalid)
	}
	v, err := a.names.vec("node "+name+" allocatable", allocatable)
	if err != nil {
		return err
	}
	n, ok := a.nodes[name]
	if !ok {
		n = &node{name: name, reserved: map[string]vec{}, roleHeld: make([]vec, len(a.roles))}
		for r, byNode := range a.reservations {
			if res, ok := byNode[name]; ok {
				n.reserved[r] = res
			}
		}
		a.nodes[name] = n
		i := sort.SearchStrings(a.nodeOrder, name)
		a.nodeOrder = append(a.nodeOrder, "")
		copy(a.nodeOrder[i+1:], a.nodeOrder[i:])
		a.nodeOrder[i] = name
	} else if !n.used.add(n.allocated).add(n.offered).fits(v) {
		return fmt.Errorf("node %s: allocatable below what pods, tasks and offers hold: %w", name, ErrOvercommit)
	}
	a.total = a.total.sub(n.allocatable).add(v)
	n.allocatable = v
	return nil
}

// SetNodeUsed records what pods the allocator did not place (those of the
// Kubernetes-style scheduler) use on a node. A value that would put the
// node beyond its allocatable, counting tasks and pending offers, is
// ErrOvercommit and changes nothing: offered resources are held.
func (a *Allocator) SetNodeUsed(name string, used api.ResourceList) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	n, ok := a.nodes[name]
	if !ok {
		return fmt.Errorf("node %s: %w", name, ErrNotFound)
	}
	v, err := a.names.vec("node "+name+" used", used)
	if err != nil {
		return err
	}
	if !v.add(n.allocated).add(n.offered).fits(n.allocatable) {
		return fmt.Errorf("node %s: used %v with tasks and offers exceeds allocatable: %w", name, used, ErrOvercommit)
	}
	n.used = v
	return nil
}

// RemoveNode removes a node: its pending offers are rescinded (reason
// NodeRemoved) and returned, and the allocations of tasks on it end.
func (a *Allocator) RemoveNode(name string) ([]offersapi.Offer, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n, ok := a.nodes[name]
	if !ok {
		return nil, fmt.Errorf("node %s: %w", name, ErrNotFound)
	}
	var out []offersapi.Offer
	for _, o := range a.sortedOffers(func(o *offer) bool { return o.node.name == name }) {
		a.close(o, offersapi.OfferRescinded)
		a.metrics.rescinded.WithLabelValues(o.framework.name, "NodeRemoved").Inc()
		out = append(out, a.object(o, "NodeRemoved"))
	}
	for _, f := range a.frameworks {
		if v, ok := f.allocated[name]; ok {
			f.held = f.held.sub(v)
			a.roleOf(f.role).held = a.roleOf(f.role).held.sub(v)
			delete(f.allocated, name)
		}
		delete(f.filters, name)
	}
	a.total = a.total.sub(n.allocatable)
	delete(a.nodes, name)
	i := sort.SearchStrings(a.nodeOrder, name)
	a.nodeOrder = append(a.nodeOrder[:i], a.nodeOrder[i+1:]...)
	a.gcFrameworks()
	a.updateShares()
	if len(out) > 0 {
		a.notify()
	}
	return out, nil
}

// SetRole configures a role; frameworks of an unconfigured role allocate
// with weight 1, no quota and no reservations.
func (a *Allocator) SetRole(name string, r Role) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if name == "" {
		return fmt.Errorf("role name: required: %w", ErrInvalid)
	}
	if r.Weight < 0 {
		return fmt.Errorf("role %s: weight %d is negative: %w", name, r.Weight, ErrInvalid)
	}
	q, err := a.names.vec("role "+name+" quota", r.Quota)
	if err != nil {
		return err
	}
	res := map[string]vec{}
	for nn, l := range r.Reservations {
		v, err := a.names.vec("role "+name+" reservation on "+nn, l)
		if err != nil {
			return err
		}
		res[nn] = v
	}
	ro := a.roleOf(name)
	ro.weight = max(int64(r.Weight), 1)
	ro.quota, ro.hasQuota = q, vec{}
	for n := range r.Quota {
		ro.hasQuota[a.names.index[n]] = 1
	}
	for _, n := range a.nodes {
		delete(n.reserved, name)
		if v, ok := res[n.name]; ok {
			n.reserved[name] = v
		}
	}
	a.reservations[name] = res
	return nil
}

func (a *Allocator) roleOf(name string) *role {
	r, ok := a.roles[name]
	if !ok {
		r = &role{id: len(a.roles), weight: 1}
		a.roles[name] = r
		for _, n := range a.nodes { // room for the role's books
			n.roleHeld = append(n.roleHeld, vec{})
		}
	}
	return r
}

// Changed returns a channel that is closed the next time offers are made
// or end (expire, are rescinded); a framework driver waits on it and then
// reads Pending.
func (a *Allocator) Changed() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.changed
}

// notify wakes the waiters of Changed.
func (a *Allocator) notify() {
	close(a.changed)
	a.changed = make(chan struct{})
}

// hold adds v (negative to subtract) to what role r holds on n.
func (n *node) hold(r *role, v vec, sign int64) {
	for len(n.roleHeld) <= r.id {
		n.roleHeld = append(n.roleHeld, vec{})
	}
	h := &n.roleHeld[r.id]
	for i := range v {
		h[i] += sign * v[i]
	}
}

// heldBy is what role r holds on n.
func (n *node) heldBy(r *role) vec {
	if r.id < len(n.roleHeld) {
		return n.roleHeld[r.id]
	}
	return vec{}
}
