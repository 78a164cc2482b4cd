package tokencleaner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/bootstrap"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
)

// Config configures the cleaner. Client is required.
type Config struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// Clock decides expiry and times the wait for it. Default real.
	Clock clockwork.Clock
	// Logger receives the logs. Default discard.
	Logger *slog.Logger
	// Registerer, if set, receives the reconcile metrics.
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	if c.Client == nil {
		return errors.New("tokencleaner: Client is required")
	}
	return nil
}

// Cleaner deletes expired bootstrap token Secrets.
type Cleaner struct {
	cfg     Config
	secrets *informer.Informer[*api.Secret]
	ctrl    *reconcile.Controller[reconcile.Request]
}

// New checks cfg and builds the cleaner.
func New(cfg Config) (*Cleaner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Cleaner{cfg: cfg}
	var err error
	if c.secrets, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.Secrets(), informer.Config[*api.Secret]{}); err != nil {
		return nil, fmt.Errorf("tokencleaner: %w", err)
	}
	if c.ctrl, err = reconcile.New(reconcile.Config[reconcile.Request]{Name: "tokencleaner", Reconciler: reconcile.Func[reconcile.Request](c.sync),
		Workers: 1, Clock: cfg.Clock, Logger: cfg.Logger, Registerer: cfg.Registerer}); err != nil {
		return nil, fmt.Errorf("tokencleaner: %w", err)
	}
	enq := func(s *api.Secret) {
		if isToken(s) {
			c.ctrl.Queue().Add(reconcile.Request{Namespace: s.Namespace, Name: s.Name})
		}
	}
	if _, err := c.secrets.AddHandler(informer.HandlerFuncs[*api.Secret]{
		AddFunc:    func(s *api.Secret, _ bool) { enq(s) },
		UpdateFunc: func(_, s *api.Secret) { enq(s) },
	}); err != nil {
		return nil, fmt.Errorf("tokencleaner: %w", err)
	}
	return c, nil
}

func isToken(s *api.Secret) bool {
	return s.Namespace == bootstrap.Namespace && string(s.Type) == bootstrap.SecretType
}

// Run waits for the cache and cleans until ctx ends.
func (c *Cleaner) Run(ctx context.Context) error {
	if err := c.secrets.WaitForSync(ctx); err != nil {
		return nil // ctx ended
	}
	for _, s := range c.secrets.List() {
		if isToken(s) {
			c.ctrl.Queue().Add(reconcile.Request{Namespace: s.Namespace, Name: s.Name})
		}
	}
	return c.ctrl.Run(ctx)
}

func (c *Cleaner) sync(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	s, ok := c.secrets.Get(req.Namespace, req.Name)
	if !ok || !isToken(s) || s.DeletionTimestamp != nil {
		return reconcile.Result{}, nil
	}
	exp, has := bootstrap.Expiration(s.Data)
	if !has {
		return reconcile.Result{}, nil
	}
	if now := c.cfg.Clock.Now(); now.Before(exp) {
		return reconcile.Result{RequeueAfter: exp.Sub(now)}, nil
	}
	_, err := c.cfg.Client.Secrets().Delete(ctx, s.Namespace, s.Name, store.WithPreconditionUID(s.UID))
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
		return reconcile.Result{}, nil // gone, or replaced: the new one is looked at on its own
	case err != nil:
		return reconcile.Result{}, fmt.Errorf("deleting expired bootstrap token Secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	c.cfg.Logger.Info("deleted expired bootstrap token", "controller", "tokencleaner", "object", s.Namespace+"/"+s.Name, "expiration", exp)
	return reconcile.Result{}, nil
}
