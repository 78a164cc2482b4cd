package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/knftables"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/informer"
)

// backend programs the node's packet filter in one mode.
type backend interface {
	// apply programs the service ports, rewriting what changed since the
	// last successful apply (everything after a failure); it returns the
	// number of operations sent.
	apply(ctx context.Context, sps []*servicePort) (int, error)
	// cleanup removes everything the backend made.
	cleanup(ctx context.Context) error
}

var (
	_ backend = (*nftBackend)(nil)
	_ backend = (*iptBackend)(nil)
	_ backend = familyBackends{}
)

// Proxy programs the node so that Services reach their endpoints; see the
// package documentation.
type Proxy struct {
	cfg      Config
	log      *slog.Logger
	services *informer.Informer[*api.Service]
	slices   *informer.Informer[*discovery.EndpointSlice]
	newNFT   func(v6 bool) (knftables.Interface, error)
	// writer writes incremental syncs that only rewrite service chains
	// through netlink (nil: always nft).
	writer rulesetWriter

	kick chan struct{}
	mu   sync.Mutex
	// changes holds when each EndpointSlice change not yet programmed was
	// seen, for the programming-latency histogram.
	changes []time.Time
	// dirty holds the Services (namespace/name) whose ports the next
	// sync rebuilds: those whose Service or EndpointSlices changed.
	// reset asks for a rebuild of every Service's ports from the caches.
	dirty map[string]struct{}
	reset bool
	// ports holds every Service's ports (used only by the Run goroutine).
	ports *portCache
	// udp is what the last successful sync programmed for UDP service
	// ports (used only by the Run goroutine), to find stale conntrack
	// entries.
	udp map[string]udpService

	syncDuration   prometheus.Histogram
	programLatency prometheus.Histogram
	syncs          *prometheus.CounterVec
}

// New checks cfg and builds the proxy; it touches neither the apiserver nor
// the node.
func New(cfg Config) (*Proxy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	p := &Proxy{cfg: cfg, log: cfg.Logger.With("component", "proxy", "node", cfg.NodeName), kick: make(chan struct{}, 1),
		dirty: map[string]struct{}{}, reset: true, ports: newPortCache(cfg.NodeName, cfg.IPv6)}
	p.newNFT = func(v6 bool) (knftables.Interface, error) { return newKNFT(v6, cfg.TableName) }
	p.writer = netlinkWriter{}
	p.syncDuration = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "setpoint", Subsystem: "proxy",
		Name: "sync_duration_seconds", Help: "Time one sync of the proxy rules takes.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 15)})
	p.programLatency = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "setpoint", Subsystem: "proxy",
		Name: "network_programming_duration_seconds", Help: "Delay from an EndpointSlice change seen by the proxy to its rules being programmed.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 15)})
	p.syncs = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "setpoint", Subsystem: "proxy",
		Name: "syncs_total", Help: "Syncs of the proxy rules, by result."}, []string{"result"})
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{p.syncDuration, p.programLatency, p.syncs} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("proxy: %w", err)
			}
		}
	}
	var err error
	if p.services, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.Services(), informer.Config[*api.Service]{}); err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	if p.slices, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.EndpointSlices(), informer.Config[*discovery.EndpointSlice]{}); err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	// (another proxy on the same informers may have added it)
	if err := p.slices.AddIndexer(sliceServiceIndex, indexSliceService); err != nil && !errors.Is(err, informer.ErrIndexExists) {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	return p, nil
}

func (p *Proxy) trigger() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// sliceServiceIndex indexes EndpointSlices by their Service's
// namespace/name.
const sliceServiceIndex = "setpoint-proxy-service"

func indexSliceService(s *discovery.EndpointSlice) []string {
	if k, ok := sliceService(s); ok {
		return []string{k}
	}
	return nil
}

func (p *Proxy) serviceChanged(svc *api.Service) {
	p.mu.Lock()
	p.dirty[svc.Namespace+"/"+svc.Name] = struct{}{}
	p.mu.Unlock()
	p.trigger()
}

// sliceChanged marks the Services of the slices (the old and new one of
// an update) for the next sync.
func (p *Proxy) sliceChanged(sls ...*discovery.EndpointSlice) {
	p.mu.Lock()
	p.changes = append(p.changes, p.cfg.Clock.Now())
	for _, s := range sls {
		if k, ok := sliceService(s); ok {
			p.dirty[k] = struct{}{}
		}
	}
	p.mu.Unlock()
	p.trigger()
}

