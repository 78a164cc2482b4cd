package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/watch"
)

// DefaultClientName is the common name of the client certificate the
// example apiserver uses towards kubelets (Kubernetes' kubeadm names it
// the same way), and the one name Config.AllowedClientNames holds by
// default.
const DefaultClientName = "kube-apiserver-kubelet-client"

// DefaultPort is the kubelet's HTTPS port in Kubernetes.
const DefaultPort = 10250

// PodHandles are the runtime's handles of one pod: its sandbox and the
// IDs of its containers' latest and previous attempts, by container name.
type PodHandles struct {
	// SandboxID is the pod's current sandbox ("" when it has none).
	SandboxID string
	// Containers maps a container name to its latest attempt's ID.
	Containers map[string]string
	// Previous maps a container name to the ID of the attempt before the
	// latest, while the runtime keeps it.
	Previous map[string]string
}

// Host is the node the server serves: the kubelet.
type Host interface {
	// NodeName is the node's name.
	NodeName() string
	// Runtime runs the node's pods.
	Runtime() runtime.Runtime
	// Pod returns the pod namespace/name bound to the node and its runtime
	// handles; ErrPodNotFound when the node runs no such pod. A pod whose
	// sandbox does not exist yet has empty handles.
	Pod(ctx context.Context, namespace, name string) (*api.Pod, PodHandles, error)
	// Pods returns the pods bound to the node.
	Pods() []*api.Pod
	// Healthy is nil while the node is healthy.
	Healthy() error
}

// ErrPodNotFound is what Host.Pod wraps when the node runs no such pod.
var ErrPodNotFound = errors.New("pod not found on this node")

// Config configures a Server. Host and Listen are required.
type Config struct {
	// Host is the kubelet served.
	Host Host
	// Listen is the TCP address to listen on ("127.0.0.1:0" picks a free
	// port; Addr reports it once New returns).
	Listen string
	// CertPEM and KeyPEM are the serving certificate and key. When both
	// are empty, New makes a self-signed certificate for the node's name
	// and NodeIPs, valid for a year: clients then cannot verify the
	// kubelet (Kubernetes' apiserver does not by default either; a
	// kubelet serving-certificate CSR flow is not built yet).
	CertPEM, KeyPEM []byte
	// NodeIPs are put into the self-signed certificate.
	NodeIPs []string
	// ClientCAPEM holds the CA certificates a client certificate must chain
	// to. Required: without a verified client certificate every request is
	// refused with 401.
	ClientCAPEM []byte
	// AllowedClientNames are the certificate common names let in (default
	// [DefaultClientName]); any other verified client gets 403.
	AllowedClientNames []string
	// Registry, if set, is served at /metrics.
	Registry prometheus.Gatherer
	// Clock stamps stats (default the real clock).
	Clock clockwork.Clock
	// Logger receives the server's logs (default discard).
	Logger *slog.Logger
}

// Server is the kubelet's HTTPS API.
type Server struct {
	cfg     Config
	ln      net.Listener
	tls     *tls.Config
	handler http.Handler
	stats   *statsCache
}

// New checks cfg, binds the listener and builds the server.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Host == nil:
		return nil, errors.New("kubelet server: Host is required")
	case cfg.Listen == "":
		return nil, errors.New("kubelet server: Listen is required")
	case len(cfg.ClientCAPEM) == 0:
		return nil, errors.New("kubelet server: ClientCAPEM is required (no client could be authenticated)")
	case (len(cfg.CertPEM) == 0) != (len(cfg.KeyPEM) == 0):
		return nil, errors.New("kubelet server: CertPEM and KeyPEM must be given together")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(cfg.ClientCAPEM) {
		return nil, errors.New("kubelet server: ClientCAPEM holds no PEM certificate")
	}
	if len(cfg.AllowedClientNames) == 0 {
		cfg.AllowedClientNames = []string{DefaultClientName}
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	certPEM, keyPEM := cfg.CertPEM, cfg.KeyPEM
	if len(certPEM) == 0 {
		var err error
		if certPEM, keyPEM, err = selfSigned(cfg.Host.NodeName(), cfg.NodeIPs); err != nil {
			return nil, fmt.Errorf("kubelet server: self-signed certificate: %w", err)
		}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("kubelet server: serving certificate: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("kubelet server: %w", err)
	}
	s := &Server{cfg: cfg, ln: ln, stats: newStatsCache(cfg.Host, cfg.Clock)}
	s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.VerifyClientCertIfGiven,
		ClientCAs: pool, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	s.handler = s.authenticate(s.routes())
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Port is the port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Handler is the server's handler, authentication included; it needs
// requests that came over TLS.
func (s *Server) Handler() http.Handler { return s.handler }

// Run serves until ctx ends, then closes the listener and every
// connection, and returns nil; or the error that stopped it.
func (s *Server) Run(ctx context.Context) error {
	srv := &http.Server{Handler: s.handler, TLSConfig: s.tls, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx },
		ErrorLog:    slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelDebug)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		// Streams (exec, logs -f, port-forward) end with ctx: close them
		// all rather than wait.
		srv.Close()
	}()
	err := srv.ServeTLS(s.ln, "", "")
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("kubelet server: %w", err)
}

