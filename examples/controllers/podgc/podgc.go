package podgc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
)

// Defaults of Config, Kubernetes' defaults.
const (
	DefaultTerminatedPodThreshold = 12500
	DefaultPeriod                 = 20 * time.Second
)

// Config configures the collector. Client is required; every other field
// has a documented default.
type Config struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// TerminatedPodThreshold is how many terminated pods may remain.
	// Default DefaultTerminatedPodThreshold; negative turns the
	// terminated-pod collection off (Kubernetes: <= 0).
	TerminatedPodThreshold int
	// Period is how often it collects. Default DefaultPeriod.
	Period time.Duration
	// Clock times the period. Default: the real clock.
	Clock clockwork.Clock
	// Logger receives the logs, keyed by object. Default discard.
	Logger *slog.Logger
	// Registerer, if set, receives the deleted-pods counter.
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("podgc: Client is required")
	case c.Period < 0:
		return fmt.Errorf("podgc: Period %v is negative", c.Period)
	}
	return nil
}

// Collector deletes terminated pods over the threshold and pods of
// deleted nodes; see the package documentation.
type Collector struct {
	cfg     Config
	log     *slog.Logger
	pods    *informer.Informer[*api.Pod]
	nodes   *informer.Informer[*api.Node]
	deleted *prometheus.CounterVec
}

// New checks cfg and builds the collector; it sends no request.
func New(cfg Config) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.TerminatedPodThreshold == 0 {
		cfg.TerminatedPodThreshold = DefaultTerminatedPodThreshold
	}
	if cfg.Period == 0 {
		cfg.Period = DefaultPeriod
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Collector{cfg: cfg, log: cfg.Logger.With("controller", "podgc")}
	var err error
	if c.pods, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.Pods(), informer.Config[*api.Pod]{}); err != nil {
		return nil, fmt.Errorf("podgc: %w", err)
	}
	if c.nodes, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.Nodes(), informer.Config[*api.Node]{}); err != nil {
		return nil, fmt.Errorf("podgc: %w", err)
	}
	c.deleted = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "setpoint", Subsystem: "podgc", Name: "deleted_pods_total",
		Help: "Pods the pod garbage collector deleted, by reason."}, []string{"reason"})
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(c.deleted); err != nil {
			return nil, fmt.Errorf("podgc: %w", err)
		}
	}
	return c, nil
}

// Run waits for the caches and collects every Period until ctx ends. A
// failed pass is logged and retried at the next period.
func (c *Collector) Run(ctx context.Context) error {
	if err := c.pods.WaitForSync(ctx); err != nil {
		return nil // ctx ended
	}
	if err := c.nodes.WaitForSync(ctx); err != nil {
		return nil
	}
	t := c.cfg.Clock.NewTicker(c.cfg.Period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.Chan():
		}
		if err := c.Collect(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("pod garbage collection incomplete", "err", err)
		}
	}
}

// Collect makes one pass over the cached pods.
func (c *Collector) Collect(ctx context.Context) error {
	pods := c.pods.List()
	var errs []error
	if c.cfg.TerminatedPodThreshold > 0 {
		var terminated []*api.Pod
		for _, p := range pods {
			if (p.Status.Phase == api.PodSucceeded || p.Status.Phase == api.PodFailed) && p.DeletionTimestamp == nil {
				terminated = append(terminated, p)
			}
		}
		if extra := len(terminated) - c.cfg.TerminatedPodThreshold; extra > 0 {
			slices.SortFunc(terminated, func(a, b *api.Pod) int {
				if x := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); x != 0 {
					return x
				}
				return compareKeys(a, b)
			})
			for _, p := range terminated[:extra] {
				errs = append(errs, c.delete(ctx, p, "terminated"))
			}
		}
	}
	checked := map[string]bool{}
	for _, p := range pods {
		node := p.Spec.NodeName
		if node == "" || p.DeletionTimestamp != nil {
			continue
		}
		if _, ok := c.nodes.Get("", node); ok {
			continue
		}
		gone, seen := checked[node]
		if !seen {
			_, err := c.cfg.Client.Nodes().Get(ctx, "", node)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				errs = append(errs, fmt.Errorf("read node %s: %w", node, err))
				continue
			}
			gone = errors.Is(err, store.ErrNotFound)
			checked[node] = gone
		}
		if gone {
			errs = append(errs, c.delete(ctx, p, "orphaned"))
		}
	}
	return errors.Join(errs...)
}

func compareKeys(a, b *api.Pod) int {
	if a.Namespace != b.Namespace {
		if a.Namespace < b.Namespace {
			return -1
		}
		return 1
	}
	switch {
	case a.Name < b.Name:
		return -1
	case a.Name > b.Name:
		return 1
	}
	return 0
}

// delete force-deletes p (grace 0, UID precondition), as Kubernetes' pod
// GC does: the pods it collects have finished or lost their node, so no
// kubelet will confirm a graceful deletion.
func (c *Collector) delete(ctx context.Context, p *api.Pod, reason string) error {
	err := c.cfg.Client.Pods().DeleteNow(ctx, p.Namespace, p.Name, store.WithPreconditionUID(p.UID))
	switch {
	case err == nil:
		c.deleted.WithLabelValues(reason).Inc()
		c.log.Info("deleted pod", "object", p.Namespace+"/"+p.Name, "reason", reason, "node", p.Spec.NodeName)
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrFenced):
		return nil
	}
	return fmt.Errorf("delete pod %s/%s: %w", p.Namespace, p.Name, err)
}
