package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
)

// Defaults of Config.
const (
	// DefaultDomain is the cluster domain.
	DefaultDomain = "cluster.local"
	// DefaultListen is the UDP and TCP address of a host process.
	DefaultListen = ":53"
	// DefaultTTL is the TTL of every record: kubeadm's Corefile sets 30 s
	// for CoreDNS's kubernetes plugin (whose built-in default is 5 s).
	DefaultTTL = 30 * time.Second
	// MaxTTL is the largest TTL accepted (CoreDNS's cap).
	MaxTTL = time.Hour
	// DefaultUDPSize is the EDNS0 UDP payload size the server advertises
	// and answers up to (the 2020 DNS flag day's value, which avoids IP
	// fragmentation).
	DefaultUDPSize = 1232
	// DefaultUpstreamTimeout bounds one upstream exchange.
	DefaultUpstreamTimeout = 2 * time.Second
	// DefaultServiceNamespace and DefaultServiceName name the server's own
	// Service, whose ClusterIP is the address of ns.dns.<domain>.
	DefaultServiceNamespace = "kube-system"
	DefaultServiceName      = "kube-dns"
)

// Config configures the server. Client is required; every other field has
// a documented default.
type Config struct {
	// Client reaches the apiserver; services and endpoint slices are read
	// through its shared informers (run the factory next to Run).
	Client *client.Clientset
	// Domain is the cluster domain, without a trailing dot. Default
	// DefaultDomain.
	Domain string
	// Listen is the address served on both UDP and TCP. Default
	// DefaultListen; with port 0 one free port is chosen for both.
	Listen string
	// TTL of every record and of negative answers (the SOA minimum);
	// whole seconds up to MaxTTL. Default (0) DefaultTTL; see ZeroTTL.
	TTL time.Duration
	// ZeroTTL serves TTL 0 (TTL is ignored).
	ZeroTTL bool
	// Upstreams are the servers (host:port) asked for names outside the
	// cluster domain, in order. Default none: such names are REFUSED, and
	// reverse names of no cluster address are NXDOMAIN.
	Upstreams []string
	// UpstreamTimeout bounds one upstream exchange. Default
	// DefaultUpstreamTimeout.
	UpstreamTimeout time.Duration
	// UDPSize is the EDNS0 payload size advertised, and the largest UDP
	// response (512 to 65535). Default DefaultUDPSize.
	UDPSize int
	// Service is "namespace/name" of the server's own Service, whose
	// ClusterIP answers ns.dns.<domain>. Default
	// "kube-system/kube-dns".
	Service string
	// Logger receives the logs. Default discard.
	Logger *slog.Logger
	// Registerer, if set, receives the server's metrics.
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("dns: Client is required")
	case c.TTL < 0 || c.TTL > MaxTTL:
		return fmt.Errorf("dns: TTL %v is outside 0s..%v", c.TTL, MaxTTL)
	case c.TTL%time.Second != 0:
		return fmt.Errorf("dns: TTL %v is not a whole number of seconds", c.TTL)
	case c.UpstreamTimeout < 0:
		return fmt.Errorf("dns: UpstreamTimeout %v is negative", c.UpstreamTimeout)
	case c.UDPSize != 0 && (c.UDPSize < mdns.MinMsgSize || c.UDPSize > mdns.MaxMsgSize):
		return fmt.Errorf("dns: UDPSize %d is outside %d..%d", c.UDPSize, mdns.MinMsgSize, mdns.MaxMsgSize)
	}
	if c.Domain != "" {
		d := strings.TrimSuffix(c.Domain, ".")
		if _, ok := mdns.IsDomainName(d); !ok || d == "" || d != c.Domain {
			return fmt.Errorf("dns: Domain %q is not a domain name without a trailing dot", c.Domain)
		}
	}
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			return fmt.Errorf("dns: Listen %q: %w", c.Listen, err)
		}
	}
	for i, u := range c.Upstreams {
		host, port, err := net.SplitHostPort(u)
		if err != nil {
			return fmt.Errorf("dns: Upstreams[%d] %q: %w", i, u, err)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || host == "" {
			return fmt.Errorf("dns: Upstreams[%d] %q: want host:port with a port 1..65535", i, u)
		}
	}
	if c.Service != "" {
		ns, name, ok := strings.Cut(c.Service, "/")
		if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			return fmt.Errorf("dns: Service %q is not namespace/name", c.Service)
		}
	}
	return nil
}

