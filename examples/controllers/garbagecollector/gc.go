package garbagecollector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// DefaultWorkers is Kubernetes' --concurrent-gc-syncs default.
const DefaultWorkers = 20

// Config configures the collector. Client is required; every other field
// has a documented default.
type Config struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// Workers is how many objects are checked at once. Default
	// DefaultWorkers.
	Workers int
	// Clock times retries. Default: the real clock.
	Clock clockwork.Clock
	// Logger receives the collector's logs, keyed by object. Default
	// discard.
	Logger *slog.Logger
	// Registerer, if set, receives the collector's metrics.
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("garbagecollector: Client is required")
	case c.Workers < 0:
		return fmt.Errorf("garbagecollector: Workers %d is negative", c.Workers)
	}
	return nil
}

// node is one object in the graph.
type node struct {
	res       store.Resource
	namespace string
	name      string
	owners    []store.OwnerReference
	deleting  bool
	// orphan and foreground: being deleted with that policy's finalizer,
	// so the collector owes it the dependents' orphaning or deletion.
	orphan, foreground bool
}

// waiting reports whether n waits for the collector (a policy finalizer).
func (n *node) waiting() bool { return n.orphan || n.foreground }

// tracked is one resource the collector follows.
type tracked struct {
	res    store.Resource
	get    func(ctx context.Context, namespace, name string) (store.Object, error)
	delete func(ctx context.Context, namespace, name, uid string, policy store.PropagationPolicy) error
	// update reads the object, and if it still has uid and mutate changes
	// its metadata, writes it back (compare-and-swap on the version read).
	update func(ctx context.Context, namespace, name, uid string, mutate func(m *store.ObjectMeta) bool) error
	synced func(ctx context.Context) error
}

// Collector deletes objects whose owners are gone; see the package
// documentation.
type Collector struct {
	cfg  Config
	log  *slog.Logger
	ctrl *reconcile.Controller[string]

	mu         sync.Mutex
	nodes      map[string]*node               // by UID
	dependents map[string]map[string]struct{} // owner UID -> dependent UIDs
	byKind     map[string]*tracked            // "group/Kind" -> resource
	resources  []*tracked
}

// New checks cfg and builds the collector; it sends no request.
func New(cfg Config) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Workers == 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	g := &Collector{cfg: cfg, log: cfg.Logger.With("controller", "garbagecollector"),
		nodes: map[string]*node{}, dependents: map[string]map[string]struct{}{}, byKind: map[string]*tracked{}}
	var err error
	g.ctrl, err = reconcile.New(reconcile.Config[string]{Name: "garbagecollector",
		Reconciler: reconcile.Func[string](g.attemptToDelete), Workers: cfg.Workers,
		Clock: cfg.Clock, Logger: g.log, Registerer: cfg.Registerer})
	if err != nil {
		return nil, fmt.Errorf("garbagecollector: %w", err)
	}
	if err := trackAll(g, cfg.Client); err != nil {
		return nil, fmt.Errorf("garbagecollector: %w", err)
	}
	return g, nil
}

// kindKey names a kind by API group (not version) and kind.
func kindKey(apiVersion, kind string) string {
	group, _, found := strings.Cut(apiVersion, "/")
	if !found {
		group = ""
	}
	return group + "/" + kind
}

// track follows one typed resource.
func track[T store.Object](g *Collector, f *informer.Factory, c *rest.Client[T]) error {
	res := c.Resource()
	inf, _, err := informer.Shared(f, c, informer.Config[T]{})
	if err != nil {
		return err
	}
	t := &tracked{res: res,
		get: func(ctx context.Context, ns, name string) (store.Object, error) { return c.Get(ctx, ns, name) },
		delete: func(ctx context.Context, ns, name, uid string, policy store.PropagationPolicy) error {
			opts := []store.DeleteOption{store.WithPreconditionUID(uid)}
			if policy != "" {
				opts = append(opts, store.WithPropagationPolicy(policy))
			}
			_, err := c.Delete(ctx, ns, name, opts...)
			return err
		},
		update: func(ctx context.Context, ns, name, uid string, mutate func(m *store.ObjectMeta) bool) error {
			obj, err := c.Get(ctx, ns, name)
			if err != nil {
				return err
			}
			if m := obj.GetObjectMeta(); m.UID != uid || !mutate(m) {
				return nil
			}
			_, err = c.Update(ctx, obj)
			return err
		},
		synced: inf.WaitForSync,
	}
	g.resources = append(g.resources, t)
	g.byKind[kindKey(res.APIVersion, res.Kind)] = t
	_, err = inf.AddHandler(informer.HandlerFuncs[T]{
		AddFunc:    func(obj T, _ bool) { g.upsert(res, obj) },
		UpdateFunc: func(_, obj T) { g.upsert(res, obj) },
		DeleteFunc: func(obj T, _ bool) { g.remove(obj) },
	})
	return err
}

