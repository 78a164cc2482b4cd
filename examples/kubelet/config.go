package kubelet

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/runtime"
)

// Defaults of Config, Kubernetes' defaults where Kubernetes has one.
const (
	// DefaultSyncPeriod is how often a pod's containers are looked at again
	// (Kubernetes' PLEG relist period).
	DefaultSyncPeriod = time.Second
	// DefaultResyncPeriod is how often every pod is synced in full even
	// when nothing about it changed (Kubernetes' syncFrequency).
	DefaultResyncPeriod = time.Minute
	// DefaultWorkers is how many pods are synced at once when neither
	// Workers nor a pods capacity is set: one worker per pod the node can
	// hold, as Kubernetes runs one pod worker per pod (a cap well below
	// the pod count queues pods behind slow sandbox and container starts).
	DefaultWorkers = DefaultMaxPods
	// DefaultBackoffBase and DefaultBackoffMax bound the crash-loop and
	// image-pull back-off: 10 s doubling up to 5 min.
	DefaultBackoffBase = 10 * time.Second
	DefaultBackoffMax  = 5 * time.Minute
	// DefaultBackoffReset: a container that ran this long before it
	// exited restarts without back-off.
	DefaultBackoffReset = 10 * time.Minute
	// DefaultLeaseDuration and DefaultLeaseRenewInterval are the node
	// Lease's duration and how often the kubelet renews it.
	DefaultLeaseDuration      = 40 * time.Second
	DefaultLeaseRenewInterval = 10 * time.Second
	// DefaultNodeStatusReportInterval: the node status is written when it
	// changes and at least this often.
	DefaultNodeStatusReportInterval = 5 * time.Minute
	// DefaultNodeStatusCheckInterval is how often the node status is
	// computed to see whether it changed.
	DefaultNodeStatusCheckInterval = 10 * time.Second
	// DefaultMaxPods is the node's pod capacity.
	DefaultMaxPods = 110
	// LeaseNamespace holds the node leases.
	LeaseNamespace = "kube-node-lease"
)

// maxDefaultWorkers bounds the workers a large pods capacity gives by
// default (each is an idle goroutine until a pod needs it).
const maxDefaultWorkers = 1000

// Config configures a Kubelet. Client, NodeName and Runtime are required;
// every other field has a documented default.
type Config struct {
	// Client reaches the apiserver.
	Client *client.Clientset
	// NodeName is the Node this kubelet registers and whose pods
	// (spec.nodeName) it runs; a DNS subdomain.
	NodeName string
	// Runtime runs the pods' sandboxes and containers (containerd, or
	// runtime/fake for simulated nodes).
	Runtime runtime.Runtime
	// NodeIP is the node's InternalIP address and every pod's hostIP.
	// Default: none reported.
	NodeIP string
	// Capacity is the node's capacity (cpu, memory, pods...). Missing cpu
	// and memory are measured on the machine; missing pods is
	// DefaultMaxPods.
	Capacity api.ResourceList
	// SystemReserved is subtracted from Capacity to give Allocatable.
	SystemReserved api.ResourceList
	// PodCIDR is reported in the Node's spec when the Node has none.
	PodCIDR string
	// Labels are added to the Node's labels when the kubelet registers it
	// (besides kubernetes.io/hostname, kubernetes.io/os and
	// kubernetes.io/arch).
	Labels map[string]string
	// SyncPeriod: how often the runtime's sandboxes and containers are
	// listed, each pod whose containers changed then synced (the PLEG
	// relist period; default DefaultSyncPeriod). A pod whose container
	// could not be created is retried after SyncPeriod.
	SyncPeriod time.Duration
	// ResyncPeriod: how often every pod is synced in full even when
	// nothing about it changed (default DefaultResyncPeriod).
	ResyncPeriod time.Duration
	// Workers: how many pods are synced at once. Default: the node's pods
	// capacity (Capacity["pods"], else DefaultWorkers), one worker per pod
	// the node can hold.
	Workers int
	// BackoffBase, BackoffMax and BackoffReset shape the crash-loop and
	// image-pull back-off (defaults DefaultBackoffBase, DefaultBackoffMax,
	// DefaultBackoffReset).
	BackoffBase, BackoffMax, BackoffReset time.Duration
	// LeaseDuration and LeaseRenewInterval: the node Lease (defaults
	// DefaultLeaseDuration, DefaultLeaseRenewInterval).
	LeaseDuration, LeaseRenewInterval time.Duration
	// NodeStatusReportInterval and NodeStatusCheckInterval: the node
	// status (defaults DefaultNodeStatusReportInterval,
	// DefaultNodeStatusCheckInterval).
	NodeStatusReportInterval, NodeStatusCheckInterval time.Duration
	// Clock times everything: syncs, back-off, grace periods, leases.
	// Default: the real clock.
	Clock clockwork.Clock
	// Logger receives the kubelet's logs, keyed by pod. Default: discard.
	Logger *slog.Logger
	// Registerer, if set, receives the kubelet's metrics.
	Registerer prometheus.Registerer
	// RootDir holds the pods' volumes and files (pods/<uid>/...).
	// Default: DefaultRootDir.
	RootDir string
	// ClusterDNS are the cluster DNS server addresses that pods with
	// dnsPolicy ClusterFirst use; with none, such pods get the node's
	// resolver configuration (dnsPolicy Default), as in Kubernetes.
	ClusterDNS []string
	// ClusterDomain is the cluster's DNS domain (default
	// DefaultClusterDomain).
	ClusterDomain string
	// SeccompProfileRoot is the directory that Localhost seccomp profiles
	// (localhostProfile) are relative to. Default: RootDir/seccomp, as in
	// Kubernetes.
	SeccompProfileRoot string
	// StaticPodPath, if set, is a directory of pod manifests (YAML or
	// JSON) that the node runs as static pods, with mirror pods in the
	// apiserver. Default: none.
	StaticPodPath string
	// Serving configures the kubelet's HTTPS API (logs, exec, attach,
	// port-forward, stats); none is served when Serving.Listen is empty.
	Serving ServingConfig
}

