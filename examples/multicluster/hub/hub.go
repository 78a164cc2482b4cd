package hub

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/examples/bootstrap"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/multicluster/tunnel"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// Defaults of Config.
const (
	DefaultListen         = ":9443"
	DefaultHeartbeatGrace = 40 * time.Second // as a node's, Kubernetes' node-monitor-grace-period
	DefaultAuthCacheTTL   = 10 * time.Second
	// DefaultAgentTokenExpiration is the parent's default cap on
	// service account tokens.
	DefaultAgentTokenExpiration = 24 * time.Hour
)

// RegistrationRole is the ClusterRole (and ClusterRoleBinding) through
// which RegistrationGroups may create ClusterRegistrationRequests.
const RegistrationRole = "multicluster.setpoint.dev:register"

// DefaultRegistrationGroups is the default of Config.RegistrationGroups:
// the group of every bootstrap token.
var DefaultRegistrationGroups = []string{bootstrap.Group}

// Config configures a Hub.
type Config struct {
	// ParentKubeconfig is the hub's own credentials in the parent
	// apiserver (it must be allowed to create subjectaccessreviews);
	// required.
	ParentKubeconfig []byte
	// Listen is the HTTPS listen address (default DefaultListen; port 0
	// picks a free one, which Addr reports once New returns).
	Listen string
	// ServingCertPEM and ServingKeyPEM are the hub's TLS certificate;
	// both empty: a self-signed one for localhost and 127.0.0.1, whose
	// certificate CACertPEM returns.
	ServingCertPEM, ServingKeyPEM []byte
	// ClientCAPEM, if set, are the CAs whose client certificates
	// authenticate callers (user from the CN, groups from O), as the
	// parent's own; callers may always use a bearer token the parent
	// accepts.
	ClientCAPEM []byte
	// HeartbeatGrace is how long after its last heartbeat a cluster stays
	// ready (default DefaultHeartbeatGrace).
	HeartbeatGrace time.Duration
	// AuthCacheTTL is how long the parent's answers on a token or an
	// access decision are reused (default DefaultAuthCacheTTL; negative:
	// not cached).
	AuthCacheTTL time.Duration
	// AutoApprove approves every valid ClusterRegistrationRequest at
	// once; otherwise a human does, one by one (Approve, or kubectl
	// patching the request's status.result to Approved).
	AutoApprove bool
	// RegistrationGroups are the groups whose members may register
	// child clusters: at Run the hub creates ClusterRole RegistrationRole
	// (create on clusterregistrationrequests, nothing else) and a
	// ClusterRoleBinding of that name to these groups, if they do not
	// exist yet (an operator's edits of them stand), as kubeadm binds
	// bootstrap tokens to its node bootstrapper role. Default
	// DefaultRegistrationGroups: every bootstrap token. A hub whose
	// parent credentials may not write RBAC logs why and goes on.
	RegistrationGroups []string
	// NoRegistrationRBAC: the hub creates no RBAC for registration (the
	// operator grants it).
	NoRegistrationRBAC bool
	// AgentTokenExpiration is the lifetime of the service account token
	// a registered agent gets (default DefaultAgentTokenExpiration, which
	// the parent may cap).
	AgentTokenExpiration time.Duration
	// Clock times heartbeats and caches (default the real clock).
	Clock clockwork.Clock
	// Logger logs (default slog.Default()).
	Logger *slog.Logger
	// Registry receives the hub's metrics (default a private one, served
	// at /metrics).
	Registry *prometheus.Registry
}