// upsert records obj and queues what needs a check: obj itself if it has
// owners (one may be gone already).
func (g *Collector) upsert(res store.Resource, obj store.Object) {
	m := obj.GetObjectMeta()
	g.mu.Lock()
	if old := g.nodes[m.UID]; old != nil {
		for _, o := range old.owners {
			delete(g.dependents[o.UID], m.UID)
		}
	}
	n := &node{res: res, namespace: m.Namespace, name: m.Name, owners: append([]store.OwnerReference(nil), m.OwnerReferences...),
		deleting: m.DeletionTimestamp != nil}
	if n.deleting {
		n.orphan = slices.Contains(m.Finalizers, store.FinalizerOrphanDependents)
		n.foreground = slices.Contains(m.Finalizers, store.FinalizerDeleteDependents)
	}
	g.nodes[m.UID] = n
	for _, o := range n.owners {
		if g.dependents[o.UID] == nil {
			g.dependents[o.UID] = map[string]struct{}{}
		}
		g.dependents[o.UID][m.UID] = struct{}{}
	}
	waitingOwners := g.waitingOwnersLocked(n)
	g.mu.Unlock()
	if len(n.owners) > 0 || n.waiting() {
		g.ctrl.Queue().Add(m.UID)
	}
	for _, uid := range waitingOwners {
		g.ctrl.Queue().Add(uid)
	}
}

// waitingOwnersLocked returns the owners of n that wait for the collector:
// a change of one of their dependents may let them finish.
func (g *Collector) waitingOwnersLocked(n *node) []string {
	var out []string
	for _, o := range n.owners {
		if on := g.nodes[o.UID]; on != nil && on.waiting() {
			out = append(out, o.UID)
		}
	}
	return out
}

// remove drops obj and queues its dependents.
func (g *Collector) remove(obj store.Object) {
	m := obj.GetObjectMeta()
	g.mu.Lock()
	var waitingOwners []string
	if n := g.nodes[m.UID]; n != nil {
		waitingOwners = g.waitingOwnersLocked(n)
		for _, o := range n.owners {
			delete(g.dependents[o.UID], m.UID)
			if len(g.dependents[o.UID]) == 0 {
				delete(g.dependents, o.UID)
			}
		}
	}
	delete(g.nodes, m.UID)
	var deps []string
	for uid := range g.dependents[m.UID] {
		deps = append(deps, uid)
	}
	g.mu.Unlock()
	for _, uid := range append(deps, waitingOwners...) {
		g.ctrl.Queue().Add(uid)
	}
}

// Run waits for the caches, then collects until ctx ends. It may follow an
// earlier Run.
func (g *Collector) Run(ctx context.Context) error {
	for _, t := range g.resources {
		if err := t.synced(ctx); err != nil {
			return nil // ctx ended
		}
	}
	return g.ctrl.Run(ctx)
}

// attemptToDelete checks one object and deletes it if all its owners are
// gone.
func (g *Collector) attemptToDelete(ctx context.Context, uid string) (reconcile.Result, error) {
	g.mu.Lock()
	n := g.nodes[uid]
	var c node
	if n != nil {
		c = *n
	}
	g.mu.Unlock()
	if n == nil {
		return reconcile.Result{}, nil
	}
	switch {
	case c.orphan:
		return reconcile.Result{}, g.orphanDependents(ctx, uid, c)
	case c.foreground:
		return reconcile.Result{}, g.deleteDependents(ctx, uid, c)
	case c.deleting || len(c.owners) == 0:
		return reconcile.Result{}, nil
	}
	log := g.log.With("object", c.res.Name+"/"+c.namespace+"/"+c.name)
	for _, o := range c.owners {
		solid, err := g.ownerExists(ctx, c.namespace, o)
		if err != nil {
			return reconcile.Result{}, err
		}
		if solid {
			return reconcile.Result{}, nil
		}
	}
	t := g.byKind[kindKey(c.res.APIVersion, c.res.Kind)]
	err := t.delete(ctx, c.namespace, c.name, uid, "")
	switch {
	case err == nil:
		log.Info("deleted: every owner is gone")
	case errors.Is(err, store.ErrNotFound):
	case errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrFenced):
		// The UID precondition failed: a new object of the same name.
	default:
		return reconcile.Result{}, fmt.Errorf("delete %s %s/%s: %w", c.res.Name, c.namespace, c.name, err)
	}
	return reconcile.Result{}, nil
}

// ownerExists reports whether the object o refers to exists, judging by
// the graph and else a live read. An owner of an untracked kind counts as
// existing: the collector cannot tell.
func (g *Collector) ownerExists(ctx context.Context, namespace string, o store.OwnerReference) (bool, error) {
	g.mu.Lock()
	_, inGraph := g.nodes[o.UID]
	g.mu.Unlock()
	if inGraph {
		return true, nil
	}
	t := g.byKind[kindKey(o.APIVersion, o.Kind)]
	if t == nil {
		return true, nil
	}
	if !t.res.Namespaced {
		namespace = ""
	}
	obj, err := t.get(ctx, namespace, o.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read owner %s %s: %w", o.Kind, o.Name, err)
	}
	return obj.GetObjectMeta().UID == o.UID, nil
}