// DefaultRootDir is Config.RootDir's default; DefaultClusterDomain is
// Config.ClusterDomain's.
const (
	DefaultRootDir       = "/var/lib/setpoint/kubelet"
	DefaultClusterDomain = "cluster.local"
)

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	durations := []struct {
		name string
		d    time.Duration
	}{{"SyncPeriod", c.SyncPeriod}, {"ResyncPeriod", c.ResyncPeriod}, {"BackoffBase", c.BackoffBase}, {"BackoffMax", c.BackoffMax},
		{"BackoffReset", c.BackoffReset}, {"LeaseDuration", c.LeaseDuration}, {"LeaseRenewInterval", c.LeaseRenewInterval},
		{"NodeStatusReportInterval", c.NodeStatusReportInterval}, {"NodeStatusCheckInterval", c.NodeStatusCheckInterval}}
	switch {
	case c.Client == nil:
		return errors.New("kubelet: Client is required")
	case c.Runtime == nil:
		return errors.New("kubelet: Runtime is required")
	case c.NodeName == "":
		return errors.New("kubelet: NodeName is required")
	case !isDNSSubdomain(c.NodeName):
		return fmt.Errorf("kubelet: NodeName %q is not a DNS subdomain (lower case letters, digits, '-' and '.')", c.NodeName)
	case c.NodeIP != "" && net.ParseIP(c.NodeIP) == nil:
		return fmt.Errorf("kubelet: NodeIP %q is not an IP address", c.NodeIP)
	case c.Serving.Listen != "" && len(c.Serving.ClientCAPEM) == 0:
		return errors.New("kubelet: Serving.ClientCAPEM is required when Serving.Listen is set")
	case c.Workers < 0:
		return fmt.Errorf("kubelet: Workers must not be negative, got %d", c.Workers)
	}
	for _, ip := range c.ClusterDNS {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("kubelet: ClusterDNS %q is not an IP address", ip)
		}
	}
	if c.ClusterDomain != "" && !isDNSSubdomain(c.ClusterDomain) {
		return fmt.Errorf("kubelet: ClusterDomain %q is not a DNS subdomain", c.ClusterDomain)
	}
	if c.StaticPodPath != "" && !filepath.IsAbs(c.StaticPodPath) {
		return fmt.Errorf("kubelet: StaticPodPath %q must be an absolute path", c.StaticPodPath)
	}
	if c.SeccompProfileRoot != "" && !filepath.IsAbs(c.SeccompProfileRoot) {
		return fmt.Errorf("kubelet: SeccompProfileRoot %q must be an absolute path", c.SeccompProfileRoot)
	}
	if c.RootDir != "" && !filepath.IsAbs(c.RootDir) {
		return fmt.Errorf("kubelet: RootDir %q must be an absolute path", c.RootDir)
	}
	if c.PodCIDR != "" {
		if _, _, err := net.ParseCIDR(c.PodCIDR); err != nil {
			return fmt.Errorf("kubelet: PodCIDR %q: %v", c.PodCIDR, err)
		}
	}
	for _, d := range durations {
		if d.d < 0 {
			return fmt.Errorf("kubelet: %s must not be negative, got %v", d.name, d.d)
		}
	}
	for name, q := range c.Capacity {
		if q.Sign() < 0 {
			return fmt.Errorf("kubelet: Capacity[%s] must not be negative, got %s", name, q.String())
		}
	}
	for name, q := range c.SystemReserved {
		if q.Sign() < 0 {
			return fmt.Errorf("kubelet: SystemReserved[%s] must not be negative, got %s", name, q.String())
		}
	}
	return nil
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	set := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	set(&c.SyncPeriod, DefaultSyncPeriod)
	set(&c.ResyncPeriod, DefaultResyncPeriod)
	set(&c.BackoffBase, DefaultBackoffBase)
	set(&c.BackoffMax, DefaultBackoffMax)
	set(&c.BackoffReset, DefaultBackoffReset)
	set(&c.LeaseDuration, DefaultLeaseDuration)
	set(&c.LeaseRenewInterval, DefaultLeaseRenewInterval)
	set(&c.NodeStatusReportInterval, DefaultNodeStatusReportInterval)
	set(&c.NodeStatusCheckInterval, DefaultNodeStatusCheckInterval)
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
		if q, ok := c.Capacity[api.ResourcePods]; ok && q.Value() > 0 {
			c.Workers = int(min(q.Value(), maxDefaultWorkers))
		}
	}
	if c.RootDir == "" {
		c.RootDir = DefaultRootDir
	}
	if c.SeccompProfileRoot == "" {
		c.SeccompProfileRoot = filepath.Join(c.RootDir, "seccomp")
	}
	if c.ClusterDomain == "" {
		c.ClusterDomain = DefaultClusterDomain
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// isDNSSubdomain reports whether s is a DNS-1123 subdomain.
func isDNSSubdomain(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && c != '-' && c != '.' {
			return false
		}
		if (i == 0 || i == len(s)-1) && !alnum {
			return false
		}
	}
	return true
}
