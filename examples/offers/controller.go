package offers

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// Defaults of ControllerConfig.
const (
	DefaultCycleInterval  = time.Second
	DefaultLeaseNamespace = "kube-system"
	DefaultLeaseName      = "offers-allocator"
	// DefaultOfferRetention is how long an ended Offer object is kept
	// past its expiry time (see ControllerConfig.OfferRetention).
	DefaultOfferRetention = 10 * time.Minute
)

// ControllerConfig configures the allocator over the API (NewController).
type ControllerConfig struct {
	// Client reaches the apiserver, which must serve the offers group
	// (FrameworkKind, OfferKind). Required.
	Client *client.Clientset
	// Identity is this instance's name in the leader election. Required.
	Identity string
	// Allocator configures each term's allocator (offer timeout, hoarding,
	// metrics); its Clock defaults to Clock.
	Allocator Config
	// CycleInterval is the time between allocation rounds; default
	// DefaultCycleInterval. A change of nodes, pods, frameworks or offers
	// also starts a round.
	CycleInterval time.Duration
	// LeaseNamespace and LeaseName name the election's Lease; defaults
	// DefaultLeaseNamespace, DefaultLeaseName.
	LeaseNamespace, LeaseName string
	// OfferRetention is how long an ended Offer object (Accepted,
	// Declined, Expired or Rescinded) stays in the apiserver after its
	// spec.expiryTime, for frameworks and kubectl to read its outcome;
	// the leader then deletes it, so ended offers do not pile up in etcd
	// (as Kubernetes' ttl-after-finished controller removes finished
	// Jobs). Default DefaultOfferRetention; pending offers are never
	// deleted (they expire first).
	OfferRetention time.Duration
	// FrameworkLeaseNamespace is where frameworks' liveness Leases
	// (FrameworkLeaseName) live; default DefaultLeaseNamespace.
	FrameworkLeaseNamespace string
	// LeaseDuration, RenewDeadline, RetryPeriod: election.Config's
	// (zero: its defaults).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Clock drives rounds and the election; default the real clock.
	Clock clockwork.Clock
	// Logger receives the controller's logs; default discard.
	Logger *slog.Logger
}

// Validate reports the first invalid field.
func (c *ControllerConfig) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("offers: ControllerConfig.Client is required")
	case c.Identity == "":
		return errors.New("offers: ControllerConfig.Identity is required")
	case c.CycleInterval < 0:
		return fmt.Errorf("offers: ControllerConfig.CycleInterval %v is negative", c.CycleInterval)
	case c.OfferRetention < 0:
		return fmt.Errorf("offers: ControllerConfig.OfferRetention %v is negative", c.OfferRetention)
	}
	return c.Allocator.Validate()
}

// Controller is the first level of two-level scheduling over the
// apiserver: while it leads, it feeds an Allocator from informers of
// Nodes, Pods and Frameworks, writes each cycle's offers as Offer objects
// (and their end: expired, rescinded), binds the task pods a framework
// names in an offer's spec.tasks through pods/binding, and writes each
// Framework's status. Every write carries the leader's fence.
type Controller struct {
	cfg        ControllerConfig
	log        *slog.Logger
	nodes      *informer.Informer[*api.Node]
	pods       *informer.Informer[*api.Pod]
	frameworks *informer.Informer[*offersapi.Framework]
	offers     *informer.Informer[*offersapi.Offer]
	leases     *informer.Informer[*election.Lease]
	fwClient   *rest.Client[*offersapi.Framework]
	offClient  *rest.Client[*offersapi.Offer]
	elector    *election.Elector
	kick       chan struct{}
	led        chan error
}

