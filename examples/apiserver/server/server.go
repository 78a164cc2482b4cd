package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/embedetcd"
	"github.com/setpoint-dev/setpoint/store/etcd"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// Config configures the apiserver. The zero value is not valid: DataDir is
// required unless both EtcdServers (or Backend) and CertDir are set.
type Config struct {
	// DataDir holds the embedded etcd's data (DataDir/etcd) and the PKI
	// (DataDir/pki).
	DataDir string
	// EtcdServers are external etcd client URLs; empty means an embedded
	// etcd in DataDir/etcd.
	EtcdServers []string
	// Backend, if set, is used instead of any etcd (tests).
	Backend store.Backend
	// Listen is the TLS listen address (default 127.0.0.1:6443; port 0
	// picks a free one).
	Listen string
	// TokenFile is a static token file (token,user,uid,"group1,group2").
	TokenFile string
	// AuthzFile is a JSON array of Rule; default DefaultRules
	// (system:masters may do everything).
	AuthzFile string
	// KubeconfigOut, if set, receives an admin kubeconfig (client
	// certificate CN=admin, O=system:masters).
	KubeconfigOut string
	// MaxBodyBytes limits request bodies (default rest.DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// RateLimit is the sustained requests per second allowed (watches
	// excluded); 0 means no limit. RateBurst is the bucket size (default
	// RateLimit, at least 1).
	RateLimit float64
	RateBurst int
	// MaxInflight caps concurrent non-watch requests (default 400); more
	// get 429.
	MaxInflight int
	// EtcdNoFsync makes the embedded etcd skip fsync (tests only).
	EtcdNoFsync bool
	// EtcdLogLevel is the embedded etcd's log level (default "error";
	// "off" silences it).
	EtcdLogLevel string
	// Logger receives the server's logs; default discard.
	Logger *slog.Logger
}

// Validate reports the first invalid field.
func (c *Config) Validate() error {
	switch {
	case c.DataDir == "":
		return errors.New("apiserver: DataDir is required (etcd data and PKI live there)")
	case c.MaxBodyBytes < 0, c.RateLimit < 0, c.RateBurst < 0, c.MaxInflight < 0:
		return errors.New("apiserver: MaxBodyBytes, RateLimit, RateBurst and MaxInflight must not be negative")
	}
	if c.Listen != "" {
		if _, port, err := net.SplitHostPort(c.Listen); err != nil {
			return fmt.Errorf("apiserver: Listen %q: %w", c.Listen, err)
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return fmt.Errorf("apiserver: Listen %q: bad port", c.Listen)
		}
	}
	return nil
}

// Server is a running apiserver.
type Server struct {
	cfg     Config
	log     *slog.Logger
	etcd    *embedetcd.Server
	cli     *clientv3.Client
	backend store.Backend
	pki     *PKI
	tokens  Tokens
	rules   []Rule
	limiter *limiter

	resources  map[string]served
	namespaces *store.Store[*api.Namespace]
	pods       *store.Store[*api.Pod]
	quotas     *store.Store[*api.ResourceQuota]
	podCreate  sync.Mutex // serializes pod creates for quota admission
	nsCache    *objCache[*api.Namespace]
	deletedNS  sync.Map // names of namespaces deleted through this server
	quotaNS    sync.Map // namespaces whose quotas were written through this server
	quotaCache *objCache[*api.ResourceQuota]

	ln       net.Listener
	srv      *http.Server
	cancel   context.CancelFunc
	runWG    sync.WaitGroup
	serveWG  sync.WaitGroup
	once     sync.Once
	closeErr error
}

