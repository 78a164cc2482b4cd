package apiserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// Defaults of Config.
const (
	// DefaultListen is the listen address when Config.Listen is empty.
	DefaultListen = "127.0.0.1:6443"
	// DefaultMaxInflight caps concurrent non-watch requests.
	DefaultMaxInflight = 400
	// DefaultMaxLongRunning caps concurrent watches. Kubernetes caps
	// watches only through priority and fairness; this bound keeps the
	// watchers' memory bounded (about 110 KiB each at peak while events
	// stream, bench apiserver-watch-1000-mem: some 450 MiB at the cap)
	// while leaving room for a few hundred nodes' kubelets and proxies,
	// each holding several watches.
	DefaultMaxLongRunning = 4096
	// DefaultRequestTimeout bounds a non-long-running request, as
	// Kubernetes' --request-timeout does.
	DefaultRequestTimeout = 60 * time.Second
	// DefaultBodyTimeout bounds reading a request's body.
	DefaultBodyTimeout = 30 * time.Second
	// DefaultShutdownTimeout is how long Run waits for in-flight requests
	// once its context ends.
	DefaultShutdownTimeout = 10 * time.Second
)

// Config configures the apiserver. DataDir is required; every other field
// has a documented default.
type Config struct {
	// DataDir holds the embedded etcd's data (DataDir/etcd) and the PKI
	// (DataDir/pki).
	DataDir string
	// EtcdServers are external etcd client URLs; empty means an embedded
	// etcd in DataDir/etcd.
	EtcdServers []string
	// Backend, if set, is used instead of any etcd (tests, benchmarks).
	// Run does not close it.
	Backend store.Backend
	// Listen is the TLS listen address (default DefaultListen; port 0
	// picks a free one, which Addr reports once New returns).
	Listen string
	// TLSSANs are extra names of the serving certificate, besides
	// 127.0.0.1, ::1 and localhost: IP addresses and DNS names (RFC 1123
	// subdomains) that clients reach the server at, such as the address
	// of a specific interface Listen names, as k3s's --tls-san. A PKI in
	// DataDir/pki whose serving certificate lacks one of them gets a new
	// serving certificate from the same CA (see LoadOrCreatePKI). Default
	// none.
	TLSSANs []string
	// TokenFile is a static token file (token,user,uid,"group1,group2").
	// Default: no tokens.
	TokenFile string
	// AuthzFile is a JSON array of Rule; default DefaultRules
	// (system:masters may do everything).
	AuthzFile string
	// ServiceAccountIssuer is the iss of the service account tokens the
	// server issues and accepts, and the issuer its discovery document
	// names (default DefaultServiceAccountIssuer).
	ServiceAccountIssuer string
	// APIAudiences are the audiences a service account token must name
	// one of to authenticate, and the default audiences of a
	// TokenRequest (default: the issuer).
	APIAudiences []string
	// ServiceAccountMaxTokenExpiration caps the lifetime of a requested
	// token (default DefaultServiceAccountMaxTokenExpiration; at least
	// MinTokenExpiration).
	ServiceAccountMaxTokenExpiration time.Duration
	// ServiceAccountTokenVolumes turns on the ServiceAccount admission
	// plugin for pods: serviceAccountName defaults to "default" and each
	// pod gets the projected kube-api-access-<suffix> token volume unless
	// automounting is off. Off by default until every kubelet mounts
	// projected volumes.
	ServiceAccountTokenVolumes bool
	// EncryptionConfigFile, if set, is an EncryptionConfiguration
	// (apiserver.config.k8s.io/v1) naming the resources whose values are
	// encrypted in storage, and the keys (see store/encrypt). New fails
	// with an error naming the file if it does not parse or a key is bad.
	// Default: nothing is encrypted.
	EncryptionConfigFile string
	// KubeconfigOut, if set, receives an admin kubeconfig (client
	// certificate CN=admin, O=system:masters) once the server is ready.
	KubeconfigOut string
	// MaxBodyBytes limits request bodies (default rest.DefaultMaxBodyBytes);
	// larger ones get 413.
	MaxBodyBytes int64
	// RateLimit is the sustained requests per second allowed (watches
	// included); 0 means no limit. RateBurst is the bucket size (default
	// RateLimit, at least 1).
	RateLimit float64
	RateBurst int
	// MaxInflight caps concurrent non-watch requests (default
	// DefaultMaxInflight). A request takes its slot only once its body has
	// been read. With API priority and fairness (the default, apf.go) it
	// is the server's concurrency limit, divided among the priority levels
	// by their shares: a request that finds its level's seats taken waits
	// in the level's queues, and gets 429 when its queue is full or the
	// wait exceeds PriorityAndFairnessQueueWait; system:masters is exempt.
	// Without it (DisablePriorityAndFairness), requests past the cap get
	// 429 at once.
	MaxInflight int
	// DisablePriorityAndFairness turns API priority and fairness off, as
	// kube-apiserver's --enable-priority-and-fairness=false.
	DisablePriorityAndFairness bool
	// PriorityAndFairnessQueueWait bounds how long a request waits in a
	// priority level's queue for a seat (default a quarter of
	// RequestTimeout, as Kubernetes); past it, 429.
	PriorityAndFairnessQueueWait time.Duration
	// MaxLongRunning caps concurrent watches (default
	// DefaultMaxLongRunning); more get 429. Watches also take a token of
	// RateLimit.
	MaxLongRunning int
	// RequestTimeout bounds every request but watches from its arrival
	// (default DefaultRequestTimeout): its context ends then, and the
	// answer is 504 Timeout.
	RequestTimeout time.Duration
	// BodyTimeout bounds reading a request's body (default
	// DefaultBodyTimeout); a body that is not in by then gets 408 and the
	// connection is closed.
	BodyTimeout time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests when Run's
	// context ends (default DefaultShutdownTimeout).
	ShutdownTimeout time.Duration
	// CompactionInterval is how often the server compacts storage's
	// history, up to the revision it saw one interval before (default
	// DefaultCompactionInterval; negative: never, for a deployment where
	// something else compacts etcd).
	CompactionInterval time.Duration
	// EtcdNoFsync makes the embedded etcd skip fsync (tests only).
	EtcdNoFsync bool
	// EtcdLogLevel is the embedded etcd's log level (default "error";
	// "off" silences it).
	EtcdLogLevel string
	// ServiceCIDRs are the ranges ClusterIPs are allocated from, at most
	// one IPv4 and one IPv6 (both: dual-stack services can be made).
	// Default [DefaultServiceCIDR]. The first usable address of the first
	// range is the kubernetes Service's.
	ServiceCIDRs []netip.Prefix
	// NodePortRange is the range NodePorts are allocated from (default
	// DefaultNodePortRange).
	NodePortRange PortRange
	// AnonymousAuth lets requests without credentials in as
	// system:anonymous (group system:unauthenticated), as kube-apiserver's
	// --anonymous-auth: RBAC then decides what they may do (the bootstrap
	// policy lets them get /healthz, /version and kube-public's
	// cluster-info). Default off: such requests get 401.
	AnonymousAuth bool
	// AdvertiseURL is the server URL that cluster-info's kubeconfig names
	// for joining nodes (default URL()).
	AdvertiseURL string
	// AuditLogPath, if set, is the audit log: one JSON line
	// (audit.k8s.io/v1 Event) per request, "-" for standard output, as
	// kube-apiserver's --audit-log-path. Default: no audit log.
	AuditLogPath string
	// AuditLevel is what the audit log records (default
	// AuditLevelMetadata; AuditLevelNone turns it off).
	AuditLevel AuditLevel
	// AuditLogMaxSize is the size in megabytes at which the audit log is
	// rotated (--audit-log-maxsize; 0: lumberjack's default, 100).
	AuditLogMaxSize int
	// AuditLogMaxAge is how many days rotated audit logs are kept
	// (--audit-log-maxage; 0: no limit by age).
	AuditLogMaxAge int
	// AuditLogMaxBackups is how many rotated audit logs are kept
	// (--audit-log-maxbackup; 0: no limit by count).
	AuditLogMaxBackups int
	// AuditLogCompress gzips rotated audit logs (--audit-log-compress).
	AuditLogCompress bool
	// MetricsResolution is how often the kubelets' summaries are scraped
	// for metrics.k8s.io (default DefaultMetricsResolution).
	MetricsResolution time.Duration
	// MetricsClock times the metrics scrapes (default Clock); a test can
	// drive the scrapes alone with a fake clock.
	MetricsClock clockwork.Clock
	// Clock drives the rate limiter, the request timeout, compaction and
	// (unless MetricsClock is set) the metrics scrapes.
	// Default: the real clock.
	Clock clockwork.Clock
	// MetricsRegistry, if set, receives the server's Prometheus metrics
	// (RequestDurationMetric, and API priority and fairness'
	// apiserver_flowcontrol_*), which it serves at /metrics to callers
	// allowed the non-resource URL /metrics. Default: a private registry.
	MetricsRegistry *prometheus.Registry
	// DisableProfiling turns off /debug/pprof/ (Go's net/http/pprof:
	// the index, cmdline, profile, symbol, trace and the named profiles
	// such as heap and goroutine), which the server otherwise serves to
	// callers allowed the non-resource URL (/debug/pprof/*; cluster-admin
	// is), as Kubernetes' --profiling=true, its default, does.
	DisableProfiling bool
	// Logger receives the server's logs; default discard.
	Logger *slog.Logger
	// ExtraKinds are served beyond the built-in kinds: the library user's
	// own typed kinds in API groups of their own, each made with Serve
	// from a registry.NewKind (see ExtraKind for what they get). Their
	// plural names must differ from every other kind's. Default none.
	ExtraKinds []ExtraKind
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	switch {
	case c.DataDir == "":
		return errors.New("apiserver: DataDir is required (etcd data and PKI live there)")
	case c.MaxBodyBytes < 0, c.RateLimit < 0, c.RateBurst < 0, c.MaxInflight < 0, c.MaxLongRunning < 0, c.ShutdownTimeout < 0,
		c.RequestTimeout < 0, c.BodyTimeout < 0, c.MetricsResolution < 0, c.PriorityAndFairnessQueueWait < 0:
		return errors.New("apiserver: MaxBodyBytes, RateLimit, RateBurst, MaxInflight, MaxLongRunning, ShutdownTimeout, RequestTimeout, BodyTimeout, MetricsResolution and PriorityAndFairnessQueueWait must not be negative")
	case c.ServiceAccountMaxTokenExpiration != 0 && c.ServiceAccountMaxTokenExpiration < MinTokenExpiration:
		return fmt.Errorf("apiserver: ServiceAccountMaxTokenExpiration %v is under the minimum token lifetime %v", c.ServiceAccountMaxTokenExpiration, MinTokenExpiration)
	case c.AuditLogMaxSize < 0, c.AuditLogMaxAge < 0, c.AuditLogMaxBackups < 0:
		return errors.New("apiserver: AuditLogMaxSize, AuditLogMaxAge and AuditLogMaxBackups must not be negative")
	case c.AuditLevel != "" && c.AuditLevel != AuditLevelNone && c.AuditLevel != AuditLevelMetadata && c.AuditLevel != AuditLevelRequest:
		return fmt.Errorf("apiserver: AuditLevel %q: want None, Metadata or Request", c.AuditLevel)
	case c.AdvertiseURL != "" && !strings.HasPrefix(c.AdvertiseURL, "https://"):
		return fmt.Errorf("apiserver: AdvertiseURL %q is not an https:// URL", c.AdvertiseURL)
	case c.Backend != nil && len(c.EtcdServers) > 0:
		return errors.New("apiserver: set Backend or EtcdServers, not both")
	}
	if len(c.ServiceCIDRs) > 2 || len(c.ServiceCIDRs) == 2 && c.ServiceCIDRs[0].Addr().Is4() == c.ServiceCIDRs[1].Addr().Is4() {
		return errors.New("apiserver: ServiceCIDRs: at most one IPv4 and one IPv6 range")
	}
	for i, p := range c.ServiceCIDRs {
		if !p.IsValid() || p != p.Masked() || p.Addr().BitLen()-p.Bits() < 2 {
			return fmt.Errorf("apiserver: ServiceCIDRs[%d] %v is not a network prefix with room for services", i, p)
		}
	}
	if r := c.NodePortRange; r != (PortRange{}) && (r.First < 1 || r.Last > 65535 || r.First > r.Last) {
		return fmt.Errorf("apiserver: NodePortRange %v is not a port range", r)
	}
	if _, err := newRegistry(c.ExtraKinds); err != nil {
		return err
	}
	if err := CheckSANs(c.TLSSANs); err != nil {
		return fmt.Errorf("apiserver: %w", err)
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

// withDefaults returns c with every default filled in.
func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.MaxInflight == 0 {
		c.MaxInflight = DefaultMaxInflight
	}
	if c.CompactionInterval == 0 {
		c.CompactionInterval = DefaultCompactionInterval
	}
	if c.MaxLongRunning == 0 {
		c.MaxLongRunning = DefaultMaxLongRunning
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.BodyTimeout == 0 {
		c.BodyTimeout = DefaultBodyTimeout
	}
	if c.PriorityAndFairnessQueueWait == 0 {
		c.PriorityAndFairnessQueueWait = c.RequestTimeout / 4
	}
	if c.MetricsRegistry == nil {
		c.MetricsRegistry = prometheus.NewRegistry()
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = rest.DefaultMaxBodyBytes
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.MetricsResolution == 0 {
		c.MetricsResolution = DefaultMetricsResolution
	}
	if len(c.ServiceCIDRs) == 0 {
		c.ServiceCIDRs = []netip.Prefix{DefaultServiceCIDR}
	}
	if c.NodePortRange == (PortRange{}) {
		c.NodePortRange = DefaultNodePortRange
	}
	if c.ServiceAccountIssuer == "" {
		c.ServiceAccountIssuer = DefaultServiceAccountIssuer
	}
	if len(c.APIAudiences) == 0 {
		c.APIAudiences = []string{c.ServiceAccountIssuer}
	}
	if c.ServiceAccountMaxTokenExpiration == 0 {
		c.ServiceAccountMaxTokenExpiration = DefaultServiceAccountMaxTokenExpiration
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