// NewController validates cfg and builds the controller.
func NewController(cfg ControllerConfig) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Allocator.Clock == nil {
		cfg.Allocator.Clock = cfg.Clock
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CycleInterval == 0 {
		cfg.CycleInterval = DefaultCycleInterval
	}
	if cfg.OfferRetention == 0 {
		cfg.OfferRetention = DefaultOfferRetention
	}
	if cfg.LeaseNamespace == "" {
		cfg.LeaseNamespace = DefaultLeaseNamespace
	}
	if cfg.LeaseName == "" {
		cfg.LeaseName = DefaultLeaseName
	}
	if cfg.FrameworkLeaseNamespace == "" {
		cfg.FrameworkLeaseNamespace = DefaultLeaseNamespace
	}
	c := &Controller{cfg: cfg, log: cfg.Logger, kick: make(chan struct{}, 1), led: make(chan error, 1)}
	var err error
	if c.fwClient, err = client.For[*offersapi.Framework](cfg.Client, offersapi.FrameworkResource); err != nil {
		return nil, err
	}
	if c.offClient, err = client.For[*offersapi.Offer](cfg.Client, offersapi.OfferResource); err != nil {
		return nil, err
	}
	if c.nodes, err = newInformer(c, cfg.Client.Nodes(), "nodes"); err != nil {
		return nil, err
	}
	if c.pods, err = newInformer(c, cfg.Client.Pods(), "pods"); err != nil {
		return nil, err
	}
	if c.frameworks, err = newInformer(c, c.fwClient, "frameworks"); err != nil {
		return nil, err
	}
	if c.offers, err = newInformer(c, c.offClient, "offers"); err != nil {
		return nil, err
	}
	if c.leases, err = newInformer(c, cfg.Client.Leases(), "leases"); err != nil {
		return nil, err
	}
	lock, err := election.NewObjectLock(cfg.Client.Leases(), cfg.LeaseNamespace, cfg.LeaseName)
	if err != nil {
		return nil, fmt.Errorf("offers: %w", err)
	}
	c.elector, err = election.New(election.Config{Lock: lock, Identity: cfg.Identity,
		LeaseDuration: cfg.LeaseDuration, RenewDeadline: cfg.RenewDeadline, RetryPeriod: cfg.RetryPeriod,
		ReleaseOnCancel: true, Clock: cfg.Clock, Logger: cfg.Logger.With("component", "election"),
		Callbacks: election.Callbacks{OnStartedLeading: func(lctx context.Context) { c.led <- c.lead(lctx) }}})
	if err != nil {
		return nil, fmt.Errorf("offers: %w", err)
	}
	return c, nil
}

func newInformer[T store.Object](c *Controller, lw informer.ListerWatcher[T], name string) (*informer.Informer[T], error) {
	icfg := informer.Config[T]{Name: "offers-" + name, Clock: c.cfg.Clock, Logger: c.log}
	if name == "leases" {
		icfg.Namespace = c.cfg.FrameworkLeaseNamespace
	}
	inf, err := informer.New[T](lw, icfg)
	if err != nil {
		return nil, fmt.Errorf("offers: %s informer: %w", name, err)
	}
	kick := func() {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	if _, err := inf.AddHandler(informer.HandlerFuncs[T]{
		AddFunc: func(T, bool) { kick() }, UpdateFunc: func(T, T) { kick() }, DeleteFunc: func(T, bool) { kick() },
	}); err != nil {
		return nil, err
	}
	return inf, nil
}

// IsLeader reports whether c holds the lease now.
func (c *Controller) IsLeader() bool { return c.elector.IsLeader() }

// Run runs the informers and campaigns; while it leads it allocates. It
// returns nil when ctx ends, or the error that stopped it (leadership
// lost included).
func (c *Controller) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.nodes.Run(gctx) })
	g.Go(func() error { return c.pods.Run(gctx) })
	g.Go(func() error { return c.frameworks.Run(gctx) })
	g.Go(func() error { return c.offers.Run(gctx) })
	g.Go(func() error { return c.leases.Run(gctx) })
	g.Go(func() error {
		if err := c.elector.Run(gctx); err != nil && gctx.Err() == nil {
			return fmt.Errorf("offers: election: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		select {
		case <-gctx.Done():
			return nil
		case err := <-c.led:
			if gctx.Err() != nil {
				return nil
			}
			if err == nil {
				err = errors.New("offers: leadership lost")
			}
			return err
		}
	})
	return g.Wait()
}

// term is one leadership term's state.
type term struct {
	a *Allocator
	// prefix starts the names of the term's Offer objects (the
	// allocator's offer IDs restart with each term): "<random>-".
	prefix string
	// launched are the task pods this term bound, by UID.
	launched map[string]launch
	// frameworks and nodes registered with a.
	frameworks, nodes map[string]bool
	// rejected are the offers whose accept was rejected, with the tasks
	// it named: the same accept is not examined again, a changed one is.
	rejected map[string]string
	// accepted are the offers this term accepted or declined (the
	// informer may not show their new phase yet).
	accepted map[string]bool
	// leaseSeen is, by framework, its Lease's resourceVersion and when
	// (on the controller's clock) this term first saw it.
	leaseSeen map[string]leaseSeen
}