// Start starts the apiserver: etcd (embedded unless configured otherwise),
// the PKI, the watch caches and the HTTPS listener. It returns once the
// server accepts requests. Stop it with Shutdown or Close.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:6443"
	}
	if cfg.MaxInflight == 0 {
		cfg.MaxInflight = 400
	}
	s := &Server{cfg: cfg, log: cfg.Logger, resources: map[string]served{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	ok := false
	defer func() {
		if !ok {
			s.closeStorage()
		}
	}()
	var err error
	if s.tokens, err = loadTokens(cfg.TokenFile); err != nil {
		return nil, fmt.Errorf("apiserver: %w", err)
	}
	if s.rules, err = loadRules(cfg.AuthzFile); err != nil {
		return nil, fmt.Errorf("apiserver: %w", err)
	}
	if s.pki, err = LoadOrCreatePKI(filepath.Join(cfg.DataDir, "pki")); err != nil {
		return nil, fmt.Errorf("apiserver: %w", err)
	}
	s.limiter = newLimiter(cfg.RateLimit, cfg.RateBurst, cfg.MaxInflight)
	switch {
	case cfg.Backend != nil:
		s.backend = cfg.Backend
	case len(cfg.EtcdServers) > 0:
		s.cli, err = clientv3.New(clientv3.Config{Endpoints: cfg.EtcdServers, DialTimeout: 5 * time.Second, Context: ctx})
		if err != nil {
			return nil, fmt.Errorf("apiserver: connecting to etcd %v: %w", cfg.EtcdServers, err)
		}
		s.backend = etcd.New(s.cli)
	default:
		s.etcd, err = embedetcd.Start(ctx, embedetcd.Config{Dir: filepath.Join(cfg.DataDir, "etcd"), UnsafeNoFsync: cfg.EtcdNoFsync, LogLevel: cfg.EtcdLogLevel,
			WatchProgressNotifyInterval: 5 * time.Second})
		if err != nil {
			return nil, fmt.Errorf("apiserver: starting embedded etcd: %w", err)
		}
		s.backend = s.etcd.Backend()
	}
	if err := s.registerAll(); err != nil {
		return nil, fmt.Errorf("apiserver: %w", err)
	}
	if err := s.ensureNamespaces(ctx, "default", "kube-system", "kube-public"); err != nil {
		return nil, fmt.Errorf("apiserver: %w", err)
	}
	cert, err := tls.X509KeyPair(s.pki.ServingCert, s.pki.ServingKey)
	if err != nil {
		return nil, fmt.Errorf("apiserver: serving certificate: %w", err)
	}
	s.ln, err = net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("apiserver: %w", err)
	}
	if cfg.KubeconfigOut != "" {
		kc, err := Kubeconfig(s.URL(), s.pki.CACert, s.pki.AdminCert, s.pki.AdminKey, "")
		if err == nil {
			err = os.WriteFile(cfg.KubeconfigOut, kc, 0o600)
		}
		if err != nil {
			s.ln.Close()
			return nil, fmt.Errorf("apiserver: writing kubeconfig: %w", err)
		}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.nsCache = newObjCache(s.namespaces, s.log)
	s.quotaCache = newObjCache(s.quotas, s.log)
	s.runWG.Add(2)
	go func() { defer s.runWG.Done(); s.nsCache.run(runCtx) }()
	go func() { defer s.runWG.Done(); s.quotaCache.run(runCtx) }()
	for _, r := range s.resources {
		s.runWG.Add(1)
		go func() {
			defer s.runWG.Done()
			if err := r.run(runCtx); err != nil {
				s.log.Error("watch cache stopped", "resource", r.descriptor().Resource().Name, "err", err)
			}
		}()
	}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.VerifyClientCertIfGiven,
			ClientCAs: s.pki.CertPool(), MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}},
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.serveWG.Add(1)
	go func() {
		defer s.serveWG.Done()
		if err := s.srv.ServeTLS(s.ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	}()
	ok = true
	s.log.Info("apiserver listening", "url", s.URL())
	return s, nil
}

func (s *Server) ensureNamespaces(ctx context.Context, names ...string) error {
	for _, n := range names {
		ns := api.NamespaceKind.New()
		ns.Name = n
		api.NamespaceKind.PrepareForCreate(ns)
		api.NamespaceKind.Default(ns)
		if _, err := s.namespaces.Create(ctx, ns); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return fmt.Errorf("creating namespace %s: %w", n, err)
		}
	}
	return nil
}

// Addr returns the listen address (host:port).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL returns the server's base URL, https://host:port.
func (s *Server) URL() string { return "https://" + s.Addr() }

// PKI returns the server's certificates.
func (s *Server) PKI() *PKI { return s.pki }

// Backend returns the storage backend.
func (s *Server) Backend() store.Backend { return s.backend }

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

