package controllermanager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
)

// Defaults of Config, Kubernetes' kube-controller-manager defaults.
const (
	DefaultLeaseNamespace = "kube-system"
	DefaultLeaseName      = "kube-controller-manager"
)

// ErrLeadershipLost is returned by Run when this manager led and lost the
// lease: like kube-controller-manager, which exits then, it does not run
// its controllers for a second term (their caches and expectations belong
// to the term that ended); start a new Manager.
var ErrLeadershipLost = errors.New("controllermanager: leadership lost")

// Config configures a Manager. Client is required; every other field has
// a documented default.
type Config struct {
	// Client reaches the apiserver. The manager runs its shared informer
	// factory: do not run it elsewhere.
	Client *client.Clientset
	// Controllers chooses the controllers, as kube-controller-manager's
	// --controllers: "*" (every known controller), "name", "-name".
	// Default {"*"}. Unknown names are an error.
	Controllers []string
	// Identity names this manager in the lease; unique among managers.
	// Default election.DefaultIdentity().
	Identity string
	// LeaseNamespace and LeaseName name the Lease of the election.
	// Defaults DefaultLeaseNamespace, DefaultLeaseName.
	LeaseNamespace, LeaseName string
	// LeaseDuration, RenewDeadline and RetryPeriod time the election (see
	// election.Config). Defaults 15s, 10s, 2s.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Listen, if set, is the address /healthz and /metrics are served on.
	Listen string
	// Registerer receives every metric (elector, informers, each
	// controller's queue depth, reconcile latency and errors). If it is
	// also a prometheus.Gatherer, /metrics serves it. Default: a new
	// registry.
	Registerer prometheus.Registerer
	// Clock times the election and the controllers. Default: the real
	// clock.
	Clock clockwork.Clock
	// Logger receives the manager's logs, keyed by controller and object.
	// Default discard.
	Logger *slog.Logger
	// ClusterCIDR, if set, turns on pod CIDR allocation by the nodeipam
	// controller (kube-controller-manager's --cluster-cidr with
	// --allocate-node-cidrs); unset, nodeipam allocates nothing.
	ClusterCIDR string
	// NodeCIDRMaskSize is the prefix length of each node's pod CIDR
	// (--node-cidr-mask-size). Default 24 (IPv4) or 64 (IPv6).
	NodeCIDRMaskSize int
	// ClusterSigningCert and ClusterSigningKey, if set, are the PEM
	// cluster CA the csrsigning controller signs node certificates with
	// (--cluster-signing-cert-file, --cluster-signing-key-file; the
	// apiserver's PKI CACert and CAKey); unset, nothing is signed.
	ClusterSigningCert, ClusterSigningKey []byte
	// RootCA is the PEM CA bundle the root-ca-cert-publisher puts in
	// every namespace's kube-root-ca.crt ConfigMap (--root-ca-file).
	// Default ClusterSigningCert; with neither, nothing is published.
	RootCA []byte
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	if c.Client == nil {
		return errors.New("controllermanager: Client is required")
	}
	if _, err := selectControllers(c.Controllers); err != nil {
		return err
	}
	if c.LeaseDuration < 0 || c.RenewDeadline < 0 || c.RetryPeriod < 0 {
		return errors.New("controllermanager: lease durations must not be negative")
	}
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			return fmt.Errorf("controllermanager: Listen %q: %w", c.Listen, err)
		}
	}
	return nil
}

// Manager runs the chosen controllers while it holds the lease.
type Manager struct {
	cfg        Config
	names      []string
	elector    *election.Elector
	controller map[string]Runner
	recorders  []*controllerutil.Recorder
	gatherer   prometheus.Gatherer
	addr       chan string
	led        chan error
	ran        atomic.Bool
}

// ErrAlreadyRunning is returned by a second call of Run.
var ErrAlreadyRunning = errors.New("controllermanager: already running")