type leaseSeen struct {
	rv string
	at time.Time
}

// FrameworkLeaseName is the name of framework's liveness Lease, which its
// driver renews (in ControllerConfig.FrameworkLeaseNamespace).
func FrameworkLeaseName(framework string) string { return "offers-framework-" + framework }

// connected reports whether framework is connected: it has no Lease (it
// was registered by hand and leaves by deleting its Framework), or its
// Lease has a holder and was renewed within its duration. As Kubernetes'
// node lifecycle controller does with node Leases, a renewal is timed by
// when this controller saw the Lease change, on its own clock, never by
// the renew time the framework wrote: clocks need not agree.
func (c *Controller) connected(t *term, framework string, now time.Time) bool {
	l, ok := c.leases.Get(c.cfg.FrameworkLeaseNamespace, FrameworkLeaseName(framework))
	if !ok {
		delete(t.leaseSeen, framework)
		return true
	}
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" {
		return false
	}
	s, ok := t.leaseSeen[framework]
	if !ok || s.rv != l.ResourceVersion {
		s = leaseSeen{rv: l.ResourceVersion, at: now}
		t.leaseSeen[framework] = s
	}
	d := DefaultFrameworkLeaseDuration
	if l.Spec.LeaseDurationSeconds != nil {
		d = time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
	}
	return now.Sub(s.at) < d
}

// DefaultFrameworkLeaseDuration is the duration of a framework Lease that
// states none.
const DefaultFrameworkLeaseDuration = 15 * time.Second

type launch struct {
	framework, node string
	namespace, name string
	res             api.ResourceList
}

// gone reports whether the launched pod is deleted, replaced or ended,
// by a fresh read from the apiserver (an error other than not found
// counts as not gone: the next round asks again).
func (l launch) gone(ctx context.Context, c *Controller) bool {
	p, err := c.cfg.Client.Pods().Get(ctx, l.namespace, l.name)
	if errors.Is(err, store.ErrNotFound) {
		return true
	}
	if err != nil {
		return false
	}
	return p.Spec.NodeName != l.node || p.Status.Phase == api.PodSucceeded || p.Status.Phase == api.PodFailed
}

// lead allocates until lctx (the leader's, fenced) ends. A new term
// starts from scratch: it rescinds the pending offers of the last one
// (reason LeaderChanged), and counts pods bound before it as used, not
// as any framework's allocation.
func (c *Controller) lead(lctx context.Context) error {
	for _, s := range []interface{ WaitForSync(context.Context) error }{c.nodes, c.pods, c.frameworks, c.offers, c.leases} {
		if err := s.WaitForSync(lctx); err != nil {
			return nil
		}
	}
	a, err := New(c.cfg.Allocator)
	if err != nil {
		return err
	}
	t := &term{a: a, prefix: strings.ToLower(rand.Text()[:8]) + "-", launched: map[string]launch{}, frameworks: map[string]bool{}, nodes: map[string]bool{},
		rejected: map[string]string{}, accepted: map[string]bool{}, leaseSeen: map[string]leaseSeen{}}
	for _, o := range c.offers.List() {
		if o.Status.Phase == "" || o.Status.Phase == offersapi.OfferPending {
			c.writeOfferStatus(lctx, o.Name, offersapi.OfferRescinded, "LeaderChanged", "made by an earlier leader")
		}
	}
	// Allocation cycles run every CycleInterval (as Mesos' allocation
	// interval batches them) and when nodes or frameworks come or go;
	// other changes (accepts, declines, pods) are answered at once
	// without a cycle, so that a framework busy accepting is not counted
	// hoarding by a burst of cycles.
	timer := c.cfg.Clock.NewTimer(c.cfg.CycleInterval)
	defer timer.Stop()
	cycle := true
	for {
		if err := c.round(lctx, t, cycle); err != nil {
			c.log.Error("allocation round", "err", err)
		}
		cycle = false
		select {
		case <-lctx.Done():
			return nil
		case <-c.kick:
		case <-timer.Chan():
			cycle = true
			timer.Reset(c.cfg.CycleInterval)
		}
	}
}

