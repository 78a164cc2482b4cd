package nodelifecycle

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
)

// Defaults of Config, kube-controller-manager's defaults.
const (
	DefaultNodeMonitorPeriod           = 5 * time.Second
	DefaultNodeMonitorGracePeriod      = 50 * time.Second
	DefaultNodeStartupGracePeriod      = 60 * time.Second
	DefaultEvictionLimiterQPS          = 0.1
	DefaultSecondaryEvictionLimiterQPS = 0.01
	DefaultLargeClusterSizeThreshold   = 50
	DefaultUnhealthyZoneThreshold      = 0.55
	// LeaseNamespace holds the node Leases the kubelets renew.
	LeaseNamespace = "kube-node-lease"
)

// Taint keys the controller manages (Kubernetes' well-known taints).
const (
	TaintNotReady    = "node.kubernetes.io/not-ready"
	TaintUnreachable = "node.kubernetes.io/unreachable"
)

// Config configures the controller. Client is required; every other field
// has a documented default.
type Config struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// NodeMonitorPeriod is how often node health is checked and taints
	// and evictions applied (--node-monitor-period).
	NodeMonitorPeriod time.Duration
	// NodeMonitorGracePeriod is how long a node's Lease and status may go
	// unrenewed before its Ready condition becomes Unknown
	// (--node-monitor-grace-period, 50 s since Kubernetes 1.32).
	NodeMonitorGracePeriod time.Duration
	// NodeStartupGracePeriod replaces the grace period for a node that
	// was never Ready (--node-startup-grace-period).
	NodeStartupGracePeriod time.Duration
	// EvictionLimiterQPS is how many nodes per second get the NoExecute
	// taint in a healthy zone (--node-eviction-rate).
	EvictionLimiterQPS float64
	// SecondaryEvictionLimiterQPS is that rate in a partially disrupted
	// zone larger than LargeClusterSizeThreshold
	// (--secondary-node-eviction-rate).
	SecondaryEvictionLimiterQPS float64
	// LargeClusterSizeThreshold: a partially disrupted zone of at most
	// this many nodes gets no new NoExecute taints at all
	// (--large-cluster-size-threshold).
	LargeClusterSizeThreshold int
	// UnhealthyZoneThreshold is the share of not-Ready nodes (and more
	// than two) that makes a zone partially disrupted
	// (--unhealthy-zone-threshold).
	UnhealthyZoneThreshold float64
	// Recorder, if set, receives node and eviction events.
	Recorder *controllerutil.Recorder
	// Clock times everything. Default: the real clock.
	Clock clockwork.Clock
	// Logger receives the logs. Default discard.
	Logger *slog.Logger
	// Registerer, if set, receives the controller's metrics.
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("nodelifecycle: Client is required")
	case c.NodeMonitorPeriod < 0, c.NodeMonitorGracePeriod < 0, c.NodeStartupGracePeriod < 0:
		return fmt.Errorf("nodelifecycle: periods must not be negative (monitor %v, grace %v, startup %v)",
			c.NodeMonitorPeriod, c.NodeMonitorGracePeriod, c.NodeStartupGracePeriod)
	case c.EvictionLimiterQPS < 0, c.SecondaryEvictionLimiterQPS < 0:
		return fmt.Errorf("nodelifecycle: eviction rates must not be negative (%v, %v)", c.EvictionLimiterQPS, c.SecondaryEvictionLimiterQPS)
	case c.LargeClusterSizeThreshold < 0:
		return fmt.Errorf("nodelifecycle: LargeClusterSizeThreshold %d is negative", c.LargeClusterSizeThreshold)
	case c.UnhealthyZoneThreshold < 0 || c.UnhealthyZoneThreshold > 1:
		return fmt.Errorf("nodelifecycle: UnhealthyZoneThreshold %v is outside 0..1", c.UnhealthyZoneThreshold)
	}
	return nil
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.NodeMonitorPeriod, DefaultNodeMonitorPeriod)
	def(&c.NodeMonitorGracePeriod, DefaultNodeMonitorGracePeriod)
	def(&c.NodeStartupGracePeriod, DefaultNodeStartupGracePeriod)
	if c.EvictionLimiterQPS == 0 {
		c.EvictionLimiterQPS = DefaultEvictionLimiterQPS
	}
	if c.SecondaryEvictionLimiterQPS == 0 {
		c.SecondaryEvictionLimiterQPS = DefaultSecondaryEvictionLimiterQPS
	}
	if c.LargeClusterSizeThreshold == 0 {
		c.LargeClusterSizeThreshold = DefaultLargeClusterSizeThreshold
	}
	if c.UnhealthyZoneThreshold == 0 {
		c.UnhealthyZoneThreshold = DefaultUnhealthyZoneThreshold
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
