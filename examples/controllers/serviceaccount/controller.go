package serviceaccount

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
)

// Defaults of Config.
const (
	// DefaultServiceAccount is the account every namespace gets.
	DefaultServiceAccount = "default"
	// DefaultWorkers is how many namespaces are reconciled at once.
	DefaultWorkers = 2
)

// Config configures the service account controller. Client is required;
// every other field has a documented default.
type Config struct {
	// Client reaches the apiserver; its shared informers are used (run
	// the factory elsewhere, as the controller manager does).
	Client *client.Clientset
	// ServiceAccounts are the accounts each active namespace gets.
	// Default {DefaultServiceAccount}. Each must be a valid name.
	ServiceAccounts []string
	// Workers is how many namespaces are reconciled at once (default
	// DefaultWorkers).
	Workers int
	// Clock times the queue's retries. Default: the real clock.
	Clock clockwork.Clock
	// Logger receives the logs, keyed by namespace. Default discard.
	Logger *slog.Logger
	// Registerer, if set, receives the queue's metrics.
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	if c.Client == nil {
		return errors.New("serviceaccount: Client is required")
	}
	if c.Workers < 0 {
		return fmt.Errorf("serviceaccount: Workers must not be negative, got %d", c.Workers)
	}
	for _, n := range c.ServiceAccounts {
		if err := store.ValidateName(n); err != nil {
			return fmt.Errorf("serviceaccount: ServiceAccounts: %q: %w", n, err)
		}
	}
	return nil
}

// Controller keeps the configured service accounts in every active
// namespace; see the package documentation.
type Controller struct {
	cfg      Config
	log      *slog.Logger
	ns       *informer.Informer[*api.Namespace]
	accounts *informer.Informer[*api.ServiceAccount]
	ctl      *reconcile.Controller[reconcile.Request]
}

// New checks cfg and builds the controller; it sends no request.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.ServiceAccounts) == 0 {
		cfg.ServiceAccounts = []string{DefaultServiceAccount}
	}
	want := map[string]bool{}
	for _, n := range cfg.ServiceAccounts {
		want[n] = true
	}
	c := &Controller{cfg: cfg}
	var err error
	c.log, c.ns, c.ctl, err = newNamespaceLoop(&cfg.Workers, &cfg.Clock, &cfg.Logger, cfg.Client, "serviceaccount", cfg.Registerer, c.Reconcile)
	if err != nil {
		return nil, err
	}
	if c.accounts, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.ServiceAccounts(), informer.Config[*api.ServiceAccount]{}); err != nil {
		return nil, fmt.Errorf("serviceaccount: %w", err)
	}
	// A deleted account of ours brings its namespace back.
	if _, err := c.accounts.AddHandler(namespaceOf[*api.ServiceAccount](c.ctl.Queue()).With(func(ch reconcile.Change[*api.ServiceAccount]) bool {
		return ch.Type == reconcile.Deleted && want[ch.Object.Name]
	})); err != nil {
		return nil, fmt.Errorf("serviceaccount: %w", err)
	}
	return c, nil
}

// Run waits for the caches and reconciles until ctx ends; it returns nil
// then, or the error that stopped it.
func (c *Controller) Run(ctx context.Context) error {
	return runNamespaceLoop(ctx, c.ctl, c.ns, c.accounts)
}

// Reconcile creates the configured accounts missing from the namespace
// named req.Name, if it is active.
func (c *Controller) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	if !active(c.ns, req.Name) {
		return reconcile.Result{}, nil
	}
	var errs []error
	for _, name := range c.cfg.ServiceAccounts {
		if _, ok := c.accounts.Get(req.Name, name); ok {
			continue
		}
		sa := &api.ServiceAccount{}
		sa.Namespace, sa.Name = req.Name, name
		if _, err := c.cfg.Client.ServiceAccounts().Create(ctx, sa); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			errs = append(errs, fmt.Errorf("create service account %s/%s: %w", req.Name, name, err))
			continue
		}
		c.log.Info("created service account", "namespace", req.Name, "name", name)
	}
	return reconcile.Result{}, errors.Join(errs...)
}

// active reports whether the cached namespace exists and is not
// terminating.
func active(ns *informer.Informer[*api.Namespace], name string) bool {
	n, ok := ns.Get("", name)
	return ok && n.DeletionTimestamp == nil && n.Status.Phase != api.NamespaceTerminating
}

// namespaceOf returns a handler that enqueues an object's namespace.
func namespaceOf[T store.Object](q reconcile.Enqueuer[reconcile.Request]) *reconcile.EventHandler[T, reconcile.Request] {
	return reconcile.EnqueueMapped(q, func(obj T) []reconcile.Request {
		return []reconcile.Request{{Name: obj.GetObjectMeta().Namespace}}
	})
}

// newNamespaceLoop fills the defaults of the shared fields and builds what
// both controllers share: the namespace informer and a controller keyed by
// namespace name, which every active namespace's add or update enqueues.
func newNamespaceLoop(workers *int, clock *clockwork.Clock, logger **slog.Logger, cs *client.Clientset, name string,
	reg prometheus.Registerer, fn func(context.Context, reconcile.Request) (reconcile.Result, error)) (
	*slog.Logger, *informer.Informer[*api.Namespace], *reconcile.Controller[reconcile.Request], error) {
	if *workers == 0 {
		*workers = DefaultWorkers
	}
	if *clock == nil {
		*clock = clockwork.NewRealClock()
	}
	if *logger == nil {
		*logger = slog.New(slog.DiscardHandler)
	}
	log := (*logger).With("controller", name)
	ns, _, err := informer.Shared(cs.Informers(), cs.Namespaces(), informer.Config[*api.Namespace]{})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	ctl, err := reconcile.New(reconcile.Config[reconcile.Request]{Name: name, Reconciler: reconcile.Func[reconcile.Request](fn),
		Workers: *workers, Clock: *clock, Logger: log, Registerer: reg})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if _, err := ns.AddHandler(reconcile.EnqueueKey[*api.Namespace](ctl.Queue()).With(func(ch reconcile.Change[*api.Namespace]) bool {
		return ch.Type != reconcile.Deleted && ch.Object.DeletionTimestamp == nil
	})); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return log, ns, ctl, nil
}

// runNamespaceLoop waits for the caches, then runs ctl until ctx ends.
// The namespace handler enqueues every namespace of the initial list.
func runNamespaceLoop[T store.Object](ctx context.Context, ctl *reconcile.Controller[reconcile.Request],
	ns *informer.Informer[*api.Namespace], other *informer.Informer[T]) error {
	if err := ns.WaitForSync(ctx); err != nil {
		return nil // ctx ended
	}
	if err := other.WaitForSync(ctx); err != nil {
		return nil
	}
	return ctl.Run(ctx)
}