// New checks cfg and builds the manager and its controllers; it sends no
// request.
func New(cfg Config) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	names, _ := selectControllers(cfg.Controllers)
	if cfg.LeaseNamespace == "" {
		cfg.LeaseNamespace = DefaultLeaseNamespace
	}
	if cfg.LeaseName == "" {
		cfg.LeaseName = DefaultLeaseName
	}
	if cfg.Identity == "" {
		cfg.Identity = election.DefaultIdentity()
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Manager{cfg: cfg, names: names, controller: map[string]Runner{}, addr: make(chan string, 1), led: make(chan error, 1)}
	if cfg.Registerer == nil {
		reg := prometheus.NewRegistry()
		cfg.Registerer, m.gatherer = reg, reg
	} else if g, ok := cfg.Registerer.(prometheus.Gatherer); ok {
		m.gatherer = g
	}
	m.cfg = cfg
	lock, err := election.NewObjectLock(cfg.Client.Leases(), cfg.LeaseNamespace, cfg.LeaseName)
	if err != nil {
		return nil, fmt.Errorf("controllermanager: %w", err)
	}
	m.elector, err = election.New(election.Config{Lock: lock, Identity: cfg.Identity,
		LeaseDuration: cfg.LeaseDuration, RenewDeadline: cfg.RenewDeadline, RetryPeriod: cfg.RetryPeriod,
		ReleaseOnCancel: true, Clock: cfg.Clock, Logger: cfg.Logger.With("component", "election"), Registerer: cfg.Registerer,
		Callbacks: election.Callbacks{
			OnStartedLeading: func(lctx context.Context) {
				cfg.Logger.Info("started leading", "identity", cfg.Identity, "controllers", names)
				m.led <- m.lead(lctx)
			},
			OnNewLeader: func(id string) { cfg.Logger.Info("new leader", "identity", id) },
		}})
	if err != nil {
		return nil, fmt.Errorf("controllermanager: %w", err)
	}
	for _, name := range names {
		k := known[name]
		rec, err := controllerutil.NewRecorder(controllerutil.RecorderConfig{Client: cfg.Client.Events(), Component: k.component,
			Instance: cfg.Identity, Clock: cfg.Clock, Logger: cfg.Logger.With("controller", name)})
		if err != nil {
			return nil, fmt.Errorf("controllermanager: %s: %w", name, err)
		}
		r, err := k.build(deps{cfg: &cfg, client: cfg.Client, recorder: rec, clock: cfg.Clock, logger: cfg.Logger, registerer: cfg.Registerer})
		if err != nil {
			return nil, fmt.Errorf("controllermanager: %s: %w", name, err)
		}
		m.controller[name] = r
		m.recorders = append(m.recorders, rec)
	}
	return m, nil
}

// Controllers returns the names of the controllers m runs.
func (m *Manager) Controllers() []string { return append([]string(nil), m.names...) }

// IsLeader reports whether m holds the lease now.
func (m *Manager) IsLeader() bool { return m.elector.IsLeader() }

// Identity returns m's identity in the election.
func (m *Manager) Identity() string { return m.elector.Identity() }

// Addr returns the address /healthz and /metrics are served on, once Run
// listens (it blocks until then or ctx ends).
func (m *Manager) Addr(ctx context.Context) (string, error) {
	select {
	case a := <-m.addr:
		m.addr <- a
		return a, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Handler serves /healthz (200 "ok", or 500 with the reason while a
// deposed leader's controllers still run) and /metrics.
func (m *Manager) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if err := m.elector.Check(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	if m.gatherer != nil {
		mux.Handle("/metrics", promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{}))
	}
	return mux
}

// Run campaigns for the lease and, while it leads, runs the controllers
// with the leader's context, so every write they make (objects, status,
// events) carries the leader's fence and fails with store.ErrFenced once
// another manager took over. It returns nil when ctx ends,
// ErrLeadershipLost when it led and lost the lease, or the error that
// stopped it. Run runs once; a second call returns ErrAlreadyRunning.
func (m *Manager) Run(ctx context.Context) error {
	if m.ran.Swap(true) {
		return ErrAlreadyRunning
	}
	g, gctx := errgroup.WithContext(ctx)
	if m.cfg.Listen != "" {
		ln, err := net.Listen("tcp", m.cfg.Listen)
		if err != nil {
			return fmt.Errorf("controllermanager: %w", err)
		}
		m.addr <- ln.Addr().String()
		srv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second}
		g.Go(func() error {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			return srv.Close()
		})
	}
	g.Go(func() error { return m.cfg.Client.Informers().Run(gctx) })
	for _, r := range m.recorders {
		g.Go(func() error { return r.Run(gctx) })
	}
	g.Go(func() error {
		if err := m.elector.Run(gctx); err != nil && gctx.Err() == nil {
			return fmt.Errorf("controllermanager: election: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		select {
		case <-gctx.Done():
			return nil
		case err := <-m.led:
			if gctx.Err() != nil {
				return nil
			}
			if err != nil {
				return err
			}
			m.cfg.Logger.Error("leadership lost", "identity", m.cfg.Identity)
			return ErrLeadershipLost
		}
	})
	return g.Wait()
}

// lead runs every controller until lctx (the leader's context) ends; it
// returns the first controller's error, or nil when leadership ended.
func (m *Manager) lead(lctx context.Context) error {
	g, gctx := errgroup.WithContext(lctx)
	for _, name := range m.names {
		r := m.controller[name]
		g.Go(func() error {
			if err := r.Run(gctx); err != nil && lctx.Err() == nil {
				return fmt.Errorf("controllermanager: controller %s: %w", name, err)
			}
			return nil
		})
	}
	return g.Wait()
}