// Validate reports what is wrong with c.
func (c *Config) Validate() error {
	var errs []error
	if len(c.ParentKubeconfig) == 0 {
		errs = append(errs, errors.New("ParentKubeconfig: required"))
	}
	if (len(c.ServingCertPEM) == 0) != (len(c.ServingKeyPEM) == 0) {
		errs = append(errs, errors.New("ServingCertPEM, ServingKeyPEM: set both or neither"))
	}
	if c.AgentTokenExpiration < 0 {
		errs = append(errs, fmt.Errorf("AgentTokenExpiration: %s is negative", c.AgentTokenExpiration))
	}
	if c.HeartbeatGrace < 0 {
		errs = append(errs, fmt.Errorf("HeartbeatGrace: %s is negative", c.HeartbeatGrace))
	}
	if len(c.ClientCAPEM) > 0 && !x509.NewCertPool().AppendCertsFromPEM(c.ClientCAPEM) {
		errs = append(errs, errors.New("ClientCAPEM: no PEM certificate in it"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("hub config: %w", err)
	}
	return nil
}

// Hub is the multi-cluster hub: the HTTPS endpoint agents keep their
// tunnels to and callers reach child clusters through.
type Hub struct {
	cfg     Config
	ln      net.Listener
	tlsCfg  *tls.Config
	caPEM   []byte
	reg     *registry
	authn   *authenticator
	authz   *authorizer
	log     *slog.Logger
	metrics *metrics
	handler http.Handler

	mu         sync.Mutex
	transports map[string]*http.Transport
	proxies    map[string]*httputil.ReverseProxy
	sessions   map[string][]*tunnel.Session // by cluster ID, newest last
	closed     bool

	parent   *client.Clientset // the hub's own credentials in the parent
	managed  *rest.Client[*multicluster.ManagedCluster]
	beat     chan struct{} // a heartbeat arrived: write statuses
	requests *rest.Client[*multicluster.ClusterRegistrationRequest]
	descs    *rest.Client[*multicluster.Description]
	reqInf   *informer.Informer[*multicluster.ClusterRegistrationRequest]
	regCtrl  *reconcile.Controller[reconcile.Request]
	mcInf    *informer.Informer[*multicluster.ManagedCluster]
	mcCtrl   *reconcile.Controller[reconcile.Request] // deregisters deleted ManagedClusters
	regMu    sync.Mutex
	inflight map[string]int // registration requests serveRegister is approving
}

// New checks cfg, reaches no one yet, and listens on cfg.Listen.
func New(cfg Config) (*Hub, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.HeartbeatGrace == 0 {
		cfg.HeartbeatGrace = DefaultHeartbeatGrace
	}
	if cfg.AgentTokenExpiration == 0 {
		cfg.AgentTokenExpiration = DefaultAgentTokenExpiration
	}
	if cfg.AuthCacheTTL == 0 {
		cfg.AuthCacheTTL = DefaultAuthCacheTTL
	}
	if cfg.RegistrationGroups == nil {
		cfg.RegistrationGroups = DefaultRegistrationGroups
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	parent, err := client.New(client.Config{Kubeconfig: cfg.ParentKubeconfig, QPS: -1})
	if err != nil {
		return nil, fmt.Errorf("hub: parent kubeconfig: %w", err)
	}
	conn, err := client.LoadKubeconfig(cfg.ParentKubeconfig, "", "")
	if err != nil {
		return nil, fmt.Errorf("hub: parent kubeconfig: %w", err)
	}
	anonTLS := conn.TLS.Clone()
	anonTLS.Certificates, anonTLS.GetClientCertificate = nil, nil
	h := &Hub{cfg: cfg, log: cfg.Logger, transports: map[string]*http.Transport{}, proxies: map[string]*httputil.ReverseProxy{}, sessions: map[string][]*tunnel.Session{},
		parent: parent, inflight: map[string]int{}}
	h.reg = newRegistry(cfg.Clock, cfg.HeartbeatGrace)
	h.beat = make(chan struct{}, 1)
	if h.managed, err = client.For[*multicluster.ManagedCluster](parent, multicluster.ManagedClusterResource); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	if h.requests, err = client.For[*multicluster.ClusterRegistrationRequest](parent, multicluster.ClusterRegistrationRequestResource); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	if h.descs, err = client.For[*multicluster.Description](parent, multicluster.DescriptionResource); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	if h.reqInf, err = informer.New[*multicluster.ClusterRegistrationRequest](h.requests, informer.Config[*multicluster.ClusterRegistrationRequest]{
		Name: "hub-clusterregistrationrequests", Clock: cfg.Clock, Logger: cfg.Logger}); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	if h.regCtrl, err = reconcile.New(reconcile.Config[reconcile.Request]{Name: "clusterregistrationrequests", Reconciler: &registrar{h},
		Workers: 2, Clock: cfg.Clock, Logger: cfg.Logger}); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	if _, err := h.reqInf.AddHandler(reconcile.EnqueueKey[*multicluster.ClusterRegistrationRequest](h.regCtrl.Queue())); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	if h.mcInf, err = informer.New[*multicluster.ManagedCluster](h.managed, informer.Config[*multicluster.ManagedCluster]{
		Name: "hub-managedclusters", Clock: cfg.Clock, Logger: cfg.Logger}); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	if h.mcCtrl, err = reconcile.New(reconcile.Config[reconcile.Request]{Name: "managedclusters", Reconciler: &deregistrar{h},
		Clock: cfg.Clock, Logger: cfg.Logger}); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	if _, err := h.mcInf.AddHandler(reconcile.EnqueueKey[*multicluster.ManagedCluster](h.mcCtrl.Queue())); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	h.authn = &authenticator{parentURL: conn.Server, anon: &http.Client{Transport: &http.Transport{TLSClientConfig: anonTLS}, Timeout: 30 * time.Second},
		clock: cfg.Clock, ttl: cfg.AuthCacheTTL, cache: map[[32]byte]cachedUser{}}
	h.authz = &authorizer{parentURL: conn.Server, client: parent.HTTPClient(), clock: cfg.Clock, ttl: cfg.AuthCacheTTL, cache: map[string]cachedDecision{}}
	if h.metrics, err = newMetrics(cfg.Registry, h.reg); err != nil {
		return nil, err
	}
	certPEM, keyPEM := cfg.ServingCertPEM, cfg.ServingKeyPEM
	if len(certPEM) == 0 {
		if certPEM, keyPEM, err = selfSigned(); err != nil {
			return nil, err
		}
		h.caPEM = certPEM
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("hub: serving certificate: %w", err)
	}
	h.tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	if len(cfg.ClientCAPEM) > 0 {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(cfg.ClientCAPEM)
		h.tlsCfg.ClientCAs, h.tlsCfg.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	h.handler = h.routes()
	if h.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	return h, nil
}

// Addr is the address the hub listens on.
func (h *Hub) Addr() string { return h.ln.Addr().String() }

// URL is the hub's base URL.
func (h *Hub) URL() string { return "https://" + h.Addr() }

// CACertPEM is the self-signed serving certificate callers must trust,
// or nil when Config gave one.
func (h *Hub) CACertPEM() []byte { return h.caPEM }

// Run serves until ctx ends, then closes every tunnel and returns nil, or
// returns the server's error.
func (h *Hub) Run(ctx context.Context) error {
	srv := &http.Server{Handler: h.handler, TLSConfig: h.tlsCfg, ReadHeaderTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(h.log.Handler(), slog.LevelDebug)}
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(h.ln, "", "") }()
	defer h.reg.stop()
	if !h.cfg.NoRegistrationRBAC {
		if err := h.registrationRBAC(ctx); err != nil {
			h.log.Warn("granting registration to bootstrap tokens: agents cannot register until it is granted", "err", err)
		}
	}
	statusCtx, stopStatus := context.WithCancel(ctx)
	var bg sync.WaitGroup
	bg.Add(1)
	go func() { defer bg.Done(); h.writeStatuses(statusCtx) }()
	// each informer, and its controller once it has synced
	for _, c := range []struct {
		what string
		inf  interface {
			Run(context.Context) error
			WaitForSync(context.Context) error
		}
		ctrl *reconcile.Controller[reconcile.Request]
	}{{"registration requests", h.reqInf, h.regCtrl}, {"managed clusters", h.mcInf, h.mcCtrl}} {
		bg.Add(2)
		go func() {
			defer bg.Done()
			if err := c.inf.Run(statusCtx); err != nil && statusCtx.Err() == nil {
				h.log.Error(c.what+" informer", "err", err)
			}
		}()
		go func() {
			defer bg.Done()
			if c.inf.WaitForSync(statusCtx) != nil {
				return // ctx ended
			}
			if err := c.ctrl.Run(statusCtx); err != nil && statusCtx.Err() == nil {
				h.log.Error(c.what+" controller", "err", err)
			}
		}()
	}
	defer func() { stopStatus(); bg.Wait() }()
	select {
	case err := <-errc:
		return fmt.Errorf("hub: %w", err)
	case <-ctx.Done():
	}
	err := srv.Close() // hijacked tunnels are not the server's: close them
	<-errc
	h.mu.Lock()
	h.closed = true
	for _, ss := range h.sessions {
		for _, s := range ss {
			s.Close()
		}
	}
	for _, t := range h.transports {
		t.CloseIdleConnections()
	}
	h.mu.Unlock()
	return err
}

// registrationRBAC creates RegistrationRole and its binding to
// RegistrationGroups in the parent, keeping any that exist.
func (h *Hub) registrationRBAC(ctx context.Context) error {
	role := &rbac.ClusterRole{ObjectMeta: store.ObjectMeta{Name: RegistrationRole}, Rules: []rbac.PolicyRule{{
		APIGroups: []string{multicluster.GroupName}, Resources: []string{"clusterregistrationrequests"}, Verbs: []string{"create"}}}}
	if _, err := h.parent.ClusterRoles().Create(ctx, role); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("clusterrole %s: %w", RegistrationRole, err)
	}
	b := &rbac.ClusterRoleBinding{ObjectMeta: store.ObjectMeta{Name: RegistrationRole},
		RoleRef: rbac.RoleRef{APIGroup: rbac.GroupName, Kind: "ClusterRole", Name: RegistrationRole}}
	for _, g := range h.cfg.RegistrationGroups {
		b.Subjects = append(b.Subjects, rbac.Subject{Kind: "Group", APIGroup: rbac.GroupName, Name: g})
	}
	if _, err := h.parent.ClusterRoleBindings().Create(ctx, b); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("clusterrolebinding %s: %w", RegistrationRole, err)
	}
	return nil
}

// Cluster returns the hub's view of cluster id, with its conditions.
func (h *Hub) Cluster(id string) (*multicluster.ManagedCluster, bool) { return h.reg.get(id) }

// Clusters returns every cluster the hub has heard of, by ID.
func (h *Hub) Clusters() []multicluster.ManagedCluster { return h.reg.list() }

// Changed returns a channel that is closed at the next change of any
// cluster's conditions.
func (h *Hub) Changed() <-chan struct{} { return h.reg.changes() }

// ServeHTTP serves the hub's API (Run serves it on the listener).
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.handler.ServeHTTP(w, r) }