// round brings the allocator up to date with the informers, answers the
// accepted and declined offers, runs a cycle if cycle is set or the nodes
// or frameworks changed, and writes offers and framework statuses.
func (c *Controller) round(ctx context.Context, t *term, cycle bool) error {
	var errs []error
	// Nodes and frameworks: those gone end their offers.
	nodes := c.nodes.List()
	sets := fmt.Sprint(len(t.nodes), len(t.frameworks))
	errs = append(errs, c.syncSet(ctx, t.prefix, t.nodes, len(nodes), func(i int) (string, error) {
		return nodes[i].Name, t.a.SetNode(nodes[i].Name, nodes[i].Status.Allocatable)
	}, t.a.RemoveNode)...)
	// Frameworks: those disconnected are unregistered (their offers
	// rescinded, their tasks left running).
	now := c.cfg.Clock.Now()
	all := c.frameworks.List()
	var fws []*offersapi.Framework
	for _, f := range all {
		if c.connected(t, f.Name, now) {
			fws = append(fws, f)
		}
	}
	errs = append(errs, c.syncSet(ctx, t.prefix, t.frameworks, len(fws), func(i int) (string, error) {
		return fws[i].Name, t.a.Register(fws[i])
	}, t.a.Unregister)...)
	// Pods: released tasks, and what others use on each node.
	used := map[string]api.ResourceList{}
	live := map[string]bool{}
	for _, p := range c.pods.List() {
		if p.Status.Phase == api.PodSucceeded || p.Status.Phase == api.PodFailed {
			continue
		}
		// A task this term bound is live even while the informer still
		// shows it unbound.
		if _, ok := t.launched[string(p.UID)]; ok {
			live[string(p.UID)] = true
			continue
		}
		if p.Spec.NodeName != "" {
			used[p.Spec.NodeName] = used[p.Spec.NodeName].Add(podRequests(p))
		}
	}
	for uid, l := range t.launched {
		// Not in the informer: gone, or not seen yet (a pod the accept
		// read fresh from the apiserver); a fresh read tells.
		if !live[uid] && !l.gone(ctx, c) {
			continue
		}
		if !live[uid] {
			if err := t.a.Release(l.framework, l.node, l.res); err != nil {
				errs = append(errs, err)
			}
			delete(t.launched, uid)
		}
	}
	for name := range t.nodes {
		if err := t.a.SetNodeUsed(name, used[name]); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, c.collectEnded(ctx, t, now)...)
	// Accepts and declines; the accepted tasks are bound together after.
	var launches []launchBatch
	for _, o := range c.offers.List() {
		// An answer to an offer that ended (expired, rescinded) is
		// rejected too, by the allocator, naming why.
		if o.Status.Phase == "" || o.Status.Phase == offersapi.OfferAccepted || o.Status.Phase == offersapi.OfferDeclined || t.accepted[o.Name] {
			continue
		}
		switch {
		case o.Spec.Decline != nil && t.rejected[o.Name] != declineKey:
			c.decline(ctx, t, o)
		case len(o.Spec.Tasks) > 0 && t.rejected[o.Name] != strings.Join(o.Spec.Tasks, ","):
			if b, ok := c.accept(ctx, t, o); ok {
				launches = append(launches, b)
			}
		}
	}
	c.bindAll(ctx, t, launches)
	// The cycle. (Sets only grow or shrink by syncSet, so a change of
	// membership shows in their sizes unless one came as another went;
	// the next interval's cycle catches that.)
	if !cycle && sets == fmt.Sprint(len(t.nodes), len(t.frameworks)) {
		return errors.Join(append(errs, c.writeFrameworkStatuses(ctx, t, all)...)...)
	}
	res := t.a.Cycle()
	c.writeEnded(ctx, t.prefix, res.Ended)
	for _, o := range res.Offers() {
		o.Name = t.prefix + o.Name
		// A create starts with an empty status (status subresource):
		// the phase is written after.
		created, err := c.offClient.Create(ctx, &o)
		if err == nil {
			created.Status.Phase = offersapi.OfferPending
			_, err = c.offClient.UpdateStatus(ctx, created)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("offer %s: %w", o.Name, err))
		}
	}
	errs = append(errs, c.writeFrameworkStatuses(ctx, t, all)...)
	return errors.Join(errs...)
}