// Server is the cluster DNS server; see the package documentation.
type Server struct {
	cfg     Config
	log     *slog.Logger
	ttl     uint32
	domain  string // fully qualified, lower case
	svcNS   [2]string
	svcs    *informer.Informer[*api.Service]
	slices  *informer.Informer[*discovery.EndpointSlice]
	metrics *metrics

	zone    atomic.Pointer[zone]
	dirty   chan struct{} // capacity 1: a rebuild is due
	builtMu sync.Mutex
	built   chan struct{} // closed and replaced after each rebuild
	ready   chan struct{} // closed once serving
	addr    atomic.Pointer[string]
	running atomic.Bool
}

// New checks cfg and builds the server; it sends no request and opens no
// socket.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Domain == "" {
		cfg.Domain = DefaultDomain
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.ZeroTTL {
		cfg.TTL = 0
	}
	if cfg.UpstreamTimeout == 0 {
		cfg.UpstreamTimeout = DefaultUpstreamTimeout
	}
	if cfg.UDPSize == 0 {
		cfg.UDPSize = DefaultUDPSize
	}
	if cfg.Service == "" {
		cfg.Service = DefaultServiceNamespace + "/" + DefaultServiceName
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg: cfg, log: cfg.Logger.With("component", "dns"), ttl: uint32(cfg.TTL / time.Second),
		domain: strings.ToLower(mdns.Fqdn(cfg.Domain)),
		dirty:  make(chan struct{}, 1), ready: make(chan struct{}), built: make(chan struct{}),
	}
	ns, name, _ := strings.Cut(cfg.Service, "/")
	s.svcNS = [2]string{ns, name}
	var err error
	if s.metrics, err = newMetrics(cfg.Registerer); err != nil {
		return nil, fmt.Errorf("dns: %w", err)
	}
	f := cfg.Client.Informers()
	if s.svcs, _, err = informer.Shared(f, cfg.Client.Services(), informer.Config[*api.Service]{}); err != nil {
		return nil, fmt.Errorf("dns: %w", err)
	}
	if s.slices, _, err = informer.Shared(f, cfg.Client.EndpointSlices(), informer.Config[*discovery.EndpointSlice]{}); err != nil {
		return nil, fmt.Errorf("dns: %w", err)
	}
	if _, err := s.svcs.AddHandler(dirtyOn[*api.Service](s)); err != nil {
		return nil, fmt.Errorf("dns: %w", err)
	}
	if _, err := s.slices.AddHandler(dirtyOn[*discovery.EndpointSlice](s)); err != nil {
		return nil, fmt.Errorf("dns: %w", err)
	}
	return s, nil
}

// dirtyOn returns a handler that schedules a rebuild on every change.
func dirtyOn[T store.Object](s *Server) informer.HandlerFuncs[T] {
	return informer.HandlerFuncs[T]{
		AddFunc:    func(T, bool) { s.markDirty() },
		UpdateFunc: func(T, T) { s.markDirty() },
		DeleteFunc: func(T, bool) { s.markDirty() },
	}
}

func (s *Server) markDirty() {
	select {
	case s.dirty <- struct{}{}:
	default: // a rebuild is already due; it will see this change too
	}
}

// rebuild computes a snapshot from the caches and swaps it in.
func (s *Server) rebuild() {
	// Revisions first: the lists are at least as new.
	svcRev, sliceRev := s.svcs.Revision(), s.slices.Revision()
	z := buildZone(zoneInput{
		domain: s.domain, ttl: s.ttl, serial: uint32(max(svcRev, sliceRev)),
		services: s.svcs.List(), slices: s.slices.List(), nsSvc: s.svcNS,
	})
	z.svcRev, z.sliceRev = svcRev, sliceRev
	s.zone.Store(z)
	s.metrics.records.Set(float64(len(z.names)))
	s.metrics.rebuilds.Inc()
	s.builtMu.Lock()
	close(s.built)
	s.built = make(chan struct{})
	s.builtMu.Unlock()
}

