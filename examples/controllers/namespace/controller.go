package namespace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
)

// Defaults of Config.
const (
	// DefaultWorkers is how many namespaces are emptied at once.
	DefaultWorkers = 2
	// DefaultRecheckInterval is how soon a namespace whose content has not
	// all gone yet is looked at again.
	DefaultRecheckInterval = 5 * time.Second
)

// Config configures the controller. Client is required; every other field
// has a documented default.
type Config struct {
	// Client reaches the apiserver.
	Client *client.Clientset
	// Workers is how many namespaces are worked on at once (default
	// DefaultWorkers).
	Workers int
	// RecheckInterval is how soon a namespace whose content remains is
	// checked again (default DefaultRecheckInterval).
	RecheckInterval time.Duration
	// Clock times rechecks, retries and conditions' transition times.
	// Default: the real clock.
	Clock clockwork.Clock
	// Logger receives the controller's logs; default discard.
	Logger *slog.Logger
	// Registerer, if set, receives the controller's metrics.
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("namespace controller: Client is required")
	case c.Workers < 0:
		return fmt.Errorf("namespace controller: Workers must not be negative, got %d", c.Workers)
	case c.RecheckInterval < 0:
		return fmt.Errorf("namespace controller: RecheckInterval must not be negative, got %v", c.RecheckInterval)
	}
	return nil
}

// Controller empties terminating namespaces; see the package documentation.
type Controller struct {
	cfg  Config
	log  *slog.Logger
	api  *apiClient
	inf  *informer.Informer[*api.Namespace]
	ctl  *reconcile.Controller[reconcile.Request]
	nsc  store.Interface[*api.Namespace]
	done chan struct{}
}

// New checks cfg and builds the controller; it sends no request.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Workers == 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.RecheckInterval == 0 {
		cfg.RecheckInterval = DefaultRecheckInterval
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Controller{cfg: cfg, log: cfg.Logger.With("controller", "namespace"), nsc: cfg.Client.Namespaces(),
		api: &apiClient{hc: cfg.Client.HTTPClient(), server: cfg.Client.Server()}}
	inf, err := informer.New[*api.Namespace](cfg.Client.Namespaces(), informer.Config[*api.Namespace]{
		Name: "namespace-controller", Clock: cfg.Clock, Logger: c.log, Registerer: cfg.Registerer})
	if err != nil {
		return nil, fmt.Errorf("namespace controller: %w", err)
	}
	ctl, err := reconcile.New(reconcile.Config[reconcile.Request]{
		Name: "namespace", Reconciler: reconcile.Func[reconcile.Request](c.Reconcile), Workers: cfg.Workers,
		Clock: cfg.Clock, Logger: c.log, Registerer: cfg.Registerer})
	if err != nil {
		return nil, fmt.Errorf("namespace controller: %w", err)
	}
	c.inf, c.ctl = inf, ctl
	return c, nil
}

// Run watches namespaces and empties the terminating ones until ctx ends;
// it returns nil then, or the error that stopped it.
func (c *Controller) Run(ctx context.Context) error {
	// The handler is added here, not in New: the informer runs only with
	// Run, and a listener of an informer that never runs would never end
	// (a controller-manager that never leads never calls Run).
	if _, err := c.inf.AddHandler(reconcile.EnqueueKey[*api.Namespace](c.ctl.Queue()).With(func(ch reconcile.Change[*api.Namespace]) bool {
		return ch.Object != nil && ch.Object.DeletionTimestamp != nil
	})); err != nil {
		return fmt.Errorf("namespace controller: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.inf.Run(gctx) })
	g.Go(func() error {
		if err := c.inf.WaitForSync(gctx); err != nil {
			if gctx.Err() != nil {
				return nil
			}
			return err
		}
		return c.ctl.Run(gctx)
	})
	return g.Wait()
}

// Reconcile works on one namespace: if it is being deleted and still holds
// the "kubernetes" finalizer, it deletes the namespace's content, reports
// the conditions, and finalizes the namespace once it is empty.
func (c *Controller) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	ns, err := c.nsc.Get(ctx, "", req.Name)
	if errors.Is(err, store.ErrNotFound) {
		return reconcile.Result{}, nil
	}
	if err != nil {
		return reconcile.Result{}, err
	}
	if ns.DeletionTimestamp == nil || !slices.Contains(ns.Spec.Finalizers, api.FinalizerKubernetes) {
		return reconcile.Result{}, nil
	}
	log := c.log.With("namespace", ns.Name)
	resources, discoveryErr := c.api.namespacedResources(ctx)
	var failures []string
	for _, r := range resources {
		if err := c.api.deleteCollection(ctx, r, ns.Name); err != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", r, err))
		}
	}
	left, listErr := c.api.remaining(ctx, resources, ns.Name)
	if listErr != nil {
		failures = append(failures, listErr.Error())
	}
	conds := conditions(discoveryErr, failures, left)
	if err := c.setConditions(ctx, ns, conds); err != nil {
		return reconcile.Result{}, err
	}
	switch {
	case discoveryErr != nil:
		return reconcile.Result{}, fmt.Errorf("namespace %s: discovery: %w", ns.Name, discoveryErr)
	case len(failures) > 0:
		return reconcile.Result{}, fmt.Errorf("namespace %s: deleting content: %s", ns.Name, failures[0])
	case left.objects > 0:
		log.Debug("content remains", "objects", left.objects)
		return reconcile.Result{RequeueAfter: c.cfg.RecheckInterval}, nil
	}
	if err := c.api.finalize(ctx, ns); err != nil {
		return reconcile.Result{}, fmt.Errorf("namespace %s: finalizing: %w", ns.Name, err)
	}
	log.Info("namespace emptied and finalized")
	return reconcile.Result{}, nil
}

// setConditions writes conds into ns's status (through namespaces/status)
// when they change anything, keeping each condition's transition time
// while its status stays.
func (c *Controller) setConditions(ctx context.Context, ns *api.Namespace, conds []api.NamespaceCondition) error {
	now := store.NewTime(c.cfg.Clock.Now())
	changed := false
	out := slices.Clone(ns.Status.Conditions)
	for _, want := range conds {
		i := slices.IndexFunc(out, func(have api.NamespaceCondition) bool { return have.Type == want.Type })
		switch {
		case i < 0:
			want.LastTransitionTime = now
			out = append(out, want)
			changed = true
		case out[i].Status != want.Status:
			want.LastTransitionTime = now
			out[i] = want
			changed = true
		case out[i].Reason != want.Reason || out[i].Message != want.Message:
			want.LastTransitionTime = out[i].LastTransitionTime
			out[i] = want
			changed = true
		}
	}
	if !changed {
		return nil
	}
	upd := store.Clone(ns)
	upd.Status.Conditions = out
	return c.api.updateStatus(ctx, upd)
}
