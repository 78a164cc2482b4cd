package apiserver

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/scheduling"
	"github.com/setpoint-dev/setpoint/examples/apiserver/authz"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/embedetcd"
	"github.com/setpoint-dev/setpoint/store/encrypt"
	"github.com/setpoint-dev/setpoint/store/etcd"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// ErrAlreadyRunning is returned by a second call of Server.Run.
var ErrAlreadyRunning = errors.New("apiserver: already running")

// Server is the apiserver. Create it with New, which binds the listener
// (so Addr and URL are known at once), and serve with Run.
type Server struct {
	cfg     Config
	log     *slog.Logger
	encrypt *encrypt.Configuration
	tokens  *tokenIssuer
	pki     *PKI
	authn   Authenticator
	rules   Rules
	// authz is the authorizer chain: rules file, then RBAC (set by Run).
	authz   Authorizer
	limiter *limiter
	// apf is API priority and fairness (nil: off).
	apf     *apf
	metrics *requestMetrics
	audit   *auditLog
	// docs are the discovery and OpenAPI documents of the served kinds.
	docs    *serverDocs
	ln      net.Listener
	running atomic.Bool
	ready   chan struct{}
	// compactionTicked, if set before Run, sees each compaction interval
	// end (tests).
	compactionTicked func(compacted int64, err error)

	// Set by Run before ready is closed; read only after.
	backend store.Backend
	rbac    *rbacParts
	pods    *podGraph
	handler http.Handler
}

// New validates cfg, loads the token and rules files and the PKI
// (generating it into DataDir/pki on first use), and binds the listen
// address. Nothing is served until Run.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, log: cfg.Logger, ready: make(chan struct{})}
	reg, err := newRegistry(cfg.ExtraKinds)
	if err != nil {
		return nil, err
	}
	s.docs = docsFor(reg)
	tokens, err := loadTokens(cfg.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("apiserver: %w", err)
	}
	if s.metrics, err = newRequestMetrics(cfg.MetricsRegistry); err != nil {
		return nil, fmt.Errorf("apiserver: metrics: %w", err)
	}
	s.authn = Authenticators{ClientCertAuthenticator{}, tokens}
	if s.rules, err = loadRules(cfg.AuthzFile); err != nil {
		return nil, fmt.Errorf("apiserver: %w", err)
	}
	s.authz = s.rules
	if cfg.EncryptionConfigFile != "" {
		if s.encrypt, err = encrypt.LoadFile(cfg.EncryptionConfigFile); err != nil {
			return nil, fmt.Errorf("apiserver: %w", err)
		}
	}
	if s.pki, err = LoadOrCreatePKI(filepath.Join(cfg.DataDir, "pki"), cfg.TLSSANs...); err != nil {
		return nil, fmt.Errorf("apiserver: %w", err)
	}
	saKey, err := loadOrCreateSigningKey(filepath.Join(cfg.DataDir, "pki", "sa.key"))
	if err != nil {
		return nil, fmt.Errorf("apiserver: %w", err)
	}
	if s.tokens, err = newTokenIssuer(saKey, cfg.ServiceAccountIssuer, cfg.APIAudiences, cfg.ServiceAccountMaxTokenExpiration, cfg.Clock); err != nil {
		return nil, fmt.Errorf("apiserver: %w", err)
	}
	s.limiter = newLimiter(cfg.RateLimit, cfg.RateBurst, cfg.MaxInflight, cfg.Clock)
	s.limiter.longRunning = make(chan struct{}, cfg.MaxLongRunning)
	s.limiter.requestTimeout, s.limiter.bodyTimeout = cfg.RequestTimeout, cfg.BodyTimeout
	if !cfg.DisablePriorityAndFairness {
		if s.apf, err = newAPF(defaultAPFLevels(), defaultAPFSchemas(), cfg.MaxInflight, cfg.PriorityAndFairnessQueueWait, cfg.Clock, cfg.MetricsRegistry); err != nil {
			return nil, err
		}
		// The priority levels' seats are the in-flight cap now.
		s.limiter.inflight = nil
	}
	if s.audit, err = newAuditLog(cfg); err != nil {
		return nil, fmt.Errorf("apiserver: %w", err)
	}
	if s.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		s.audit.Close()
		return nil, fmt.Errorf("apiserver: %w", err)
	}
	return s, nil
}

