package deployment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
)

// DefaultWorkers is Kubernetes' --concurrent-deployment-syncs default.
const DefaultWorkers = 5

// Config configures the controller. Client is required; every other
// field has a documented default.
type Config struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// Workers is how many deployments are synced at once. Default
	// DefaultWorkers.
	Workers int
	// Recorder, if set, receives the controller's Events.
	Recorder *controllerutil.Recorder
	// Clock times progress deadlines, condition times and retries.
	// Default: the real clock.
	Clock clockwork.Clock
	// Logger receives the controller's logs, keyed by object. Default
	// discard.
	Logger *slog.Logger
	// Registerer, if set, receives the controller's metrics (queue depth,
	// reconcile latency and errors).
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("deployment: Client is required")
	case c.Workers < 0:
		return fmt.Errorf("deployment: Workers %d is negative", c.Workers)
	}
	return nil
}

// Controller rolls deployments out through replica sets; see the package
// documentation.
type Controller struct {
	cfg  Config
	log  *slog.Logger
	ds   *informer.Informer[*apps.Deployment]
	rss  *informer.Informer[*apps.ReplicaSet]
	ctrl *reconcile.Controller[reconcile.Request]
}

// rsByController indexes replica sets by their controller's UID.
const rsByController = "deploymentControllerUID"

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
	c := &Controller{cfg: cfg, log: cfg.Logger.With("controller", "deployment")}
	var err error
	c.ds, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.Deployments(), informer.Config[*apps.Deployment]{
		Indexers: map[string]informer.IndexFunc[*apps.Deployment]{informer.NamespaceIndex: informer.IndexByNamespace[*apps.Deployment]}})
	if err != nil {
		return nil, fmt.Errorf("deployment: %w", err)
	}
	c.rss, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.ReplicaSets(), informer.Config[*apps.ReplicaSet]{
		Indexers: map[string]informer.IndexFunc[*apps.ReplicaSet]{
			informer.NamespaceIndex: informer.IndexByNamespace[*apps.ReplicaSet],
			rsByController: func(rs *apps.ReplicaSet) []string {
				if ref := rs.ControllerOf(); ref != nil {
					return []string{ref.UID}
				}
				return nil
			},
		}})
	if err != nil {
		return nil, fmt.Errorf("deployment: %w", err)
	}
	c.ctrl, err = reconcile.New(reconcile.Config[reconcile.Request]{
		Name: "deployment", Reconciler: reconcile.Func[reconcile.Request](c.sync), Workers: cfg.Workers,
		Clock: cfg.Clock, Logger: c.log, Registerer: cfg.Registerer})
	if err != nil {
		return nil, fmt.Errorf("deployment: %w", err)
	}
	if _, err := c.ds.AddHandler(reconcile.EnqueueKey[*apps.Deployment](c.ctrl.Queue())); err != nil {
		return nil, fmt.Errorf("deployment: %w", err)
	}
	if _, err := c.rss.AddHandler(informer.HandlerFuncs[*apps.ReplicaSet]{
		AddFunc:    func(rs *apps.ReplicaSet, _ bool) { c.enqueueFor(rs) },
		UpdateFunc: func(old, cur *apps.ReplicaSet) { c.enqueueFor(old); c.enqueueFor(cur) },
		DeleteFunc: func(rs *apps.ReplicaSet, _ bool) { c.enqueueFor(rs) },
	}); err != nil {
		return nil, fmt.Errorf("deployment: %w", err)
	}
	return c, nil
}

// enqueueFor queues the deployment that controls rs or, for an orphan,
// every deployment of its namespace whose selector matches it.
func (c *Controller) enqueueFor(rs *apps.ReplicaSet) {
	if ref := rs.ControllerOf(); ref != nil {
		if ref.Kind == apps.DeploymentResource.Kind {
			c.ctrl.Queue().Add(reconcile.Request{Namespace: rs.Namespace, Name: ref.Name})
		}
		return
	}
	ds, _ := c.ds.ByIndex(informer.NamespaceIndex, rs.Namespace)
	for _, d := range ds {
		if d.Spec.Selector != nil && d.Spec.Selector.Matches(rs.Labels) {
			c.ctrl.Queue().Add(reconcile.Request{Namespace: d.Namespace, Name: d.Name})
		}
	}
}

// Run waits for the caches, then syncs deployments until ctx ends. It may
// follow an earlier Run (a new leadership term).
func (c *Controller) Run(ctx context.Context) error {
	if err := c.ds.WaitForSync(ctx); err != nil {
		return nil // ctx ended
	}
	if err := c.rss.WaitForSync(ctx); err != nil {
		return nil
	}
	for _, d := range c.ds.List() {
		c.ctrl.Queue().Add(reconcile.Request{Namespace: d.Namespace, Name: d.Name})
	}
	return c.ctrl.Run(ctx)
}
