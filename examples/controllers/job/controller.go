package job

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/batch"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/examples/controllers/replicaset"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
)

// DefaultWorkers is Kubernetes' --concurrent-job-syncs default.
const DefaultWorkers = 5

// TrackingFinalizer is the finalizer the controller puts on every pod it
// creates and removes once the pod's end is counted in the job's status,
// so a pod deleted before it was counted is never lost
// (batch.kubernetes.io/job-tracking).
const TrackingFinalizer = "batch.kubernetes.io/job-tracking"

// Label and annotation names on an indexed job's pods, and the
// environment variable carrying the index, as Kubernetes names them.
const (
	CompletionIndexLabel    = "batch.kubernetes.io/job-completion-index"
	IndexFailureAnnotation  = "batch.kubernetes.io/job-index-failure-count"
	CompletionIndexEnv      = "JOB_COMPLETION_INDEX"
	maxPodCreateDeleteBurst = 500
)

// Config configures the controller. Client is required; every other
// field has a documented default.
type Config struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// Workers is how many jobs are synced at once. Default DefaultWorkers.
	Workers int
	// Recorder, if set, receives the controller's Events.
	Recorder *controllerutil.Recorder
	// Clock times deadlines, TTLs, condition times and retries. Default:
	// the real clock.
	Clock clockwork.Clock
	// Logger receives the controller's logs, keyed by object. Default
	// discard.
	Logger *slog.Logger
	// Registerer, if set, receives the controller's metrics.
	Registerer prometheus.Registerer
	// PodFailureBackoff is the delay before a failed pod is replaced
	// after the first failure; it doubles with each further failure.
	// Default DefaultPodFailureBackoff (10 s).
	PodFailureBackoff time.Duration
	// MaxPodFailureBackoff caps that delay. Default
	// DefaultMaxPodFailureBackoff (6 min).
	MaxPodFailureBackoff time.Duration
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("job: Client is required")
	case c.Workers < 0:
		return fmt.Errorf("job: Workers %d is negative", c.Workers)
	case c.PodFailureBackoff < 0:
		return fmt.Errorf("job: PodFailureBackoff %v is negative", c.PodFailureBackoff)
	case c.MaxPodFailureBackoff < 0:
		return fmt.Errorf("job: MaxPodFailureBackoff %v is negative", c.MaxPodFailureBackoff)
	}
	return nil
}

// Controller runs jobs' pods to completion; see the package documentation.
type Controller struct {
	cfg  Config
	log  *slog.Logger
	jobs *informer.Informer[*batch.Job]
	pods *informer.Informer[*api.Pod]
	exp  *controllerutil.Expectations
	ctrl *reconcile.Controller[reconcile.Request]
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
	if cfg.PodFailureBackoff == 0 {
		cfg.PodFailureBackoff = DefaultPodFailureBackoff
	}
	if cfg.MaxPodFailureBackoff == 0 {
		cfg.MaxPodFailureBackoff = DefaultMaxPodFailureBackoff
	}
	c := &Controller{cfg: cfg, log: cfg.Logger.With("controller", "job"), exp: controllerutil.NewExpectations(cfg.Clock)}
	var err error
	if c.jobs, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.Jobs(), informer.Config[*batch.Job]{}); err != nil {
		return nil, fmt.Errorf("job: %w", err)
	}
	if c.pods, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.Pods(), informer.Config[*api.Pod]{Indexers: replicaset.PodIndexers()}); err != nil {
		return nil, fmt.Errorf("job: %w", err)
	}
	c.ctrl, err = reconcile.New(reconcile.Config[reconcile.Request]{
		Name: "job", Reconciler: reconcile.Func[reconcile.Request](c.sync), Workers: cfg.Workers,
		Clock: cfg.Clock, Logger: c.log, Registerer: cfg.Registerer})
	if err != nil {
		return nil, fmt.Errorf("job: %w", err)
	}
	if _, err := c.jobs.AddHandler(informer.HandlerFuncs[*batch.Job]{
		AddFunc:    func(j *batch.Job, _ bool) { c.enqueue(j.Namespace, j.Name) },
		UpdateFunc: func(_, j *batch.Job) { c.enqueue(j.Namespace, j.Name) },
		DeleteFunc: func(j *batch.Job, _ bool) { c.exp.Forget(j.Namespace + "/" + j.Name); c.enqueue(j.Namespace, j.Name) },
	}); err != nil {
		return nil, fmt.Errorf("job: %w", err)
	}
	if _, err := c.pods.AddHandler(informer.HandlerFuncs[*api.Pod]{
		AddFunc: func(p *api.Pod, _ bool) {
			if k, ok := c.owner(p); ok {
				if p.DeletionTimestamp != nil {
					c.exp.DeletionObserved(k.String(), controllerutil.PodKey(p))
				} else {
					c.exp.CreationObserved(k.String())
				}
				c.ctrl.Queue().Add(k)
			}
		},
		UpdateFunc: func(old, p *api.Pod) {
			if k, ok := c.owner(old); ok {
				c.ctrl.Queue().Add(k)
			}
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
		return nil, fmt.Errorf("job: %w", err)
	}
	return c, nil
}

func (c *Controller) enqueue(ns, name string) {
	c.ctrl.Queue().Add(reconcile.Request{Namespace: ns, Name: name})
}

// owner returns the job a pod's controller reference names.
func (c *Controller) owner(p *api.Pod) (reconcile.Request, bool) {
	ref := p.ControllerOf()
	if ref == nil || ref.Kind != batch.JobResource.Kind {
		return reconcile.Request{}, false
	}
	return reconcile.Request{Namespace: p.Namespace, Name: ref.Name}, true
}

// Run waits for the caches, then syncs jobs until ctx ends. It may follow
// an earlier Run (a new leadership term); each starts with no
// expectations.
func (c *Controller) Run(ctx context.Context) error {
	if err := c.jobs.WaitForSync(ctx); err != nil {
		return nil // ctx ended
	}
	if err := c.pods.WaitForSync(ctx); err != nil {
		return nil
	}
	c.exp.Reset()
	for _, j := range c.jobs.List() {
		c.enqueue(j.Namespace, j.Name)
	}
	return c.ctrl.Run(ctx)
}

// after is the delay until t, at least a millisecond (a requeue for a
// deadline or a TTL).
func after(now, t time.Time) time.Duration { return max(t.Sub(now), time.Millisecond) }