// Addr returns the listen address (host:port).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL returns the server's base URL, https://host:port.
func (s *Server) URL() string { return "https://" + s.Addr() }

// PKI returns the server's certificates.
func (s *Server) PKI() *PKI { return s.pki }

// Ready is closed once Run serves requests (and has written
// Config.KubeconfigOut). It is never closed if Run fails before that.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Backend returns the storage backend; nil before Ready.
func (s *Server) Backend() store.Backend {
	select {
	case <-s.ready:
		return s.backend
	default:
		return nil
	}
}

// Kubeconfig returns an admin kubeconfig for the server (client
// certificate CN=admin, O=system:masters).
func (s *Server) Kubeconfig() ([]byte, error) {
	return Kubeconfig(s.URL(), s.pki.CACert, s.pki.AdminCert, s.pki.AdminKey, "")
}

// ClientTLS returns a TLS configuration that trusts the server and, if
// certPEM is set, presents that client certificate.
func (s *Server) ClientTLS(certPEM, keyPEM []byte) (*tls.Config, error) {
	c := &tls.Config{RootCAs: s.pki.CertPool(), MinVersion: tls.VersionTLS12}
	if certPEM != nil {
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

// ServeHTTP serves one request through the whole request path (filters,
// admission, handlers), as the listener does; 503 before Ready.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case <-s.ready:
		s.handler.ServeHTTP(w, r)
	default:
		rest.WriteError(w, watch.NewStatusError(http.StatusServiceUnavailable, watch.StatusReasonServiceUnavailable, "the apiserver is not ready"))
	}
}

