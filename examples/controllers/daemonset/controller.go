package daemonset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/examples/controllers/replicaset"
	"github.com/setpoint-dev/setpoint/examples/controllers/statefulset"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
)

// DefaultWorkers is Kubernetes' --concurrent-daemonset-syncs default.
const DefaultWorkers = 2

// Config configures the controller. Client is required; every other
// field has a documented default.
type Config struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// Workers is how many daemon sets are synced at once. Default
	// DefaultWorkers.
	Workers int
	// Recorder, if set, receives the controller's Events.
	Recorder *controllerutil.Recorder
	// Clock times availability (minReadySeconds), expectations and
	// retries. Default: the real clock.
	Clock clockwork.Clock
	// Logger receives the controller's logs, keyed by object. Default
	// discard.
	Logger *slog.Logger
	// Registerer, if set, receives the controller's metrics.
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("daemonset: Client is required")
	case c.Workers < 0:
		return fmt.Errorf("daemonset: Workers %d is negative", c.Workers)
	}
	return nil
}

// Controller runs a daemon set's pod on each eligible node; see the
// package documentation.
type Controller struct {
	cfg   Config
	log   *slog.Logger
	dss   *informer.Informer[*apps.DaemonSet]
	pods  *informer.Informer[*api.Pod]
	nodes *informer.Informer[*api.Node]
	revs  *informer.Informer[*apps.ControllerRevision]
	exp   *controllerutil.Expectations
	ctrl  *reconcile.Controller[reconcile.Request]
}

// New checks cfg and builds the controller; it sends no request.
func New(cfg Config) (*Controller, error) {
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
	c := &Controller{cfg: cfg, log: cfg.Logger.With("controller", "daemonset"), exp: controllerutil.NewExpectations(cfg.Clock)}
	var err error
	if c.dss, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.DaemonSets(), informer.Config[*apps.DaemonSet]{
		Indexers: map[string]informer.IndexFunc[*apps.DaemonSet]{informer.NamespaceIndex: informer.IndexByNamespace[*apps.DaemonSet]}}); err != nil {
		return nil, fmt.Errorf("daemonset: %w", err)
	}
	if c.pods, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.Pods(), informer.Config[*api.Pod]{Indexers: replicaset.PodIndexers()}); err != nil {
		return nil, fmt.Errorf("daemonset: %w", err)
	}
	if c.nodes, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.Nodes(), informer.Config[*api.Node]{}); err != nil {
		return nil, fmt.Errorf("daemonset: %w", err)
	}
	if c.revs, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.ControllerRevisions(), informer.Config[*apps.ControllerRevision]{Indexers: statefulset.RevisionIndexers()}); err != nil {
		return nil, fmt.Errorf("daemonset: %w", err)
	}
	c.ctrl, err = reconcile.New(reconcile.Config[reconcile.Request]{
		Name: "daemonset", Reconciler: reconcile.Func[reconcile.Request](c.sync), Workers: cfg.Workers,
		Clock: cfg.Clock, Logger: c.log, Registerer: cfg.Registerer})
	if err != nil {
		return nil, fmt.Errorf("daemonset: %w", err)
	}
	if _, err := c.dss.AddHandler(informer.HandlerFuncs[*apps.DaemonSet]{
		AddFunc:    func(ds *apps.DaemonSet, _ bool) { c.enqueue(ds) },
		UpdateFunc: func(_, ds *apps.DaemonSet) { c.enqueue(ds) },
		DeleteFunc: func(ds *apps.DaemonSet, _ bool) { c.exp.Forget(ds.Namespace + "/" + ds.Name); c.enqueue(ds) },
	}); err != nil {
		return nil, fmt.Errorf("daemonset: %w", err)
	}
	if _, err := c.pods.AddHandler(informer.HandlerFuncs[*api.Pod]{
		AddFunc: func(p *api.Pod, _ bool) {
			if k, ok := c.owner(p); ok {
				c.exp.CreationObserved(k.String())
				c.ctrl.Queue().Add(k)
			}
		},
		UpdateFunc: func(old, p *api.Pod) {
			if k, ok := c.owner(p); ok {
				if p.DeletionTimestamp != nil {
					c.exp.DeletionObserved(k.String(), controllerutil.PodKey(p))
				}
				c.ctrl.Queue().Add(k)
			}
		},
		DeleteFunc: func(p *api.Pod, _ bool) {
			if k, ok := c.owner(p); ok {
				c.exp.DeletionObserved(k.String(), controllerutil.PodKey(p))
				c.ctrl.Queue().Add(k)
			}
		},
	}); err != nil {
		return nil, fmt.Errorf("daemonset: %w", err)
	}
	all := func() {
		for _, ds := range c.dss.List() {
			c.enqueue(ds)
		}
	}
	if _, err := c.nodes.AddHandler(informer.HandlerFuncs[*api.Node]{
		AddFunc:    func(*api.Node, bool) { all() },
		UpdateFunc: func(_, _ *api.Node) { all() },
		DeleteFunc: func(*api.Node, bool) { all() },
	}); err != nil {
		return nil, fmt.Errorf("daemonset: %w", err)
	}
	return c, nil
}

func (c *Controller) enqueue(ds *apps.DaemonSet) {
	c.ctrl.Queue().Add(reconcile.Request{Namespace: ds.Namespace, Name: ds.Name})
}

func (c *Controller) owner(p *api.Pod) (reconcile.Request, bool) {
	ref := p.ControllerOf()
	if ref == nil || ref.Kind != apps.DaemonSetResource.Kind {
		return reconcile.Request{}, false
	}
	return reconcile.Request{Namespace: p.Namespace, Name: ref.Name}, true
}

// Run waits for the caches, then syncs daemon sets until ctx ends. It may
// follow an earlier Run (a new leadership term); each starts with no
// expectations.
func (c *Controller) Run(ctx context.Context) error {
	for _, wait := range []func(context.Context) error{c.dss.WaitForSync, c.pods.WaitForSync, c.nodes.WaitForSync, c.revs.WaitForSync} {
		if err := wait(ctx); err != nil {
			return nil // ctx ended
		}
	}
	c.exp.Reset()
	for _, ds := range c.dss.List() {
		c.enqueue(ds)
	}
	return c.ctrl.Run(ctx)
}