// waitBuilt waits until a snapshot built after the services cache reached
// revision svcRev and the slices cache sliceRev is served, or ctx ends.
// A cache's revision only grows, and reaching rev means every event up to
// rev is in it (watches deliver in revision order).
func (s *Server) waitBuilt(ctx context.Context, svcRev, sliceRev int64) error {
	for {
		s.builtMu.Lock()
		ch := s.built
		s.builtMu.Unlock()
		if z := s.zone.Load(); z != nil && z.svcRev >= svcRev && z.sliceRev >= sliceRev {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// Run waits for the informers to sync, then serves DNS on Config.Listen
// (UDP and TCP) until ctx ends; it returns nil then, or the error that
// stopped it (a listener that cannot be opened). Run the client's
// informer factory next to it. A Server runs once.
func (s *Server) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("dns: Run called twice")
	}
	if s.svcs.WaitForSync(ctx) != nil || s.slices.WaitForSync(ctx) != nil {
		return nil // ctx ended
	}
	// Drain the signals of the initial lists: the first build covers them.
	select {
	case <-s.dirty:
	default:
	}
	s.rebuild()
	pc, ln, err := listen(s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	addr := ln.Addr().String()
	s.addr.Store(&addr)
	udp := &mdns.Server{PacketConn: pc, Handler: s, UDPSize: mdns.MaxMsgSize}
	tcp := &mdns.Server{Listener: ln, Handler: s}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serve(gctx, udp, "udp") })
	g.Go(func() error { return serve(gctx, tcp, "tcp") })
	g.Go(func() error {
		for {
			select {
			case <-gctx.Done():
				return nil
			case <-s.dirty:
				s.rebuild()
			}
		}
	})
	close(s.ready)
	s.log.Info("serving cluster DNS", "addr", addr, "domain", s.domain)
	return g.Wait()
}

// serve runs srv until ctx ends; a failure before that is returned.
// The server's ShutdownContext refuses a server that has not started
// yet ("server not started"), and one that starts after that refusal
// would serve forever: so a shutdown first waits until the server reports
// it started (or ended).
func serve(ctx context.Context, srv *mdns.Server, proto string) error {
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	done := make(chan error, 1)
	go func() { done <- srv.ActivateAndServe() }()
	select {
	case err := <-done:
		return fmt.Errorf("dns: %s server stopped: %w", proto, err)
	case <-ctx.Done():
	}
	select {
	case <-started:
	case <-done:
		return nil
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.ShutdownContext(sctx)
	<-done
	return nil
}

// listen opens UDP and TCP on the same address; with port 0 it picks a
// port free on both.
func listen(addr string) (net.PacketConn, net.Listener, error) {
	host, port, _ := net.SplitHostPort(addr)
	var lastErr error
	for range 16 {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, err
		}
		_, p, _ := net.SplitHostPort(pc.LocalAddr().String())
		ln, err := net.Listen("tcp", net.JoinHostPort(host, p))
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		lastErr = err
		if port != "0" {
			break
		}
	}
	return nil, nil, lastErr
}

// Ready is closed once the server answers queries (informers synced,
// sockets open).
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr returns the host:port served on UDP and TCP; empty before Ready.
func (s *Server) Addr() string {
	if p := s.addr.Load(); p != nil {
		return *p
	}
	return ""
}

// Handler serves /healthz (200 while the process runs) and /readyz (200
// once the informers synced and the server answers, 503 before).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		select {
		case <-s.ready:
			fmt.Fprintln(w, "ok")
		default:
			http.Error(w, "informers not synced", http.StatusServiceUnavailable)
		}
	})
	return mux
}
