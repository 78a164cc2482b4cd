package endpointslice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
)

// Defaults of Config, Kubernetes' defaults.
const (
	// DefaultMaxEndpointsPerSlice is --max-endpoints-per-slice.
	DefaultMaxEndpointsPerSlice = 100
	// DefaultWorkers is --concurrent-endpointslice-syncs.
	DefaultWorkers = 5
	// DefaultManagedBy is the managed-by label value of Kubernetes'
	// controller; slices with another value are left alone.
	DefaultManagedBy = "endpointslice-controller.k8s.io"
	// MaxEndpointsPerSliceLimit is the most endpoints a slice may hold
	// (the API's limit).
	MaxEndpointsPerSliceLimit = 1000
)

// Config configures the controller. Client is required; every other field
// has a documented default.
type Config struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// MaxEndpointsPerSlice bounds a slice's endpoints. Default
	// DefaultMaxEndpointsPerSlice; at most MaxEndpointsPerSliceLimit.
	MaxEndpointsPerSlice int
	// BatchPeriod delays the sync after a pod change, so changes within
	// the window are written together (--endpoint-updates-batch-period).
	// Default 0: each pod change is synced at once.
	BatchPeriod time.Duration
	// Workers is how many services are synced at once. Default
	// DefaultWorkers.
	Workers int
	// ManagedBy is the managed-by label value of the slices it owns.
	// Default DefaultManagedBy.
	ManagedBy string
	// Clock times the batching window, retries and the lag metric.
	// Default: the real clock.
	Clock clockwork.Clock
	// Logger receives the logs, keyed by object. Default discard.
	Logger *slog.Logger
	// Registerer, if set, receives the controller's metrics (queue,
	// reconcile, the endpoints lag histogram, slice changes).
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("endpointslice: Client is required")
	case c.MaxEndpointsPerSlice < 0 || c.MaxEndpointsPerSlice > MaxEndpointsPerSliceLimit:
		return fmt.Errorf("endpointslice: MaxEndpointsPerSlice %d is outside 1..%d", c.MaxEndpointsPerSlice, MaxEndpointsPerSliceLimit)
	case c.BatchPeriod < 0:
		return fmt.Errorf("endpointslice: BatchPeriod %v is negative", c.BatchPeriod)
	case c.Workers < 0:
		return fmt.Errorf("endpointslice: Workers %d is negative", c.Workers)
	}
	return nil
}

// Index names of the controller's informer indexes.
const (
	serviceIndex = "endpointslice.service"
)

// Controller keeps each selector service's EndpointSlices; see the
// package documentation.
type Controller struct {
	cfg      Config
	log      *slog.Logger
	services *informer.Informer[*api.Service]
	pods     *informer.Informer[*api.Pod]
	nodes    *informer.Informer[*api.Node]
	slices   *informer.Informer[*discovery.EndpointSlice]
	sp       *ServicePods
	ctrl     *reconcile.Controller[reconcile.Request]
	lag      prometheus.Histogram
	changes  *prometheus.CounterVec

	mu      sync.Mutex
	pending map[string]time.Time        // pod key -> when its change was seen
	written map[string]map[string]int64 // service -> slice name -> revision written (0: deleted)
}