// resync asks the next sync to rebuild every Service's ports.
func (p *Proxy) resync() {
	p.mu.Lock()
	p.reset = true
	p.mu.Unlock()
}

// Run programs the node until ctx ends: one sync once the caches are
// synced, then one after each batch of changes, at most one per
// MinSyncPeriod, and one every SyncPeriod. A failed sync is logged and
// retried after MinSyncPeriod (at least a second) as a full sync. Run
// returns nil when ctx ends, leaving the rules in place (Cleanup removes
// them); it returns an error only if the node cannot be programmed at all.
func (p *Proxy) Run(ctx context.Context) error {
	ns, backend, err := p.open(false)
	if err != nil {
		return err
	}
	defer ns.stop()
	svcReg, err := p.services.AddHandler(informer.HandlerFuncs[*api.Service]{
		AddFunc:    func(s *api.Service, _ bool) { p.serviceChanged(s) },
		UpdateFunc: func(_, s *api.Service) { p.serviceChanged(s) },
		DeleteFunc: func(s *api.Service, _ bool) { p.serviceChanged(s) },
	})
	if err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	defer svcReg.Remove()
	sliceReg, err := p.slices.AddHandler(informer.HandlerFuncs[*discovery.EndpointSlice]{
		AddFunc:    func(s *discovery.EndpointSlice, _ bool) { p.sliceChanged(s) },
		UpdateFunc: func(old, s *discovery.EndpointSlice) { p.sliceChanged(old, s) },
		DeleteFunc: func(s *discovery.EndpointSlice, _ bool) { p.sliceChanged(s) },
	})
	if err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	defer sliceReg.Remove()
	if p.services.WaitForSync(ctx) != nil || p.slices.WaitForSync(ctx) != nil {
		return nil // ctx ended
	}
	clock := p.cfg.Clock
	resync := clock.NewTicker(p.cfg.SyncPeriod)
	defer resync.Stop()
	var last time.Time
	pending := true
	var timer <-chan time.Time
	for {
		if pending && timer == nil {
			if wait := last.Add(p.cfg.MinSyncPeriod).Sub(clock.Now()); last.IsZero() || wait <= 0 {
				pending = false
				last = clock.Now()
				if err := ns.do(func() error { return p.syncOnce(ctx, backend) }); err != nil {
					p.log.Warn("sync failed; retrying", "err", err)
					pending = true
					timer = clock.After(max(p.cfg.MinSyncPeriod, time.Second))
				}
			} else {
				timer = clock.After(wait)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.kick:
			pending = true
		case <-timer:
			timer = nil
		case <-resync.Chan():
			p.resync()
			pending = true
		}
	}
}

// newKNFT opens the nftables table of the family.
func newKNFT(v6 bool, table string) (knftables.Interface, error) {
	if v6 {
		return knftables.New(knftables.IPv6Family, table)
	}
	return knftables.New(knftables.IPv4Family, table)
}

// familyBackends programs each family's service ports through the backend
// of that family.
type familyBackends struct {
	v4, v6 backend // v6 nil: IPv4 only
}

func (f familyBackends) apply(ctx context.Context, sps []*servicePort) (int, error) {
	var sps4, sps6 []*servicePort
	for _, sp := range sps {
		if sp.v6 {
			sps6 = append(sps6, sp)
		} else {
			sps4 = append(sps4, sp)
		}
	}
	n, err := f.v4.apply(ctx, sps4)
	if err != nil || f.v6 == nil {
		return n, err
	}
	n6, err := f.v6.apply(ctx, sps6)
	return n + n6, err
}

func (f familyBackends) cleanup(ctx context.Context) error {
	err := f.v4.cleanup(ctx)
	if f.v6 != nil {
		err = errors.Join(err, f.v6.cleanup(ctx))
	}
	return err
}

// openBackend opens the backend of the configured mode for one family, in
// the calling thread's network namespace.
func (p *Proxy) openBackend(v6 bool) (backend, error) {
	if p.cfg.Mode == ModeIPTables {
		return newIPTBackend(&p.cfg, v6)
	}
	nft, err := p.newNFT(v6)
	if err != nil {
		return nil, fmt.Errorf("nftables unavailable: %w", err)
	}
	b := newNFTBackend(nft, &p.cfg, v6)
	b.writer = p.writer
	return b, nil
}

// open enters the configured network namespace (if any) and opens the
// backends of the configured mode there: IPv4, and IPv6 if configured (or
// if available, when cleaning up).
func (p *Proxy) open(cleanup bool) (*nsRunner, backend, error) {
	var ns *nsRunner
	if p.cfg.NetNS != "" {
		var err error
		if ns, err = startNS(p.cfg.NetNS); err != nil {
			return nil, nil, err
		}
	}
	var b familyBackends
	err := ns.do(func() error {
		var err error
		if b.v4, err = p.openBackend(false); err != nil {
			return err
		}
		if p.cfg.IPv6 || cleanup {
			b.v6, err = p.openBackend(true)
			if err != nil && !p.cfg.IPv6 {
				b.v6, err = nil, nil
			}
		}
		return err
	})
	if err != nil {
		ns.stop()
		return nil, nil, fmt.Errorf("proxy: %w", err)
	}
	return ns, b, nil
}

// syncOnce computes the rules from the caches and programs them.
func (p *Proxy) syncOnce(ctx context.Context, b backend) error {
	start := p.cfg.Clock.Now()
	p.mu.Lock()
	changes, dirty, reset := p.changes, p.dirty, p.reset
	p.changes, p.dirty, p.reset = nil, map[string]struct{}{}, false
	p.mu.Unlock()
	sps := p.servicePorts(dirty, reset)
	ops, err := b.apply(ctx, sps)
	end := p.cfg.Clock.Now()
	p.syncDuration.Observe(end.Sub(start).Seconds())
	if err != nil {
		p.syncs.WithLabelValues("error").Inc()
		p.mu.Lock()
		p.changes = append(changes, p.changes...)
		p.mu.Unlock()
		return err
	}
	p.syncs.WithLabelValues("success").Inc()
	for _, c := range changes {
		p.programLatency.Observe(end.Sub(c).Seconds())
	}
	udp := udpServices(sps)
	if p.udp != nil {
		// (not on the first sync: a previous run's stale entries are
		// unknown, as in kube-proxy)
		if n, err := flushConntrack(staleUDPFilters(p.udp, udp)); err != nil {
			p.log.Warn("flushing stale UDP conntrack entries failed", "err", err)
		} else if n > 0 {
			p.log.Debug("flushed stale UDP conntrack entries", "entries", n)
		}
	}
	p.udp = udp
	p.log.Debug("synced", "servicePorts", len(sps), "operations", ops, "took", end.Sub(start))
	return nil
}

// servicePorts returns every service port, rebuilding those of the dirty
// Services from the caches, or all of them on reset. (A change is read
// from the caches after its handler marked it, so it is never missed; a
// relist can call handlers just before its cache update, and the
// SyncPeriod resync, a reset, catches whatever such a race leaves.)
func (p *Proxy) servicePorts(dirty map[string]struct{}, reset bool) []*servicePort {
	if reset {
		p.ports.reset(p.services.List(), p.slices.List())
		return p.ports.list()
	}
	for k := range dirty {
		ns, name, _ := strings.Cut(k, "/")
		var svc *api.Service
		if s, ok := p.services.Get(ns, name); ok {
			svc = s
		}
		sl, err := p.slices.ByIndex(sliceServiceIndex, k)
		if err != nil {
			// (the index is added in New; without it, rebuild all)
			p.ports.reset(p.services.List(), p.slices.List())
			return p.ports.list()
		}
		p.ports.update(k, svc, sl)
	}
	return p.ports.list()
}

// Cleanup removes everything the proxy made in Config.Mode (its nftables
// table, or its iptables chains and the jumps to them) from the node, or
// from Config.NetNS. It does not need the apiserver.
func Cleanup(ctx context.Context, cfg Config) error {
	cfg.setDefaults()
	p := &Proxy{cfg: cfg}
	p.newNFT = func(v6 bool) (knftables.Interface, error) { return newKNFT(v6, cfg.TableName) }
	ns, b, err := p.open(true)
	if err != nil {
		return err
	}
	defer ns.stop()
	return ns.do(func() error { return b.cleanup(ctx) })
}
