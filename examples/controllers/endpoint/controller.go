package endpoint

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/examples/controllers/endpointslice"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
)

// Defaults and well-known names, as Kubernetes has them.
const (
	// DefaultWorkers is --concurrent-endpoint-syncs.
	DefaultWorkers = 5
	// MaxAddresses is how many addresses an Endpoints object keeps; more
	// are truncated and the object annotated AnnotationOverCapacity.
	MaxAddresses = 1000
	// AnnotationOverCapacity marks an Endpoints object that was truncated.
	AnnotationOverCapacity = "endpoints.kubernetes.io/over-capacity"
)

// Config configures the controller. Client is required; every other field
// has a documented default.
type Config struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// Workers is how many services are synced at once. Default
	// DefaultWorkers.
	Workers int
	// Clock times retries. Default: the real clock.
	Clock clockwork.Clock
	// Logger receives the logs. Default discard.
	Logger *slog.Logger
	// Registerer, if set, receives the reconcile metrics.
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("endpoint: Client is required")
	case c.Workers < 0:
		return fmt.Errorf("endpoint: Workers %d is negative", c.Workers)
	}
	return nil
}

// Controller keeps each selector service's v1 Endpoints; see the package
// documentation.
type Controller struct {
	cfg       Config
	services  *informer.Informer[*api.Service]
	pods      *informer.Informer[*api.Pod]
	endpoints *informer.Informer[*api.Endpoints]
	sp        *endpointslice.ServicePods
	ctrl      *reconcile.Controller[reconcile.Request]
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
	var err error
	f := cfg.Client.Informers()
	if c.sp, err = endpointslice.NewServicePods(cfg.Client); err != nil {
		return nil, fmt.Errorf("endpoint: %w", err)
	}
	c.services, c.pods = c.sp.Services, c.sp.Pods
	if c.endpoints, _, err = informer.Shared(f, cfg.Client.Endpoints(), informer.Config[*api.Endpoints]{}); err != nil {
		return nil, fmt.Errorf("endpoint: %w", err)
	}
	c.ctrl, err = reconcile.New(reconcile.Config[reconcile.Request]{Name: "endpoint", Reconciler: reconcile.Func[reconcile.Request](c.sync),
		Workers: cfg.Workers, Clock: cfg.Clock, Logger: cfg.Logger, Registerer: cfg.Registerer})
	if err != nil {
		return nil, err
	}
	enq := func(ns, name string) { c.ctrl.Queue().Add(reconcile.Request{Namespace: ns, Name: name}) }
	if _, err := c.services.AddHandler(informer.HandlerFuncs[*api.Service]{
		AddFunc:    func(s *api.Service, _ bool) { enq(s.Namespace, s.Name) },
		UpdateFunc: func(_, s *api.Service) { enq(s.Namespace, s.Name) },
		DeleteFunc: func(s *api.Service, _ bool) { enq(s.Namespace, s.Name) },
	}); err != nil {
		return nil, err
	}
	podChanged := func(old, cur *api.Pod) {
		for _, s := range c.sp.Selecting(old, cur) {
			enq(s.Namespace, s.Name)
		}
	}
	if _, err := c.pods.AddHandler(informer.HandlerFuncs[*api.Pod]{
		AddFunc:    func(p *api.Pod, _ bool) { podChanged(nil, p) },
		UpdateFunc: podChanged,
		DeleteFunc: func(p *api.Pod, _ bool) { podChanged(nil, p) },
	}); err != nil {
		return nil, err
	}
	if _, err := c.endpoints.AddHandler(informer.HandlerFuncs[*api.Endpoints]{
		DeleteFunc: func(e *api.Endpoints, _ bool) { enq(e.Namespace, e.Name) },
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// Run waits for the caches and syncs services until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	for _, w := range []interface{ WaitForSync(context.Context) error }{c.services, c.pods, c.endpoints} {
		if err := w.WaitForSync(ctx); err != nil {
			return nil // ctx ended
		}
	}
	for _, s := range c.services.List() {
		c.ctrl.Queue().Add(reconcile.Request{Namespace: s.Namespace, Name: s.Name})
	}
	// Endpoints of services that went while no controller ran.
	for _, e := range c.endpoints.List() {
		c.ctrl.Queue().Add(reconcile.Request{Namespace: e.Namespace, Name: e.Name})
	}
	return c.ctrl.Run(ctx)
}

func (c *Controller) sync(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	cur, have := c.endpoints.Get(req.Namespace, req.Name)
	svc, ok := c.services.Get(req.Namespace, req.Name)
	if !ok {
		if have && cur.Labels[controllerLabel] != "" {
			err := c.cfg.Client.Endpoints().DeleteNow(ctx, req.Namespace, req.Name, store.WithPreconditionUID(cur.UID))
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return reconcile.Result{}, fmt.Errorf("delete endpoints %s: %w", req, err)
			}
		}
		return reconcile.Result{}, nil
	}
	if svc.Spec.Selector == nil || svc.Spec.Type == api.ServiceTypeExternalName {
		return reconcile.Result{}, nil
	}
	subsets, truncated := Subsets(svc, c.sp.PodsOf(svc))
	labels := map[string]string{}
	maps.Copy(labels, svc.Labels)
	if svc.Spec.ClusterIP == api.ClusterIPNone {
		labels[endpointslice.LabelHeadless] = ""
	}
	labels[controllerLabel] = "true"
	want := &api.Endpoints{Subsets: subsets}
	want.Namespace, want.Name, want.Labels = svc.Namespace, svc.Name, labels
	if truncated {
		want.Annotations = map[string]string{AnnotationOverCapacity: "truncated"}
	}
	if !have {
		// AlreadyExists means the cache has not caught up with an earlier
		// create (ours, or another writer's): that object may hold stale
		// subsets, so the error retries the sync (as Kubernetes does)
		// instead of dropping this change.
		if _, err := c.cfg.Client.Endpoints().Create(ctx, want); err != nil {
			return reconcile.Result{}, fmt.Errorf("create endpoints %s: %w", req, err)
		}
		return reconcile.Result{}, nil
	}
	if reflect.DeepEqual(normal(cur.Subsets), normal(subsets)) && maps.Equal(cur.Labels, labels) &&
		(cur.Annotations[AnnotationOverCapacity] != "") == truncated {
		return reconcile.Result{}, nil
	}
	upd := cur.DeepCopy()
	upd.Subsets, upd.Labels = subsets, labels
	if truncated {
		if upd.Annotations == nil {
			upd.Annotations = map[string]string{}
		}
		upd.Annotations[AnnotationOverCapacity] = "truncated"
	} else {
		delete(upd.Annotations, AnnotationOverCapacity)
	}
	if _, err := c.cfg.Client.Endpoints().Update(ctx, upd); err != nil {
		return reconcile.Result{}, fmt.Errorf("update endpoints %s: %w", req, err)
	}
	return reconcile.Result{}, nil
}

