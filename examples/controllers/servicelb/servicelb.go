package servicelb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
)

// Config configures the controller. Client and Pool are required.
type Config struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// Pool is the IPv4 addresses handed out, as prefixes (a /32 is one
	// address).
	Pool []netip.Prefix
	// Logger receives the logs. Default discard.
	Logger *slog.Logger
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	if c.Client == nil {
		return errors.New("servicelb: Client is required")
	}
	if len(c.Pool) == 0 {
		return errors.New("servicelb: Pool is required")
	}
	for i, p := range c.Pool {
		if !p.IsValid() || !p.Addr().Is4() {
			return fmt.Errorf("servicelb: Pool[%d] %v is not an IPv4 prefix", i, p)
		}
	}
	return nil
}

// Controller assigns load-balancer addresses.
type Controller struct {
	cfg      Config
	log      *slog.Logger
	services *informer.Informer[*api.Service]
	kick     chan struct{}
}

// New checks cfg and builds the controller; it sends no request.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Controller{cfg: cfg, log: cfg.Logger.With("controller", "servicelb"), kick: make(chan struct{}, 1)}
	var err error
	if c.services, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.Services(), informer.Config[*api.Service]{}); err != nil {
		return nil, fmt.Errorf("servicelb: %w", err)
	}
	return c, nil
}

func (c *Controller) trigger() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Run assigns addresses after every change of a Service until ctx ends.
// A failed pass is logged and retried at the next change.
func (c *Controller) Run(ctx context.Context) error {
	reg, err := c.services.AddHandler(informer.HandlerFuncs[*api.Service]{
		AddFunc:    func(*api.Service, bool) { c.trigger() },
		UpdateFunc: func(_, _ *api.Service) { c.trigger() },
		DeleteFunc: func(*api.Service, bool) { c.trigger() },
	})
	if err != nil {
		return fmt.Errorf("servicelb: %w", err)
	}
	defer reg.Remove()
	if c.services.WaitForSync(ctx) != nil {
		return nil
	}
	for {
		if err := c.Sync(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("load-balancer pass incomplete", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-c.kick:
		}
	}
}

func (c *Controller) inPool(a netip.Addr) bool {
	return slices.ContainsFunc(c.cfg.Pool, func(p netip.Prefix) bool { return p.Contains(a) })
}

func ingressIP(s *api.Service) (netip.Addr, bool) {
	for _, ing := range s.Status.LoadBalancer.Ingress {
		if a, err := netip.ParseAddr(ing.IP); err == nil {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// Sync makes one pass over the cached Services.
func (c *Controller) Sync(ctx context.Context) error {
	svcs := c.services.List()
	slices.SortFunc(svcs, func(a, b *api.Service) int {
		if x := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); x != 0 {
			return x
		}
		return cmp.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	used := map[netip.Addr]bool{}
	var want []*api.Service
	var errs []error
	for _, s := range svcs {
		ours := s.Spec.Type == api.ServiceTypeLoadBalancer && s.Spec.LoadBalancerClass == nil
		ip, has := ingressIP(s)
		switch {
		case ours && has && c.inPool(ip) && !used[ip]:
			used[ip] = true
		case ours:
			want = append(want, s)
		case has && c.inPool(ip) && s.Spec.Type != api.ServiceTypeLoadBalancer:
			errs = append(errs, c.setIngress(ctx, s, netip.Addr{}))
		}
	}
	for _, s := range want {
		ip, ok := c.pick(s, used)
		if !ok {
			errs = append(errs, fmt.Errorf("service %s/%s: no free address in the pool", s.Namespace, s.Name))
			continue
		}
		used[ip] = true
		errs = append(errs, c.setIngress(ctx, s, ip))
	}
	return errors.Join(errs...)
}

func (c *Controller) pick(s *api.Service, used map[netip.Addr]bool) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s.Spec.LoadBalancerIP); err == nil && c.inPool(a) && !used[a] {
		return a, true
	}
	for _, p := range c.cfg.Pool {
		for a := p.Masked().Addr(); p.Contains(a); a = a.Next() {
			if p.Bits() < 31 && (a == p.Masked().Addr() || !p.Contains(a.Next())) {
				continue // network and broadcast addresses
			}
			if !used[a] {
				return a, true
			}
		}
	}
	return netip.Addr{}, false
}

// setIngress writes ip (none if invalid) as s's only ingress.
func (c *Controller) setIngress(ctx context.Context, s *api.Service, ip netip.Addr) error {
	s = store.Clone(s)
	s.Status.LoadBalancer.Ingress = nil
	if ip.IsValid() {
		s.Status.LoadBalancer.Ingress = []api.LoadBalancerIngress{{IP: ip.String()}}
	}
	if _, err := c.cfg.Client.Services().UpdateStatus(ctx, s); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("service %s/%s: %w", s.Namespace, s.Name, err)
	}
	c.log.Info("load-balancer address", "object", s.Namespace+"/"+s.Name, "ip", ip)
	return nil
}