// writeFrameworkStatuses writes the status of each framework whose
// allocator status changed.
func (c *Controller) writeFrameworkStatuses(ctx context.Context, t *term, all []*offersapi.Framework) []error {
	var errs []error
	for _, f := range all {
		name := f.Name
		st, err := t.a.Status(name)
		if err != nil {
			// Disconnected and holding nothing.
			st = offersapi.FrameworkStatus{DominantShare: "0.0000"}
		}
		if f.Status.DominantShare == st.DominantShare && f.Status.Registered == st.Registered &&
			equalLists(f.Status.Allocated, st.Allocated) {
			continue
		}
		f = f.DeepCopy()
		f.Status.DominantShare, f.Status.Registered, f.Status.Allocated = st.DominantShare, st.Registered, st.Allocated
		if _, err := c.fwClient.UpdateStatus(ctx, f); err != nil && !errors.Is(err, store.ErrConflict) {
			errs = append(errs, fmt.Errorf("framework %s status: %w", name, err))
		}
	}
	return errs
}

// syncSet brings the allocator's set of names (nodes or frameworks) up to
// date: add(i) adds or updates the i-th of n current objects and returns
// its name; remove takes out a name no longer current, whose ended offers
// are written.
func (c *Controller) syncSet(ctx context.Context, prefix string, set map[string]bool, n int, add func(i int) (string, error),
	remove func(string) ([]offersapi.Offer, error)) []error {
	var errs []error
	seen := map[string]bool{}
	for i := range n {
		name, err := add(i)
		seen[name] = true
		if err != nil {
			errs = append(errs, err)
			continue
		}
		set[name] = true
	}
	for name := range set {
		if !seen[name] {
			ended, _ := remove(name)
			delete(set, name)
			c.writeEnded(ctx, prefix, ended)
		}
	}
	return errs
}

// collectEnded deletes the Offer objects that ended (Accepted, Declined,
// Expired, Rescinded) and whose expiry time is OfferRetention past, and
// forgets them in the term.
func (c *Controller) collectEnded(ctx context.Context, t *term, now time.Time) []error {
	var errs []error
	for _, o := range c.offers.List() {
		switch o.Status.Phase {
		case offersapi.OfferAccepted, offersapi.OfferDeclined, offersapi.OfferExpired, offersapi.OfferRescinded:
		default:
			continue
		}
		if now.Before(o.Spec.ExpiryTime.Add(c.cfg.OfferRetention)) {
			continue
		}
		if err := c.offClient.DeleteNow(ctx, "", o.Name, store.WithPreconditionUID(o.UID)); err != nil && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, fmt.Errorf("deleting ended offer %s: %w", o.Name, err))
			continue
		}
		delete(t.accepted, o.Name)
		delete(t.rejected, o.Name)
	}
	return errs
}

// ReasonRejected is the status reason of an offer whose accept was
// rejected; its message says why. Nothing of it was bound, and the
// offer's phase is unchanged: a pending offer stays pending, so the
// framework may name other tasks.
const ReasonRejected = "Rejected"

// launchBatch is an accepted offer's task pods, to be bound to its node
// (tasks[i] is pods[i]'s resources).
type launchBatch struct {
	offer *offersapi.Offer
	pods  []*api.Pod
	tasks []api.ResourceList
}

// bindConcurrency bounds the pods/binding calls in flight while a round
// binds its accepted tasks.
const bindConcurrency = 32