// Shutdown stops the server gracefully: open watches end cleanly (clients
// re-watch elsewhere or after a restart), in-flight requests finish (until
// ctx ends), and then storage is closed.
func (s *Server) Shutdown(ctx context.Context) error {
	s.once.Do(func() {
		s.cancel() // ends the watch caches, and with them every watch response
		s.runWG.Wait()
		err := s.srv.Shutdown(ctx)
		if err != nil {
			s.srv.Close()
		}
		s.serveWG.Wait()
		s.closeErr = errors.Join(err, s.closeStorage())
	})
	return s.closeErr
}

// Close is Shutdown with a 10 second grace period.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Shutdown(ctx)
}

func (s *Server) closeStorage() error {
	var errs []error
	if s.cli != nil {
		errs = append(errs, s.cli.Close())
	}
	if s.etcd != nil {
		errs = append(errs, s.etcd.Close())
	}
	return errors.Join(errs...)
}

// ServeHTTP authenticates, rate-limits and authorizes the request, then
// serves health, discovery or a resource.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz", "/livez", "/readyz":
		if r.URL.Path == "/readyz" {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if _, err := s.backend.Revision(ctx); err != nil {
				http.Error(w, "storage not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("ok"))
		return
	}
	u := s.authenticate(r)
	if u == nil {
		writeStatus(w, watch.NewStatus(http.StatusUnauthorized, watch.StatusReasonUnauthorized, "Unauthorized"))
		return
	}
	info, isResource := rest.ParseRequestInfo(r)
	if !(isResource && info.Verb == "watch") {
		release, ok := s.limiter.acquire()
		if !ok {
			w.Header().Set("Retry-After", "1")
			writeStatus(w, watch.NewStatus(http.StatusTooManyRequests, watch.StatusReasonTooManyRequests, "too many requests, please try again later"))
			return
		}
		defer release()
	}
	r = r.WithContext(WithUser(r.Context(), u))
	if !isResource || info.Resource == "" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeStatus(w, watch.NewStatus(http.StatusMethodNotAllowed, watch.StatusReasonMethodNotAllowed, "method not allowed"))
			return
		}
		if !s.discovery(w, r) && !s.openAPI(w, r) {
			writeStatus(w, watch.NewStatus(http.StatusNotFound, watch.StatusReasonNotFound, "the server could not find the requested resource"))
		}
		return
	}
	res, ok := s.resources[info.APIVersion+"/"+info.Resource]
	if !ok {
		writeStatus(w, watch.NewStatus(http.StatusNotFound, watch.StatusReasonNotFound, "the server could not find the requested resource"))
		return
	}
	resource := info.Resource
	if info.Subresource != "" {
		resource += "/" + info.Subresource
	}
	ns := info.Namespace
	if info.Resource == "namespaces" {
		ns = info.Name
	}
	if !Authorize(s.rules, u, info.Verb, resource, ns) {
		msg := fmt.Sprintf("%s %q is forbidden: User %q cannot %s resource %q", info.Resource, info.Name, u.Name, info.Verb, resource)
		if info.Namespace != "" {
			msg += fmt.Sprintf(" in the namespace %q", info.Namespace)
		}
		writeStatus(w, watch.NewStatus(http.StatusForbidden, watch.StatusReasonForbidden, msg))
		return
	}
	switch {
	case info.Resource == "pods" && info.Subresource == "binding":
		if err := s.bind(r.Context(), w, r, info); err != nil {
			writeStatus(w, rest.ErrorStatus(err, "Pod", "", info.Name))
		}
		return
	case info.Resource == "namespaces" && info.Verb == "delete" && info.Subresource == "":
		body, err := s.prepareNamespaceDelete(w, r, info.Name)
		if err != nil {
			writeStatus(w, rest.ErrorStatus(err, "Namespace", "", info.Name))
			return
		}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	case info.Resource == "pods" && info.Verb == "create" && info.Subresource == "":
		// Serialize pod creates in namespaces with a quota, so that two
		// creates cannot both take its last unit.
		has, err := s.hasQuota(r.Context(), info.Namespace)
		if err != nil {
			writeStatus(w, rest.ErrorStatus(err, "Pod", "", ""))
			return
		}
		if has {
			s.podCreate.Lock()
			defer s.podCreate.Unlock()
		}
	}
	res.serve(w, r, info)
}

func writeStatus(w http.ResponseWriter, st *watch.Status) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(st.Code))
	b, _ := jsonMarshal(st)
	w.Write(b)
}
