package client

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// Defaults of Config.
const (
	// DefaultQPS is the sustained request rate when Config.QPS is zero.
	DefaultQPS = 50
	// DefaultBurst is the burst when Config.Burst is zero.
	DefaultBurst = 100
)

// Config says how to reach the apiserver. Exactly one of Kubeconfig and
// KubeconfigPath is required; every other field has a documented default.
type Config struct {
	// Kubeconfig is a kubeconfig's content (YAML or JSON). Relative paths
	// in it are relative to the working directory.
	Kubeconfig []byte
	// KubeconfigPath is a kubeconfig file. Relative paths in it are
	// relative to its directory.
	KubeconfigPath string
	// Context names the kubeconfig context to use; default the file's
	// current-context.
	Context string
	// QPS is the sustained number of requests per second the clients send
	// together (default DefaultQPS; negative means no limit). Requests
	// over it wait, as long as their context allows.
	QPS float64
	// Burst is how many requests may go at once above QPS (default
	// DefaultBurst).
	Burst int
	// Logger receives the shared informers' logs; default discard.
	Logger *slog.Logger
	// Registerer, if set, receives the shared informers' metrics.
	Registerer prometheus.Registerer
	// Token, if set, gives the bearer token of each request in place of
	// the kubeconfig's: for a credential that is renewed while the client
	// lives (as client-go re-reads a kubeconfig's tokenFile). An empty
	// answer sends no token.
	Token func() string
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	switch {
	case len(c.Kubeconfig) > 0 && c.KubeconfigPath != "":
		return errors.New("client: set Kubeconfig or KubeconfigPath, not both")
	case len(c.Kubeconfig) == 0 && c.KubeconfigPath == "":
		return errors.New("client: Kubeconfig or KubeconfigPath is required")
	case c.Burst < 0:
		return fmt.Errorf("client: Burst must not be negative, got %d", c.Burst)
	}
	return nil
}

// Clientset holds a typed client of every resource the example apiserver
// serves, sharing one HTTP client (TLS, credentials, rate limit), and a
// shared informer factory over them. It is safe for concurrent use.
type Clientset struct {
	conn      *Connection
	hc        *http.Client
	informers *informer.Factory

	typed
}

// New reads the kubeconfig and builds the clients. It sends no request.
func New(cfg Config) (*Clientset, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	data, dir := cfg.Kubeconfig, ""
	if cfg.KubeconfigPath != "" {
		var err error
		if data, err = os.ReadFile(cfg.KubeconfigPath); err != nil {
			return nil, fmt.Errorf("client: %w", err)
		}
		dir = filepath.Dir(cfg.KubeconfigPath)
	}
	conn, err := LoadKubeconfig(data, dir, cfg.Context)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	qps, burst := cfg.QPS, cfg.Burst
	if qps == 0 {
		qps = DefaultQPS
	}
	if burst == 0 {
		burst = DefaultBurst
	}
	var limiter *rate.Limiter
	if qps > 0 {
		limiter = rate.NewLimiter(rate.Limit(qps), burst)
	}
	base := &http.Transport{TLSClientConfig: conn.TLS, Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64}
	token := func() string { return conn.BearerToken }
	if cfg.Token != nil {
		token = cfg.Token
	}
	hc := &http.Client{Transport: &transport{base: base, token: token, limiter: limiter}}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := []informer.FactoryOption{informer.WithLogger(logger)}
	if cfg.Registerer != nil {
		opts = append(opts, informer.WithRegisterer(cfg.Registerer))
	}
	f, err := informer.NewFactory(opts...)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	c := &Clientset{conn: conn, hc: hc, informers: f}
	if err := newTyped(c); err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return c, nil
}

// For returns a typed client of any resource through c's connection, for
// resources the Clientset has no method for.
func For[T store.Object](c *Clientset, res store.Resource) (*rest.Client[T], error) {
	return rest.NewClient[T](c.hc, c.conn.Server, res)
}

// Server returns the apiserver's base URL.
func (c *Clientset) Server() string { return c.conn.Server }

// Namespace returns the kubeconfig context's namespace ("default" when it
// names none).
func (c *Clientset) Namespace() string { return c.conn.Namespace }

// HTTPClient returns the HTTP client every typed client uses: TLS and
// credentials from the kubeconfig, and the QPS limit.
func (c *Clientset) HTTPClient() *http.Client { return c.hc }

// Informers returns the shared informer factory: use informer.Shared with
// one of the typed clients as the source, then Run the factory.
func (c *Clientset) Informers() *informer.Factory { return c.informers }

// transport adds the bearer token and waits for the rate limiter.
type transport struct {
	base    http.RoundTripper
	token   func() string
	limiter *rate.Limiter // nil: no limit
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.limiter != nil {
		if err := t.limiter.Wait(r.Context()); err != nil {
			if r.Body != nil {
				r.Body.Close()
			}
			return nil, fmt.Errorf("client: rate limit (QPS): %w", err)
		}
	}
	if tok := t.token(); tok != "" && r.Header.Get("Authorization") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	return t.base.RoundTrip(r)
}
