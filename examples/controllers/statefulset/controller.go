package statefulset

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
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
)

// DefaultWorkers is Kubernetes' --concurrent-statefulset-syncs default.
const DefaultWorkers = 5

// Labels a stateful set's pods carry, as Kubernetes names them.
const (
	PodNameLabel  = "statefulset.kubernetes.io/pod-name"
	PodIndexLabel = "apps.kubernetes.io/pod-index"
)

// Config configures the controller. Client is required; every other
// field has a documented default.
type Config struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// Workers is how many stateful sets are synced at once. Default
	// DefaultWorkers.
	Workers int
	// Recorder, if set, receives the controller's Events.
	Recorder *controllerutil.Recorder
	// Clock times availability (minReadySeconds) and retries. Default:
	// the real clock.
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
		return errors.New("statefulset: Client is required")
	case c.Workers < 0:
		return fmt.Errorf("statefulset: Workers %d is negative", c.Workers)
	}
	return nil
}

// Controller keeps stateful sets' ordinal pods; see the package
// documentation.
type Controller struct {
	cfg  Config
	log  *slog.Logger
	sets *informer.Informer[*apps.StatefulSet]
	pods *informer.Informer[*api.Pod]
	revs *informer.Informer[*apps.ControllerRevision]
	ctrl *reconcile.Controller[reconcile.Request]
}

// RevisionsByController indexes controller revisions by their
// controller's UID (shared with the daemon set controller).
const RevisionsByController = "revisionControllerUID"

// RevisionIndexers are the controller revision indexes the workload
// controllers add to the shared informer.
func RevisionIndexers() map[string]informer.IndexFunc[*apps.ControllerRevision] {
	return map[string]informer.IndexFunc[*apps.ControllerRevision]{RevisionsByController: func(r *apps.ControllerRevision) []string {
		if ref := r.ControllerOf(); ref != nil {
			return []string{ref.UID}
		}
		return nil
	}}
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
	c := &Controller{cfg: cfg, log: cfg.Logger.With("controller", "statefulset")}
	var err error
	if c.sets, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.StatefulSets(), informer.Config[*apps.StatefulSet]{
		Indexers: map[string]informer.IndexFunc[*apps.StatefulSet]{informer.NamespaceIndex: informer.IndexByNamespace[*apps.StatefulSet]}}); err != nil {
		return nil, fmt.Errorf("statefulset: %w", err)
	}
	if c.pods, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.Pods(), informer.Config[*api.Pod]{Indexers: replicaset.PodIndexers()}); err != nil {
		return nil, fmt.Errorf("statefulset: %w", err)
	}
	if c.revs, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.ControllerRevisions(), informer.Config[*apps.ControllerRevision]{Indexers: RevisionIndexers()}); err != nil {
		return nil, fmt.Errorf("statefulset: %w", err)
	}
	c.ctrl, err = reconcile.New(reconcile.Config[reconcile.Request]{
		Name: "statefulset", Reconciler: reconcile.Func[reconcile.Request](c.sync), Workers: cfg.Workers,
		Clock: cfg.Clock, Logger: c.log, Registerer: cfg.Registerer})
	if err != nil {
		return nil, fmt.Errorf("statefulset: %w", err)
	}
	if _, err := c.sets.AddHandler(reconcile.EnqueueKey[*apps.StatefulSet](c.ctrl.Queue())); err != nil {
		return nil, fmt.Errorf("statefulset: %w", err)
	}
	if _, err := c.pods.AddHandler(informer.HandlerFuncs[*api.Pod]{
		AddFunc:    func(p *api.Pod, _ bool) { c.enqueueFor(p) },
		UpdateFunc: func(old, p *api.Pod) { c.enqueueFor(old); c.enqueueFor(p) },
		DeleteFunc: func(p *api.Pod, _ bool) { c.enqueueFor(p) },
	}); err != nil {
		return nil, fmt.Errorf("statefulset: %w", err)
	}
	return c, nil
}

// enqueueFor queues the stateful set controlling p or, for an orphan,
// those of its namespace whose selector matches it.
func (c *Controller) enqueueFor(p *api.Pod) {
	if ref := p.ControllerOf(); ref != nil {
		if ref.Kind == apps.StatefulSetResource.Kind {
			c.ctrl.Queue().Add(reconcile.Request{Namespace: p.Namespace, Name: ref.Name})
		}
		return
	}
	sets, _ := c.sets.ByIndex(informer.NamespaceIndex, p.Namespace)
	for _, s := range sets {
		if s.Spec.Selector != nil && s.Spec.Selector.Matches(p.Labels) {
			c.ctrl.Queue().Add(reconcile.Request{Namespace: s.Namespace, Name: s.Name})
		}
	}
}

// Run waits for the caches, then syncs stateful sets until ctx ends. It
// may follow an earlier Run (a new leadership term).
func (c *Controller) Run(ctx context.Context) error {
	for _, wait := range []func(context.Context) error{c.sets.WaitForSync, c.pods.WaitForSync, c.revs.WaitForSync} {
		if err := wait(ctx); err != nil {
			return nil // ctx ended
		}
	}
	for _, s := range c.sets.List() {
		c.ctrl.Queue().Add(reconcile.Request{Namespace: s.Namespace, Name: s.Name})
	}
	return c.ctrl.Run(ctx)
}