// accept answers an offer whose spec.tasks names the framework's task
// pods: it checks them (they exist, belong to the offer's framework and
// are unbound) and has the allocator take them (which rejects an offer
// that is expired, no longer pending, or too small); the round then binds
// each pod to the offer's node (bindAll). A rejection binds nothing and
// says why in the offer's status; ok is false then.
func (c *Controller) accept(ctx context.Context, t *term, o *offersapi.Offer) (launchBatch, bool) {
	var pods []*api.Pod
	var tasks []api.ResourceList
	reject := func(err error) {
		c.log.Info("accept rejected", "offer", o.Name, "err", err)
		t.rejected[o.Name] = strings.Join(o.Spec.Tasks, ",")
		c.writeOfferStatus(ctx, o.Name, o.Status.Phase, ReasonRejected, err.Error())
	}
	for _, ref := range o.Spec.Tasks {
		ns, name, _ := strings.Cut(ref, "/")
		p, ok := c.pods.Get(ns, name)
		if !ok {
			// The framework may have just created it: read it fresh.
			fresh, err := c.cfg.Client.Pods().Get(ctx, ns, name)
			p, ok = fresh, err == nil
		}
		switch {
		case !ok:
			reject(fmt.Errorf("task pod %s: not found", ref))
			return launchBatch{}, false
		case p.Spec.SchedulerName != o.Spec.Framework:
			reject(fmt.Errorf("task pod %s: belongs to scheduler %q, not framework %s: %w", ref, p.Spec.SchedulerName, o.Spec.Framework, ErrForeignOffer))
			return launchBatch{}, false
		case p.Spec.NodeName != "":
			reject(fmt.Errorf("task pod %s: already bound to %s", ref, p.Spec.NodeName))
			return launchBatch{}, false
		}
		pods = append(pods, p)
		tasks = append(tasks, podRequests(p))
	}
	if err := c.fits(ctx, o.Spec.Node, tasks); err != nil {
		reject(err)
		return launchBatch{}, false
	}
	id, ok := strings.CutPrefix(o.Name, t.prefix)
	if !ok {
		reject(fmt.Errorf("offer %s: made by an earlier leader: %w", o.Name, ErrUnknownOffer))
		return launchBatch{}, false
	}
	if err := t.a.Accept(o.Spec.Framework, id, tasks); err != nil {
		reject(err)
		return launchBatch{}, false
	}
	t.accepted[o.Name] = true
	return launchBatch{offer: o, pods: pods, tasks: tasks}, true
}

// bindAll binds the task pods of a round's accepted offers to their
// nodes, bindConcurrency calls at a time (one accept's pods are
// independent bindings, as kube-scheduler's are), then records each
// launched task and writes each offer Accepted. A task whose binding
// fails is released back to the allocator and logged.
func (c *Controller) bindAll(ctx context.Context, t *term, batches []launchBatch) {
	type job struct{ b, i int }
	var jobs []job
	for b := range batches {
		for i := range batches[b].pods {
			jobs = append(jobs, job{b, i})
		}
	}
	failed := make([]error, len(jobs))
	sem := make(chan struct{}, bindConcurrency)
	var wg sync.WaitGroup
	for j, jb := range jobs {
		o, p := batches[jb.b].offer, batches[jb.b].pods[jb.i]
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			bd := api.Binding{
				TypeMeta:   store.TypeMeta{APIVersion: "v1", Kind: "Binding"},
				ObjectMeta: store.ObjectMeta{Namespace: p.Namespace, Name: p.Name, UID: p.UID},
				Target:     api.ObjectReference{APIVersion: "v1", Kind: "Node", Name: o.Spec.Node},
			}
			failed[j] = c.cfg.Client.Pods().Call(ctx, "POST", p.Namespace, p.Name, "binding", nil, &bd, nil)
		}()
	}
	wg.Wait()
	for j, jb := range jobs {
		o, p, res := batches[jb.b].offer, batches[jb.b].pods[jb.i], batches[jb.b].tasks[jb.i]
		if err := failed[j]; err != nil {
			c.log.Error("binding task", "pod", p.Namespace+"/"+p.Name, "node", o.Spec.Node, "err", err)
			_ = t.a.Release(o.Spec.Framework, o.Spec.Node, res)
			continue
		}
		t.launched[string(p.UID)] = launch{framework: o.Spec.Framework, node: o.Spec.Node, namespace: p.Namespace, name: p.Name, res: res}
	}
	for _, b := range batches {
		c.writeOfferStatus(ctx, b.offer.Name, offersapi.OfferAccepted, "", fmt.Sprintf("%d task(s) launched", len(b.pods)))
	}
}

// declineKey marks a rejected decline in term.rejected.
const declineKey = "\x00decline"