// controllerLabel marks the Endpoints this controller writes, so that it
// never deletes Endpoints a user wrote for a service without selector.
// (Kubernetes tells them apart by the service's selector alone; once the
// service is gone, this label is what is left to go by.)
const controllerLabel = "endpoints.setpoint.dev/managed"

func normal(s []api.EndpointSubset) []api.EndpointSubset {
	if len(s) == 0 {
		return nil
	}
	return s
}

// Subsets computes the subsets of svc's Endpoints from the pods its
// selector matches, as Kubernetes' endpoints controller does: a pod is
// listed if it has an address and has not finished, and, while
// terminating, only with publishNotReadyAddresses; Ready pods (every pod
// with publishNotReadyAddresses) go to addresses, the others to
// notReadyAddresses; addresses with the same resolved ports share a
// subset. At most MaxAddresses addresses are kept (ready ones first);
// truncated says whether some were dropped.
func Subsets(svc *api.Service, pods []*api.Pod) (subsets []api.EndpointSubset, truncated bool) {
	type entry struct {
		addr  api.EndpointAddress
		ready bool
	}
	groups := map[string][]entry{}
	ports := map[string][]api.EndpointPort{}
	for _, p := range pods {
		if !endpointslice.ShouldInclude(p, svc.Spec.PublishNotReadyAddresses) {
			continue
		}
		ip := p.Status.PodIP
		if ip == "" {
			ip = p.Status.PodIPs[0].IP
		}
		a := api.EndpointAddress{IP: ip, TargetRef: &api.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID}}
		if p.Spec.NodeName != "" {
			n := p.Spec.NodeName
			a.NodeName = &n
		}
		if endpointslice.ShouldSetHostname(p, svc) {
			a.Hostname = p.Spec.Hostname
		}
		var ps []api.EndpointPort
		for i := range svc.Spec.Ports {
			sp := &svc.Spec.Ports[i]
			n, ok := endpointslice.ResolvePort(p, sp)
			if !ok {
				continue
			}
			proto := sp.Protocol
			if proto == "" {
				proto = api.ProtocolTCP
			}
			ps = append(ps, api.EndpointPort{Name: sp.Name, Port: n, Protocol: proto, AppProtocol: sp.AppProtocol})
		}
		if len(svc.Spec.Ports) > 0 && len(ps) == 0 {
			continue // no port of the service resolves on this pod
		}
		slices.SortFunc(ps, func(a, b api.EndpointPort) int { return cmp.Compare(a.Name, b.Name) })
		var k strings.Builder
		for _, x := range ps {
			fmt.Fprintf(&k, "%s/%s/%d;", x.Name, x.Protocol, x.Port)
		}
		ready := svc.Spec.PublishNotReadyAddresses || controllerutil.IsPodReady(p)
		groups[k.String()] = append(groups[k.String()], entry{a, ready})
		ports[k.String()] = ps
	}
	keys := slices.Sorted(maps.Keys(groups))
	// Keep the ready addresses first when truncating, as Kubernetes does.
	budget := MaxAddresses
	byIP := func(a, b api.EndpointAddress) int { return cmp.Compare(a.IP, b.IP) }
	out := make([]api.EndpointSubset, len(keys))
	for pass, wantReady := range []bool{true, false} {
		for i, k := range keys {
			for _, e := range groups[k] {
				if e.ready != wantReady {
					continue
				}
				if budget == 0 {
					truncated = true
					continue
				}
				budget--
				if pass == 0 {
					out[i].Addresses = append(out[i].Addresses, e.addr)
				} else {
					out[i].NotReadyAddresses = append(out[i].NotReadyAddresses, e.addr)
				}
			}
		}
	}
	for i, k := range keys {
		slices.SortFunc(out[i].Addresses, byIP)
		slices.SortFunc(out[i].NotReadyAddresses, byIP)
		out[i].Ports = ports[k]
		if len(out[i].Addresses)+len(out[i].NotReadyAddresses) > 0 {
			subsets = append(subsets, out[i])
		}
	}
	return subsets, truncated
}
