package resourcequota

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
)

// DefaultWorkers is Kubernetes' --concurrent-resource-quota-syncs default.
const DefaultWorkers = 5

// Config configures the controller. Client is required; every other field
// has a documented default.
type Config struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// Workers is how many quotas are recomputed at once. Default
	// DefaultWorkers.
	Workers int
	// Clock times retries. Default: the real clock.
	Clock clockwork.Clock
	// Logger receives the logs, keyed by object. Default discard.
	Logger *slog.Logger
	// Registerer, if set, receives the controller's metrics.
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("resourcequota: Client is required")
	case c.Workers < 0:
		return fmt.Errorf("resourcequota: Workers %d is negative", c.Workers)
	}
	return nil
}

// Controller keeps ResourceQuota status; see the package documentation.
type Controller struct {
	cfg      Config
	quotas   *informer.Informer[*api.ResourceQuota]
	pods     *informer.Informer[*api.Pod]
	services *informer.Informer[*api.Service]
	ctrl     *reconcile.Controller[reconcile.Request]
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
	c := &Controller{cfg: cfg}
	f := cfg.Client.Informers()
	var err error
	nsIndex := func() map[string]informer.IndexFunc[*api.ResourceQuota] {
		return map[string]informer.IndexFunc[*api.ResourceQuota]{informer.NamespaceIndex: informer.IndexByNamespace[*api.ResourceQuota]}
	}
	if c.quotas, _, err = informer.Shared(f, cfg.Client.ResourceQuotas(), informer.Config[*api.ResourceQuota]{Indexers: nsIndex()}); err != nil {
		return nil, fmt.Errorf("resourcequota: %w", err)
	}
	if c.pods, _, err = informer.Shared(f, cfg.Client.Pods(), informer.Config[*api.Pod]{
		Indexers: map[string]informer.IndexFunc[*api.Pod]{informer.NamespaceIndex: informer.IndexByNamespace[*api.Pod]}}); err != nil {
		return nil, fmt.Errorf("resourcequota: %w", err)
	}
	if c.services, _, err = informer.Shared(f, cfg.Client.Services(), informer.Config[*api.Service]{
		Indexers: map[string]informer.IndexFunc[*api.Service]{informer.NamespaceIndex: informer.IndexByNamespace[*api.Service]}}); err != nil {
		return nil, fmt.Errorf("resourcequota: %w", err)
	}
	c.ctrl, err = reconcile.New(reconcile.Config[reconcile.Request]{Name: "resourcequota",
		Reconciler: reconcile.Func[reconcile.Request](c.sync), Workers: cfg.Workers,
		Clock: cfg.Clock, Logger: cfg.Logger.With("controller", "resourcequota"), Registerer: cfg.Registerer})
	if err != nil {
		return nil, fmt.Errorf("resourcequota: %w", err)
	}
	if _, err := c.quotas.AddHandler(reconcile.EnqueueKey[*api.ResourceQuota](c.ctrl.Queue())); err != nil {
		return nil, fmt.Errorf("resourcequota: %w", err)
	}
	if _, err := c.pods.AddHandler(informer.HandlerFuncs[*api.Pod]{
		AddFunc:    func(p *api.Pod, _ bool) { c.enqueueNamespace(p.Namespace) },
		UpdateFunc: func(old, cur *api.Pod) { c.enqueueNamespace(cur.Namespace) },
		DeleteFunc: func(p *api.Pod, _ bool) { c.enqueueNamespace(p.Namespace) },
	}); err != nil {
		return nil, fmt.Errorf("resourcequota: %w", err)
	}
	if _, err := c.services.AddHandler(informer.HandlerFuncs[*api.Service]{
		AddFunc:    func(s *api.Service, _ bool) { c.enqueueNamespace(s.Namespace) },
		DeleteFunc: func(s *api.Service, _ bool) { c.enqueueNamespace(s.Namespace) },
	}); err != nil {
		return nil, fmt.Errorf("resourcequota: %w", err)
	}
	return c, nil
}

func (c *Controller) enqueueNamespace(ns string) {
	qs, _ := c.quotas.ByIndex(informer.NamespaceIndex, ns)
	for _, q := range qs {
		c.ctrl.Queue().Add(reconcile.Request{Namespace: q.Namespace, Name: q.Name})
	}
}

// Run waits for the caches, then keeps quota status until ctx ends. It
// may follow an earlier Run.
func (c *Controller) Run(ctx context.Context) error {
	for _, synced := range []func(context.Context) error{c.quotas.WaitForSync, c.pods.WaitForSync, c.services.WaitForSync} {
		if err := synced(ctx); err != nil {
			return nil // ctx ended
		}
	}
	for _, q := range c.quotas.List() {
		c.ctrl.Queue().Add(reconcile.Request{Namespace: q.Namespace, Name: q.Name})
	}
	return c.ctrl.Run(ctx)
}

// usage counts what the namespace's cached objects use.
func (c *Controller) usage(ns string) api.ResourceList {
	used := api.ResourceList{}
	pods, _ := c.pods.ByIndex(informer.NamespaceIndex, ns)
	for _, p := range pods {
		used = used.Add(registry.PodUsage(p))
	}
	services, _ := c.services.ByIndex(informer.NamespaceIndex, ns)
	used["services"] = api.NewQuantity(int64(len(services)), api.DecimalSI)
	used["count/services"] = used["services"]
	if n, ok := used["pods"]; ok {
		used["count/pods"] = n
	} else {
		used["pods"] = api.NewQuantity(0, api.DecimalSI)
		used["count/pods"] = used["pods"]
	}
	return used
}

func (c *Controller) sync(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	q, ok := c.quotas.Get(req.Namespace, req.Name)
	if !ok {
		return reconcile.Result{}, nil
	}
	all := c.usage(q.Namespace)
	used := api.ResourceList{}
	for name := range q.Spec.Hard {
		if v, ok := all[name]; ok {
			used[name] = v
		} else {
			used[name] = api.NewQuantity(0, api.DecimalSI)
		}
	}
	if sameList(q.Status.Hard, q.Spec.Hard) && sameList(q.Status.Used, used) {
		return reconcile.Result{}, nil
	}
	upd := q.DeepCopy()
	upd.Status.Hard = maps.Clone(q.Spec.Hard)
	upd.Status.Used = used
	if _, err := c.cfg.Client.ResourceQuotas().UpdateStatus(ctx, upd); err != nil {
		return reconcile.Result{}, fmt.Errorf("update status of %s: %w", req, err)
	}
	return reconcile.Result{}, nil
}

func sameList(a, b api.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || v.Cmp(w) != 0 {
			return false
		}
	}
	return true
}