// decline answers an offer whose spec.decline is set: the allocator
// returns its resources to the pool and filters the offer's node from the
// framework for the refuse time; the offer is written Declined. A decline
// the allocator refuses (the offer expired, was rescinded, or was made by
// an earlier leader) is written Rejected with its error, as an accept's.
func (c *Controller) decline(ctx context.Context, t *term, o *offersapi.Offer) {
	refuse := time.Duration(offersapi.DefaultRefuseSeconds) * time.Second
	if r := o.Spec.Decline.RefuseSeconds; r != nil {
		refuse = time.Duration(*r) * time.Second
	}
	id, ok := strings.CutPrefix(o.Name, t.prefix)
	err := fmt.Errorf("offer %s: made by an earlier leader: %w", o.Name, ErrUnknownOffer)
	if ok {
		err = t.a.Decline(o.Spec.Framework, id, refuse)
	}
	if err != nil {
		c.log.Info("decline rejected", "offer", o.Name, "err", err)
		t.rejected[o.Name] = declineKey
		c.writeOfferStatus(ctx, o.Name, o.Status.Phase, ReasonRejected, err.Error())
		return
	}
	t.accepted[o.Name] = true
	c.writeOfferStatus(ctx, o.Name, offersapi.OfferDeclined, "", fmt.Sprintf("declined, refusing node %s for %s", o.Spec.Node, refuse))
}

// fits checks, against a fresh list of the node's pods from the
// apiserver (not the informer, which may lag), that tasks fit beside the
// pods bound there: the Kubernetes-style scheduler does not see offers and
// may have bound pods on offered resources since the offer was made.
// There is still a window between this read and the bindings in which the
// other scheduler may bind; the kubelet's admission refuses a pod that no
// longer fits.
func (c *Controller) fits(ctx context.Context, node string, tasks []api.ResourceList) error {
	pc, err := rest.NewClient[*api.Pod](c.cfg.Client.HTTPClient(), c.cfg.Client.Server(), c.cfg.Client.Pods().Resource(),
		rest.WithFieldSelector("spec.nodeName="+node))
	if err != nil {
		return err
	}
	l, err := pc.List(ctx, "", store.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing node %s's pods: %w", node, err)
	}
	n, ok := c.nodes.Get("", node)
	if !ok {
		return fmt.Errorf("node %s: not found", node)
	}
	sum := api.ResourceList{}
	for _, p := range l.Items {
		if p.Status.Phase != api.PodSucceeded && p.Status.Phase != api.PodFailed {
			sum = sum.Add(podRequests(p))
		}
	}
	for _, task := range tasks {
		sum = sum.Add(task)
	}
	for name, q := range sum {
		if alloc, ok := n.Status.Allocatable[name]; ok && q.Cmp(alloc) > 0 {
			return fmt.Errorf("node %s: the tasks would overcommit %s (%s requested of %s allocatable, counting the pods bound there since the offer): %w",
				node, name, q.String(), alloc.String(), ErrOvercommit)
		}
	}
	return nil
}

// writeEnded writes the end of offers the allocator closed (their
// objects' names are prefix and the allocator's IDs).
func (c *Controller) writeEnded(ctx context.Context, prefix string, ended []offersapi.Offer) {
	for _, o := range ended {
		c.writeOfferStatus(ctx, prefix+o.Name, o.Status.Phase, o.Status.Reason, "")
	}
}

// writeOfferStatus sets an Offer object's status, read fresh (retrying
// a conflict once).
func (c *Controller) writeOfferStatus(ctx context.Context, name string, phase offersapi.OfferPhase, reason, msg string) {
	for range 2 {
		o, err := c.offClient.Get(ctx, "", name)
		if err != nil {
			return
		}
		o.Status = offersapi.OfferStatus{Phase: phase, Reason: reason, Message: msg}
		_, err = c.offClient.UpdateStatus(ctx, o)
		if err == nil || !errors.Is(err, store.ErrConflict) {
			if err != nil {
				c.log.Error("offer status", "offer", name, "err", err)
			}
			return
		}
	}
}

// podRequests sums a pod's containers' CPU and memory requests.
func podRequests(p *api.Pod) api.ResourceList {
	out := api.ResourceList{}
	for _, ct := range p.Spec.Containers {
		for _, n := range []api.ResourceName{api.ResourceCPU, api.ResourceMemory} {
			if q, ok := ct.Resources.Requests[n]; ok {
				out[n] = out[n].Add(q)
			}
		}
	}
	return out
}

func equalLists(a, b api.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for n, q := range a {
		if r, ok := b[n]; !ok || q.Cmp(r) != 0 {
			return false
		}
	}
	return true
}