// New checks cfg and builds the controller; it sends no request.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxEndpointsPerSlice == 0 {
		cfg.MaxEndpointsPerSlice = DefaultMaxEndpointsPerSlice
	}
	if cfg.Workers == 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.ManagedBy == "" {
		cfg.ManagedBy = DefaultManagedBy
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Controller{cfg: cfg, log: cfg.Logger.With("controller", "endpointslice"),
		pending: map[string]time.Time{}, written: map[string]map[string]int64{}}
	var err error
	f := cfg.Client.Informers()
	if c.sp, err = NewServicePods(cfg.Client); err != nil {
		return nil, fmt.Errorf("endpointslice: %w", err)
	}
	c.services, c.pods = c.sp.Services, c.sp.Pods
	if c.nodes, _, err = informer.Shared(f, cfg.Client.Nodes(), informer.Config[*api.Node]{}); err != nil {
		return nil, fmt.Errorf("endpointslice: %w", err)
	}
	bySvc := func(s *discovery.EndpointSlice) []string {
		if s.Labels[discovery.LabelManagedBy] != cfg.ManagedBy || s.Labels[discovery.LabelServiceName] == "" {
			return nil
		}
		return []string{s.Namespace + "/" + s.Labels[discovery.LabelServiceName]}
	}
	if c.slices, _, err = informer.Shared(f, cfg.Client.EndpointSlices(), informer.Config[*discovery.EndpointSlice]{
		Indexers: map[string]informer.IndexFunc[*discovery.EndpointSlice]{serviceIndex + "." + cfg.ManagedBy: bySvc}}); err != nil {
		return nil, fmt.Errorf("endpointslice: %w", err)
	}
	c.lag = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "setpoint", Subsystem: "endpointslice", Name: "endpoints_lag_seconds",
		Help:    "Time from the controller observing a pod change (readiness, address, deletion) to the write of the slice that carries it.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)})
	c.changes = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "setpoint", Subsystem: "endpointslice", Name: "changes_total",
		Help: "EndpointSlice writes, by operation."}, []string{"operation"})
	if cfg.Registerer != nil {
		for _, m := range []prometheus.Collector{c.lag, c.changes} {
			if err := cfg.Registerer.Register(m); err != nil {
				return nil, fmt.Errorf("endpointslice: %w", err)
			}
		}
	}
	c.ctrl, err = reconcile.New(reconcile.Config[reconcile.Request]{Name: "endpointslice", Reconciler: reconcile.Func[reconcile.Request](c.sync),
		Workers: cfg.Workers, Clock: cfg.Clock, Logger: cfg.Logger, Registerer: cfg.Registerer})
	if err != nil {
		return nil, err
	}
	if _, err := c.services.AddHandler(informer.HandlerFuncs[*api.Service]{
		AddFunc:    func(s *api.Service, _ bool) { c.enqueue(s.Namespace, s.Name, 0) },
		UpdateFunc: func(_, s *api.Service) { c.enqueue(s.Namespace, s.Name, 0) },
		DeleteFunc: func(s *api.Service, _ bool) { c.enqueue(s.Namespace, s.Name, 0) },
	}); err != nil {
		return nil, err
	}
	if _, err := c.pods.AddHandler(informer.HandlerFuncs[*api.Pod]{
		AddFunc:    func(p *api.Pod, _ bool) { c.podChanged(nil, p) },
		UpdateFunc: c.podChanged,
		DeleteFunc: func(p *api.Pod, _ bool) { c.podChanged(nil, p) },
	}); err != nil {
		return nil, err
	}
	sliceChanged := func(s *discovery.EndpointSlice) {
		if s.Labels[discovery.LabelManagedBy] == cfg.ManagedBy && s.Labels[discovery.LabelServiceName] != "" {
			c.enqueue(s.Namespace, s.Labels[discovery.LabelServiceName], 0)
		}
	}
	if _, err := c.slices.AddHandler(informer.HandlerFuncs[*discovery.EndpointSlice]{
		AddFunc:    func(s *discovery.EndpointSlice, _ bool) { sliceChanged(s) },
		UpdateFunc: func(_, s *discovery.EndpointSlice) { sliceChanged(s) },
		DeleteFunc: func(s *discovery.EndpointSlice, _ bool) { sliceChanged(s) },
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// Run waits for the caches and syncs services until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	for _, w := range []interface{ WaitForSync(context.Context) error }{c.services, c.pods, c.nodes, c.slices} {
		if err := w.WaitForSync(ctx); err != nil {
			return nil // ctx ended
		}
	}
	for _, s := range c.services.List() {
		c.enqueue(s.Namespace, s.Name, 0)
	}
	return c.ctrl.Run(ctx)
}

func (c *Controller) enqueue(ns, name string, after time.Duration) {
	r := reconcile.Request{Namespace: ns, Name: name}
	if after > 0 {
		c.ctrl.Queue().AddAfter(r, after)
		return
	}
	c.ctrl.Queue().Add(r)
}

// podChanged enqueues the services that select old or cur (after the
// batching window) and notes when the change was seen.
func (c *Controller) podChanged(old, cur *api.Pod) {
	if old != nil && old.ResourceVersion == cur.ResourceVersion {
		return
	}
	c.mu.Lock()
	c.pending[cur.Namespace+"/"+cur.Name] = c.cfg.Clock.Now()
	c.mu.Unlock()
	for _, s := range c.sp.Selecting(old, cur) {
		c.enqueue(s.Namespace, s.Name, c.cfg.BatchPeriod)
	}
}

// nodeZone returns the zone label of a cached node.
func (c *Controller) nodeZone(name string) (string, bool) {
	n, ok := c.nodes.Get("", name)
	if !ok {
		return "", false
	}
	z, ok := n.Labels[api.LabelTopologyZone]
	return z, ok
}

// stale reports whether the slice cache has not yet caught up with this
// controller's own writes for the service: syncing then could duplicate
// slices (Kubernetes' endpointSliceTracker). The slice events that catch
// it up enqueue the service again.
func (c *Controller) stale(key string, cached []*discovery.EndpointSlice) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.written[key]
	if len(w) == 0 {
		return false
	}
	have := map[string]int64{}
	for _, s := range cached {
		have[s.Name], _ = strconv.ParseInt(s.ResourceVersion, 10, 64)
	}
	for name, rev := range w {
		got, ok := have[name]
		switch {
		case rev == 0 && ok, rev > 0 && (!ok || got < rev):
			return true
		}
		delete(w, name)
	}
	return false
}

func (c *Controller) wrote(key, name string, rev string) {
	r, _ := strconv.ParseInt(rev, 10, 64)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.written[key] == nil {
		c.written[key] = map[string]int64{}
	}
	c.written[key][name] = r
}

