package cronjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api/batch"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
)

// DefaultWorkers is Kubernetes' --concurrent-cron-job-syncs default.
const DefaultWorkers = 5

// Config configures the controller. Client is required; every other
// field has a documented default.
type Config struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// Workers is how many cron jobs are synced at once. Default
	// DefaultWorkers.
	Workers int
	// Recorder, if set, receives the controller's Events.
	Recorder *controllerutil.Recorder
	// Clock is what schedules are read against. Default: the real clock.
	Clock clockwork.Clock
	// Location is the time zone of schedules without spec.timeZone (the
	// controller manager's local zone in Kubernetes). Default time.Local.
	Location *time.Location
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
		return errors.New("cronjob: Client is required")
	case c.Workers < 0:
		return fmt.Errorf("cronjob: Workers %d is negative", c.Workers)
	}
	return nil
}

// Controller starts cron jobs' jobs on schedule; see the package
// documentation.
type Controller struct {
	cfg  Config
	log  *slog.Logger
	cjs  *informer.Informer[*batch.CronJob]
	jobs *informer.Informer[*batch.Job]
	ctrl *reconcile.Controller[reconcile.Request]
}

const jobsByController = "cronJobControllerUID"

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
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Controller{cfg: cfg, log: cfg.Logger.With("controller", "cronjob")}
	var err error
	if c.cjs, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.CronJobs(), informer.Config[*batch.CronJob]{}); err != nil {
		return nil, fmt.Errorf("cronjob: %w", err)
	}
	if c.jobs, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.Jobs(), informer.Config[*batch.Job]{
		Indexers: map[string]informer.IndexFunc[*batch.Job]{jobsByController: func(j *batch.Job) []string {
			if ref := j.ControllerOf(); ref != nil && ref.Kind == batch.CronJobResource.Kind {
				return []string{ref.UID}
			}
			return nil
		}}}); err != nil {
		return nil, fmt.Errorf("cronjob: %w", err)
	}
	c.ctrl, err = reconcile.New(reconcile.Config[reconcile.Request]{
		Name: "cronjob", Reconciler: reconcile.Func[reconcile.Request](c.sync), Workers: cfg.Workers,
		Clock: cfg.Clock, Logger: c.log, Registerer: cfg.Registerer})
	if err != nil {
		return nil, fmt.Errorf("cronjob: %w", err)
	}
	if _, err := c.cjs.AddHandler(reconcile.EnqueueKey[*batch.CronJob](c.ctrl.Queue())); err != nil {
		return nil, fmt.Errorf("cronjob: %w", err)
	}
	enqueueOwner := func(j *batch.Job) {
		if ref := j.ControllerOf(); ref != nil && ref.Kind == batch.CronJobResource.Kind {
			c.ctrl.Queue().Add(reconcile.Request{Namespace: j.Namespace, Name: ref.Name})
		}
	}
	if _, err := c.jobs.AddHandler(informer.HandlerFuncs[*batch.Job]{
		AddFunc:    func(j *batch.Job, _ bool) { enqueueOwner(j) },
		UpdateFunc: func(_, j *batch.Job) { enqueueOwner(j) },
		DeleteFunc: func(j *batch.Job, _ bool) { enqueueOwner(j) },
	}); err != nil {
		return nil, fmt.Errorf("cronjob: %w", err)
	}
	return c, nil
}

// Run waits for the caches, then syncs cron jobs until ctx ends. It may
// follow an earlier Run (a new leadership term).
func (c *Controller) Run(ctx context.Context) error {
	if err := c.cjs.WaitForSync(ctx); err != nil {
		return nil // ctx ended
	}
	if err := c.jobs.WaitForSync(ctx); err != nil {
		return nil
	}
	for _, cj := range c.cjs.List() {
		c.ctrl.Queue().Add(reconcile.Request{Namespace: cj.Namespace, Name: cj.Name})
	}
	return c.ctrl.Run(ctx)
}