// Run opens storage (an embedded etcd unless configured otherwise), starts
// each resource's watch cache and the admission plugins' informers,
// creates the default, kube-system, kube-public and kube-node-lease
// namespaces and the system priority classes, and serves
// HTTPS on the listener New bound. It returns nil once ctx has ended and
// the server has shut down: open watches end cleanly (clients re-watch
// elsewhere or after a restart), in-flight requests finish (up to
// Config.ShutdownTimeout), and storage is closed. It returns an error if it
// cannot start, or if a part fails for good (serving, a watch cache);
// everything else is then stopped too. Run may be called once.
func (s *Server) Run(ctx context.Context) (err error) {
	if !s.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	defer s.ln.Close()
	defer s.audit.Close()
	backend, closeStorage, err := s.openStorage(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeStorage()) }()
	if s.encrypt != nil {
		if backend, err = encrypt.New(backend, s.encrypt, store.DefaultKeyPrefix); err != nil {
			return fmt.Errorf("apiserver: %w", err)
		}
	}

	rs, err := newResources(backend, s.cfg.ExtraKinds)
	if err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	lifecycle, err := newNamespaceLifecycle(rs.namespaces.st, s.log)
	if err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	quota, err := newResourceQuota(rs.quotas.st, rs.usage, s.log)
	if err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	alloc := newServiceAllocator(backend, rs.services.st, s.cfg.ServiceCIDRs, s.cfg.NodePortRange, s.log)
	if err := alloc.repair(ctx); err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	rbacParts, err := newRBACParts(rs, s.log)
	if err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	pods, err := newPodGraph(rs.pods.st, s.log)
	if err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	// Like --authorization-mode=Node,RBAC, after the rules file.
	s.authz = authz.Chain{s.rules, authz.NewNode(pods), rbacParts.authorizer}
	escalation := &escalationCheck{rbac: rbacParts.authorizer, authorize: s.authz.Authorize, roles: rs.roles.st, clusterRoles: rs.clusterRoles.st}
	saAuth, err := newSATokenAuthenticator(backend, s.tokens)
	if err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	priority, err := newPriorityAdmission(rs.priorityClasses.st, s.log)
	if err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	admission := []rest.AdmissionPlugin{lifecycle, alloc, defaultTolerationSeconds{}, priority, csrAdmission{authz: s.authz}, quota, escalation, nodeRestriction{}}
	if s.cfg.ServiceAccountTokenVolumes {
		admission = slices.Insert(admission, 1, rest.AdmissionPlugin(serviceAccountAdmission{accounts: saAuth.accounts}))
	}
	s.authn = append(Authenticators{s.authn}, saAuth, &bootstrapTokenAuthenticator{secrets: saAuth.secrets, clock: s.cfg.Clock})
	if s.cfg.AnonymousAuth {
		s.authn = append(s.authn.(Authenticators), anonymousAuthenticator{})
	}
	mux := newResourceMux(oidcHandler{ti: s.tokens, next: discoveryHandler{addr: s.Addr(), log: s.log, docs: s.docs}})
	for _, r := range rs.all {
		if err := r.start(admission, s.cfg.MaxBodyBytes, s.log); err != nil {
			return fmt.Errorf("apiserver: %w", err)
		}
		mux.add(r)
	}
	mux.handle(route{"v1", "pods", "binding", ""}, bindingHandler{pods: rs.pods.st, maxBody: s.cfg.MaxBodyBytes})
	mux.handle(route{"v1", "pods", "eviction", ""}, evictionHandler{pods: rs.pods.st, budgets: rs.budgets.st, clock: s.cfg.Clock, maxBody: s.cfg.MaxBodyBytes})
	mux.handle(route{"v1", "serviceaccounts", "token", ""}, tokenRequestHandler{auth: saAuth, maxBody: s.cfg.MaxBodyBytes})
	mux.handle(route{"v1", "namespaces", "finalize", ""}, finalizeHandler{namespaces: rs.namespaces.st, maxBody: s.cfg.MaxBodyBytes})
	kubelets, err := s.kubeletRoutes(mux, rs)
	if err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	defer kubelets.transport.CloseIdleConnections()
	metricsClock := s.cfg.MetricsClock
	if metricsClock == nil {
		metricsClock = s.cfg.Clock
	}
	scraper := newMetricsScraper(kubelets, metricsClock, s.cfg.MetricsResolution, s.log)
	mux.handleVirtual(metricsGroupVersion, "nodes", scraper)
	mux.handleVirtual(metricsGroupVersion, "pods", scraper)
	reviews := reviewHandler{z: s.authz, rbac: rbacParts.authorizer}
	for res := range reviewKinds {
		gv := "authorization.k8s.io/v1"
		if res == "selfsubjectreviews" {
			gv = "authentication.k8s.io/v1"
		}
		mux.handleVirtual(gv, res, reviews)
	}
	if err := ensureNamespaces(ctx, rs.namespaces.st, "default", "kube-system", "kube-public", "kube-node-lease"); err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	if err := ensurePriorityClasses(ctx, rs.priorityClasses.st); err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	if err := alloc.ensureKubernetesService(ctx, rs.endpointSlices.st, s.Addr()); err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	if err := ensureBootstrapPolicy(ctx, rs, s.log); err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	advertise := s.cfg.AdvertiseURL
	if advertise == "" {
		advertise = s.URL()
	}
	if err := ensureClusterInfo(ctx, backend, rs, advertise, s.pki.CACert); err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	s.backend, s.rbac, s.pods = backend, rbacParts, pods
	s.handler = s.filters(withFenceAuthorization(mux, s.authz, func(key string) (string, string, string, string, bool) {
		return mux.fenceTarget(store.DefaultKeyPrefix, key)
	}), backend)

	cert, err := tls.X509KeyPair(s.pki.ServingCert, s.pki.ServingKey)
	if err != nil {
		return fmt.Errorf("apiserver: serving certificate: %w", err)
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.VerifyClientCertIfGiven,
			ClientCAs: s.pki.CertPool(), MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}},
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, r := range rs.all {
		g.Go(func() error { return r.run(gctx) })
	}
	g.Go(func() error { return lifecycle.Run(gctx) })
	g.Go(func() error { return quota.Run(gctx) })
	g.Go(func() error { return priority.Run(gctx) })
	g.Go(func() error { return rbacParts.src.Run(gctx) })
	g.Go(func() error { return pods.inf.Run(gctx) })
	g.Go(func() error { return rbacParts.aggregator.Run(gctx) })
	g.Go(func() error { return scraper.run(gctx) })
	if s.cfg.CompactionInterval > 0 {
		c := &compactor{b: backend, clock: s.cfg.Clock, interval: s.cfg.CompactionInterval, log: s.log, ticked: s.compactionTicked}
		g.Go(func() error { return c.run(gctx) })
	}
	g.Go(func() error {
		if err := srv.ServeTLS(s.ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("apiserver: serving: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		// The watch caches end with gctx, and with them every watch
		// response; then in-flight requests get the grace period.
		sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
			s.log.Warn("apiserver: in-flight requests cut off at shutdown", "err", err)
		}
		return nil
	})
	if s.cfg.KubeconfigOut != "" {
		if err := s.writeKubeconfig(); err != nil {
			srv.Close()
			g.Wait()
			return err
		}
	}
	// Authorization reads the RBAC caches: serve once they hold the
	// bootstrap policy.
	rev, err := backend.Revision(gctx)
	if err == nil {
		err = rbacParts.src.WaitForRevision(gctx, rev)
	}
	if err == nil {
		err = pods.inf.WaitForRevision(gctx, rev)
	}
	if err != nil {
		srv.Close()
		return errors.Join(fmt.Errorf("apiserver: waiting for the authorizers' caches: %w", err), g.Wait())
	}
	close(s.ready)
	s.log.Info("apiserver listening", "url", s.URL())
	return g.Wait()
}