// sync brings one service's slices to what its pods say.
func (c *Controller) sync(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	key := req.String()
	svc, ok := c.services.Get(req.Namespace, req.Name)
	if !ok {
		// The slices go with the service (ownerReference, garbage collector).
		c.mu.Lock()
		delete(c.written, key)
		c.mu.Unlock()
		return reconcile.Result{}, nil
	}
	if svc.Spec.Selector == nil || svc.Spec.Type == api.ServiceTypeExternalName {
		return reconcile.Result{}, nil
	}
	existing, _ := c.slices.ByIndex(serviceIndex+"."+c.cfg.ManagedBy, key)
	if c.stale(key, existing) {
		return reconcile.Result{}, nil
	}
	desired := endpointsFor(svc, c.sp.PodsOf(svc), c.nodeZone)
	labels := c.sliceLabels(svc)
	pl := planSlices(existing, desired, c.cfg.MaxEndpointsPerSlice, func(d *desiredEndpoint) *discovery.EndpointSlice {
		s := &discovery.EndpointSlice{AddressType: discovery.AddressTypeIPv4, Endpoints: []discovery.Endpoint{}, Ports: []discovery.EndpointPort{}}
		s.Namespace, s.GenerateName = svc.Namespace, svc.Name+"-"
		s.OwnerReferences = []store.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID,
			Controller: ptr(true), BlockOwnerDeletion: ptr(true)}}
		if d != nil {
			at, _, _ := strings.Cut(d.group, "|")
			s.AddressType = discovery.AddressType(at)
			s.Ports = d.ports
		}
		return s
	})
	// Slices whose labels drifted from the service's are rewritten too.
	for _, s := range existing {
		if !maps.Equal(s.Labels, labels) && !planned(&pl, s.Name) {
			pl.update = append(pl.update, s.DeepCopy())
		}
	}
	var errs []error
	for _, s := range pl.remove {
		err := c.cfg.Client.EndpointSlices().DeleteNow(ctx, s.Namespace, s.Name, store.WithPreconditionUID(s.UID))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, fmt.Errorf("delete slice %s/%s: %w", s.Namespace, s.Name, err))
			continue
		}
		c.wrote(key, s.Name, "0")
		c.changes.WithLabelValues("delete").Inc()
	}
	for _, s := range pl.update {
		s.Labels = labels
		out, err := c.cfg.Client.EndpointSlices().Update(ctx, s)
		if err != nil {
			errs = append(errs, fmt.Errorf("update slice %s/%s: %w", s.Namespace, s.Name, err))
			continue
		}
		c.wrote(key, out.Name, out.ResourceVersion)
		c.changes.WithLabelValues("update").Inc()
	}
	for _, s := range pl.create {
		s.Labels = labels
		out, err := c.cfg.Client.EndpointSlices().Create(ctx, s)
		if err != nil {
			errs = append(errs, fmt.Errorf("create slice for service %s: %w", key, err))
			continue
		}
		c.wrote(key, out.Name, out.ResourceVersion)
		c.changes.WithLabelValues("create").Inc()
	}
	if len(errs) > 0 {
		return reconcile.Result{}, errors.Join(errs...)
	}
	c.observeLag(pl.touched)
	return reconcile.Result{}, nil
}

func planned(p *plan, name string) bool {
	for _, l := range [][]*discovery.EndpointSlice{p.update, p.remove} {
		for _, s := range l {
			if s.Name == name {
				return true
			}
		}
	}
	return false
}

// sliceLabels are a managed slice's labels: the service's, the
// service-name and managed-by labels, and service.kubernetes.io/headless
// for a headless service (as Kubernetes sets them).
func (c *Controller) sliceLabels(svc *api.Service) map[string]string {
	l := map[string]string{}
	maps.Copy(l, svc.Labels)
	l[discovery.LabelServiceName] = svc.Name
	l[discovery.LabelManagedBy] = c.cfg.ManagedBy
	if svc.Spec.ClusterIP == api.ClusterIPNone {
		l[LabelHeadless] = ""
	}
	return l
}

// LabelHeadless marks the slices of a headless service.
const LabelHeadless = "service.kubernetes.io/headless"

// observeLag records, for each pod whose endpoint was just written, the
// time since its change was seen.
func (c *Controller) observeLag(touched []string) {
	now := c.cfg.Clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range touched {
		pod, _, _ := cutLast(k, "|")
		if t, ok := c.pending[pod]; ok {
			c.lag.Observe(now.Sub(t).Seconds())
			delete(c.pending, pod)
		}
	}
	// Changes that touched no endpoint (a pod no service selects) are
	// forgotten after a while, so the map stays small.
	for k, t := range c.pending {
		if now.Sub(t) > 10*time.Minute {
			delete(c.pending, k)
		}
	}
}

func cutLast(s, sep string) (before, after string, found bool) {
	for i := len(s) - len(sep); i >= 0; i-- {
		if s[i:i+len(sep)] == sep {
			return s[:i], s[i+len(sep):], true
		}
	}
	return s, "", false
}