func (h *Hub) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })
	mux.Handle("GET /metrics", promhttp.HandlerFor(h.cfg.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc(tunnel.ConnectPath, h.serveTunnel)
	mux.HandleFunc("GET "+tunnel.ClustersPath, h.serveList)
	mux.HandleFunc("POST "+tunnel.RegistrationsPath, h.serveRegister)
	mux.HandleFunc("POST "+tunnel.ClustersPath+"/{id}/heartbeat", h.serveHeartbeat)
	mux.HandleFunc("POST "+tunnel.ClustersPath+"/{id}/token", h.serveToken)
	mux.HandleFunc(tunnel.ClustersPath+"/{id}/proxy", h.serveProxy)
	mux.HandleFunc(tunnel.ClustersPath+"/{id}/proxy/{path...}", h.serveProxy)
	return mux
}

// agentAllowed checks that the caller of r may act as the agent of id:
// update the status of its ManagedCluster in its dedicated namespace.
func (h *Hub) agentAllowed(w http.ResponseWriter, r *http.Request, id string) bool {
	if err := validID(id); err != nil {
		writeStatus(w, http.StatusBadRequest, "BadRequest", err.Error())
		return false
	}
	u, ok := h.authenticate(w, r)
	if !ok {
		return false
	}
	return h.allowed(w, r, u, "update", "managedclusters", "status", multicluster.ClusterNamespace(id), id)
}

func (h *Hub) authenticate(w http.ResponseWriter, r *http.Request) (*User, bool) {
	u, err := h.authn.authenticate(r.Context(), r)
	if err != nil {
		if errors.Is(err, errUnauthorized) {
			writeStatus(w, http.StatusUnauthorized, "Unauthorized", err.Error())
		} else {
			writeStatus(w, http.StatusServiceUnavailable, "ServiceUnavailable", err.Error())
		}
		return nil, false
	}
	return u, true
}

func (h *Hub) allowed(w http.ResponseWriter, r *http.Request, u *User, verb, resource, sub, ns, name string) bool {
	ok, reason, err := h.authz.authorize(r.Context(), u, resourceAttributes(verb, resource, sub, ns, name))
	if err != nil {
		writeStatus(w, http.StatusServiceUnavailable, "ServiceUnavailable", err.Error())
		return false
	}
	if !ok {
		what := resource
		if sub != "" {
			what += "/" + sub
		}
		msg := fmt.Sprintf("%s %q cannot %s resource %q in API group %q", userKind(u), u.Name, verb, what, multicluster.GroupName)
		if ns != "" {
			msg += fmt.Sprintf(" in the namespace %q", ns)
		}
		if reason != "" {
			msg += ": " + reason
		}
		writeStatus(w, http.StatusForbidden, "Forbidden", msg)
	}
	return ok
}

func userKind(u *User) string {
	if strings.HasPrefix(u.Name, "system:serviceaccount:") {
		return "service account"
	}
	return "user"
}

// serveTunnel takes an agent's WebSocket and keeps its tunnel until it
// drops; the cluster counts as connected meanwhile. A newer tunnel of the
// same cluster takes over its requests; the older one serves those under
// way until it drops.
func (h *Hub) serveTunnel(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(tunnel.ClusterIDHeader)
	if !h.agentAllowed(w, r, id) {
		return
	}
	sess, err := tunnel.Accept(w, r)
	if err != nil {
		h.log.Warn("tunnel refused", "cluster", id, "remote", r.RemoteAddr, "err", err)
		return
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		sess.Close()
		return
	}
	h.sessions[id] = append(h.sessions[id], sess)
	h.mu.Unlock()
	h.log.Info("tunnel connected", "cluster", id, "remote", r.RemoteAddr)
	h.reg.connected(id, +1)
	<-sess.Done()
	h.mu.Lock()
	ss := h.sessions[id]
	for i, s := range ss {
		if s == sess {
			ss = append(ss[:i:i], ss[i+1:]...)
			break
		}
	}
	if len(ss) == 0 {
		delete(h.sessions, id)
	} else {
		h.sessions[id] = ss
	}
	h.mu.Unlock()
	h.reg.connected(id, -1)
	h.closeIdle(id)
	h.log.Info("tunnel disconnected", "cluster", id, "remote", r.RemoteAddr)
}

// session returns cluster id's newest tunnel, or nil.
func (h *Hub) session(id string) *tunnel.Session {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ss := h.sessions[id]; len(ss) > 0 {
		return ss[len(ss)-1]
	}
	return nil
}

// serveHeartbeat records an agent's heartbeat: its child's status.
func (h *Hub) serveHeartbeat(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !h.agentAllowed(w, r, id) {
		return
	}
	var st multicluster.ManagedClusterStatus
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&st); err != nil {
		writeStatus(w, http.StatusBadRequest, "BadRequest", "heartbeat: "+err.Error())
		return
	}
	mc := &multicluster.ManagedCluster{ObjectMeta: metaOf(id), Spec: multicluster.ManagedClusterSpec{ClusterID: id}, Status: st}
	if err := mc.Validate(); err != nil {
		writeStatus(w, http.StatusUnprocessableEntity, "Invalid", "heartbeat: "+err.Error())
		return
	}
	h.reg.heartbeat(id, st)
	select {
	case h.beat <- struct{}{}:
	default:
	}
	w.WriteHeader(http.StatusNoContent)
}

// serveList lists the managed clusters a caller may list.
func (h *Hub) serveList(w http.ResponseWriter, r *http.Request) {
	u, ok := h.authenticate(w, r)
	if !ok || !h.allowed(w, r, u, "list", "managedclusters", "", "", "") {
		return
	}
	list := multicluster.ManagedClusterList{Items: h.reg.list()}
	list.APIVersion, list.Kind = multicluster.GroupVersion, "ManagedClusterList"
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(list)
}

// selfSigned makes a serving certificate for localhost and 127.0.0.1.
func selfSigned() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "setpoint-hub"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}