func (s *Server) writeKubeconfig() error {
	kc, err := s.Kubeconfig()
	if err == nil {
		err = os.WriteFile(s.cfg.KubeconfigOut, kc, 0o600)
	}
	if err != nil {
		return fmt.Errorf("apiserver: writing kubeconfig: %w", err)
	}
	return nil
}

// filters builds the request path around the resource mux (see
// filters.go): health, request info, audit (audit.go), authentication,
// impersonation, limits, priority and fairness (apf.go), authorization.
func (s *Server) filters(mux http.Handler, b store.Backend) http.Handler {
	h := withAuthorization(s.metrics.serve(mux, !s.cfg.DisableProfiling), s.authz)
	if s.apf != nil {
		h = withPriorityAndFairness(h, s.apf)
	}
	h = withLimits(h, s.limiter, s.cfg.MaxBodyBytes)
	if s.audit != nil {
		h = withAuditUser(h, true)
	}
	h = withImpersonation(h, func() Authorizer { return s.authz })
	if s.audit != nil {
		h = withAuditUser(h, false)
	}
	h = withAuthentication(h, s.authn)
	if s.audit != nil {
		h = withAudit(h, s.audit)
	}
	h = withRequestInfo(s.metrics.observe(h))
	return withHealth(h, func(ctx context.Context) error {
		_, err := b.Revision(ctx)
		return err
	})
}

// openStorage returns the backend and how to close it.
func (s *Server) openStorage(ctx context.Context) (store.Backend, func() error, error) {
	cfg := s.cfg
	switch {
	case cfg.Backend != nil:
		return cfg.Backend, func() error { return nil }, nil
	case len(cfg.EtcdServers) > 0:
		cli, err := clientv3.New(clientv3.Config{Endpoints: cfg.EtcdServers, DialTimeout: 5 * time.Second, Context: ctx})
		if err != nil {
			return nil, nil, fmt.Errorf("apiserver: connecting to etcd %v: %w", cfg.EtcdServers, err)
		}
		return etcd.New(cli), cli.Close, nil
	default:
		e, err := embedetcd.Start(ctx, embedetcd.Config{Dir: filepath.Join(cfg.DataDir, "etcd"), UnsafeNoFsync: cfg.EtcdNoFsync,
			LogLevel: cfg.EtcdLogLevel, WatchProgressNotifyInterval: 5 * time.Second})
		if err != nil {
			return nil, nil, fmt.Errorf("apiserver: starting embedded etcd: %w", err)
		}
		return e.Backend(), e.Close, nil
	}
}

func ensureNamespaces(ctx context.Context, namespaces *store.Store[*api.Namespace], names ...string) error {
	for _, n := range names {
		ns := registry.NamespaceKind.New()
		ns.Name = n
		ns.Spec.Finalizers = []api.FinalizerName{api.FinalizerKubernetes}
		registry.NamespaceKind.Default(ns)
		if _, err := namespaces.Create(ctx, ns); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return fmt.Errorf("creating namespace %s: %w", n, err)
		}
	}
	return nil
}

// ensurePriorityClasses creates the system priority classes
// (system-cluster-critical, system-node-critical), as Kubernetes does at
// startup; ones that exist are left as they are.
func ensurePriorityClasses(ctx context.Context, classes *store.Store[*scheduling.PriorityClass]) error {
	for _, pc := range registry.SystemPriorityClasses() {
		if _, err := classes.Create(ctx, pc); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return fmt.Errorf("creating priority class %s: %w", pc.Name, err)
		}
	}
	return nil
}

func writeStatus(w http.ResponseWriter, st *watch.Status) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(st.Code))
	b, _ := json.Marshal(st)
	w.Write(b)
}
