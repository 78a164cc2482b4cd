package replicaset

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
)

// Pod indexes shared by the workload controllers.
const (
	// ControllerUIDIndex indexes pods by their controller's UID.
	ControllerUIDIndex = "controllerUID"
	// OrphanIndex indexes pods without a controller by namespace.
	OrphanIndex = "orphanNamespace"
)

// PodIndexers are the pod indexes the workload controllers add to the
// shared pod informer.
func PodIndexers() map[string]informer.IndexFunc[*api.Pod] {
	return map[string]informer.IndexFunc[*api.Pod]{
		ControllerUIDIndex: func(p *api.Pod) []string {
			if ref := p.ControllerOf(); ref != nil {
				return []string{ref.UID}
			}
			return nil
		},
		OrphanIndex: func(p *api.Pod) []string {
			if p.ControllerOf() == nil {
				return []string{p.Namespace}
			}
			return nil
		},
	}
}

// Controller keeps each replica set's pods at its replicas. See the
// package documentation for what it guarantees.
type Controller struct {
	cfg    Config
	kind   Kind
	owners Owners
	pods   *informer.Informer[*api.Pod]
	exp    *controllerutil.Expectations
	ctrl   *reconcile.Controller[reconcile.Request]
	log    *slog.Logger
}

// New returns a ReplicaSet controller; Run it.
func New(cfg Config) (*Controller, error) { return NewFor(cfg, ReplicaSetKind) }

// NewFor returns a controller of the replica-set-like kind k (the
// replication controller uses it).
func NewFor(cfg Config, k Kind) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	owners, err := k.Start(cfg.Client)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.Name, err)
	}
	pods, _, err := informer.Shared(cfg.Client.Informers(), cfg.Client.Pods(), informer.Config[*api.Pod]{Indexers: PodIndexers()})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.Name, err)
	}
	c := &Controller{cfg: cfg, kind: k, owners: owners, pods: pods,
		exp: controllerutil.NewExpectations(cfg.Clock), log: cfg.Logger.With("controller", k.Name)}
	c.ctrl, err = reconcile.New(reconcile.Config[reconcile.Request]{
		Name: k.Name, Reconciler: reconcile.Func[reconcile.Request](c.sync), Workers: cfg.Workers,
		Clock: cfg.Clock, Logger: cfg.Logger, Registerer: cfg.Registerer,
	})
	if err != nil {
		return nil, err
	}
	if err := owners.AddHandler(informer.HandlerFuncs[*apps.ReplicaSet]{
		AddFunc:    func(rs *apps.ReplicaSet, _ bool) { c.enqueue(rs) },
		UpdateFunc: func(_, rs *apps.ReplicaSet) { c.enqueue(rs) },
		DeleteFunc: func(rs *apps.ReplicaSet, _ bool) {
			c.exp.Forget(key(rs.Namespace, rs.Name))
			c.enqueue(rs)
		},
	}); err != nil {
		return nil, err
	}
	if _, err := pods.AddHandler(informer.HandlerFuncs[*api.Pod]{
		AddFunc:    func(p *api.Pod, _ bool) { c.addPod(p) },
		UpdateFunc: c.updatePod,
		DeleteFunc: func(p *api.Pod, _ bool) { c.deletePod(p) },
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// Name returns the controller's name.
func (c *Controller) Name() string { return c.kind.Name }

// Run waits for the caches, then syncs replica sets until ctx ends. Each
// Run starts with no expectations (a new leadership term knows nothing
// of an earlier one's writes), and may follow an earlier Run.
func (c *Controller) Run(ctx context.Context) error {
	if err := c.owners.WaitForSync(ctx); err != nil {
		return nil // ctx ended
	}
	if err := c.pods.WaitForSync(ctx); err != nil {
		return nil
	}
	c.exp.Reset()
	for _, rs := range c.owners.InNamespace("") {
		c.enqueue(rs)
	}
	return c.ctrl.Run(ctx)
}

func key(ns, name string) string { return ns + "/" + name }

func (c *Controller) enqueue(rs *apps.ReplicaSet) {
	c.ctrl.Queue().Add(reconcile.Request{Namespace: rs.Namespace, Name: rs.Name})
}

// ownerOf returns the cached owner a pod's controller reference names, if
// it is of this kind and has the referenced UID.
func (c *Controller) ownerOf(p *api.Pod, ref *apiOwnerRef) *apps.ReplicaSet {
	if ref == nil || ref.Kind != c.kind.Resource.Kind {
		return nil
	}
	rs, ok := c.owners.Get(p.Namespace, ref.Name)
	if !ok || rs.UID != ref.UID {
		return nil
	}
	return rs
}

// matching returns the cached owners in p's namespace whose selector
// matches p's labels: candidates to adopt an orphan.
func (c *Controller) matching(p *api.Pod) []*apps.ReplicaSet {
	var out []*apps.ReplicaSet
	for _, rs := range c.owners.InNamespace(p.Namespace) {
		if rs.Spec.Selector != nil && (len(rs.Spec.Selector.MatchLabels) > 0 || len(rs.Spec.Selector.MatchExpressions) > 0) && rs.Spec.Selector.Matches(p.Labels) {
			out = append(out, rs)
		}
	}
	return out
}

func (c *Controller) addPod(p *api.Pod) {
	if p.DeletionTimestamp != nil {
		// Seen for the first time already being deleted (after a
		// relist): it must not count as a creation.
		c.deletePod(p)
		return
	}
	if ref := p.ControllerOf(); ref != nil {
		if rs := c.ownerOf(p, ref); rs != nil {
			c.exp.CreationObserved(key(rs.Namespace, rs.Name))
			c.enqueue(rs)
		}
		return
	}
	for _, rs := range c.matching(p) {
		c.enqueue(rs)
	}
}

func (c *Controller) updatePod(old, cur *api.Pod) {
	if old.ResourceVersion == cur.ResourceVersion {
		return
	}
	labelsChanged := !maps.Equal(old.Labels, cur.Labels)
	if cur.DeletionTimestamp != nil {
		// A deletion was requested: count the pod as gone now, so a
		// replacement is created without waiting for the kubelet.
		c.deletePod(cur)
		if labelsChanged {
			c.deletePod(old)
		}
		return
	}
	oldRef, curRef := old.ControllerOf(), cur.ControllerOf()
	refChanged := !sameRef(oldRef, curRef)
	if refChanged && oldRef != nil {
		if rs := c.ownerOf(old, oldRef); rs != nil {
			c.enqueue(rs)
		}
	}
	if curRef != nil {
		rs := c.ownerOf(cur, curRef)
		if rs == nil {
			return
		}
		c.enqueue(rs)
		if !controllerutil.IsPodReady(old) && controllerutil.IsPodReady(cur) && rs.Spec.MinReadySeconds > 0 {
			// Check availability once minReadySeconds have passed.
			c.ctrl.Queue().AddAfter(reconcile.Request{Namespace: rs.Namespace, Name: rs.Name}, time.Duration(rs.Spec.MinReadySeconds)*time.Second)
		}
		return
	}
	if labelsChanged || refChanged {
		for _, rs := range c.matching(cur) {
			c.enqueue(rs)
		}
	}
}

func (c *Controller) deletePod(p *api.Pod) {
	rs := c.ownerOf(p, p.ControllerOf())
	if rs == nil {
		return
	}
	c.exp.DeletionObserved(key(rs.Namespace, rs.Name), controllerutil.PodKey(p))
	c.enqueue(rs)
}

func sameRef(a, b *apiOwnerRef) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.UID == b.UID && a.Kind == b.Kind && a.Name == b.Name && a.APIVersion == b.APIVersion
}