// authenticate lets in requests whose verified client certificate names
// an allowed client: 401 without one, 403 for another name.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			writeStatus(w, watch.NewStatus(http.StatusUnauthorized, watch.StatusReasonUnauthorized, "Unauthorized"))
			return
		}
		cn := r.TLS.VerifiedChains[0][0].Subject.CommonName
		if !slices.Contains(s.cfg.AllowedClientNames, cn) {
			writeStatus(w, watch.NewStatus(http.StatusForbidden, watch.StatusReasonForbidden,
				fmt.Sprintf("user %q is not allowed to use the kubelet API of node %q", cn, s.cfg.Host.NodeName())))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.cfg.Host.Healthy(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("GET /pods", s.servePods)
	mux.HandleFunc("GET /pods/{$}", s.servePods)
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", s.serveLogs)
	for _, p := range []string{"/exec/{namespace}/{pod}/{container}", "/exec/{namespace}/{pod}/{uid}/{container}"} {
		mux.HandleFunc(p, s.serveExec)
	}
	for _, p := range []string{"/attach/{namespace}/{pod}/{container}", "/attach/{namespace}/{pod}/{uid}/{container}"} {
		mux.HandleFunc(p, s.serveAttach)
	}
	for _, p := range []string{"/portForward/{namespace}/{pod}", "/portForward/{namespace}/{pod}/{uid}"} {
		mux.HandleFunc(p, s.servePortForward)
	}
	mux.HandleFunc("GET /stats/summary", s.serveSummary)
	mux.HandleFunc("GET /stats/summary/{$}", s.serveSummary)
	mux.HandleFunc("GET /metrics/resource", s.serveResourceMetrics)
	if s.cfg.Registry != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{}))
	}
	return mux
}

// servePods writes the node's pods as a PodList.
func (s *Server) servePods(w http.ResponseWriter, r *http.Request) {
	list := struct {
		Kind       string    `json:"kind"`
		APIVersion string    `json:"apiVersion"`
		Metadata   struct{}  `json:"metadata"`
		Items      []api.Pod `json:"items"`
	}{Kind: "PodList", APIVersion: "v1", Items: []api.Pod{}}
	for _, p := range s.cfg.Host.Pods() {
		list.Items = append(list.Items, *p)
	}
	slices.SortFunc(list.Items, func(a, b api.Pod) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	writeJSON(w, http.StatusOK, list)
}

// writeJSON writes v as JSON with code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeStatus writes a Status as the response.
func writeStatus(w http.ResponseWriter, st *watch.Status) { writeJSON(w, int(st.Code), st) }

// badRequest, notFound: Status errors as Kubernetes' kubelet writes them.
func badRequest(format string, args ...any) *watch.Status {
	return watch.NewStatus(http.StatusBadRequest, watch.StatusReasonBadRequest, fmt.Sprintf(format, args...))
}

func notFound(format string, args ...any) *watch.Status {
	return watch.NewStatus(http.StatusNotFound, watch.StatusReasonNotFound, fmt.Sprintf(format, args...))
}

// selfSigned makes a self-signed ECDSA serving certificate for name and ips.
func selfSigned(name string, ips []string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name + "@" + fmt.Sprint(now.Unix())},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour), DNSNames: []string{name},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, ip := range ips {
		if p := net.ParseIP(ip); p != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, p)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pemBlock("CERTIFICATE", der), pemBlock("EC PRIVATE KEY", kder), nil
}
