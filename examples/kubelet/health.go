package kubelet

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// health is what /healthz reports: the kubelet is healthy once its pods
// are synced from the apiserver and while its last Lease renewal is less
// than a LeaseDuration old.
type health struct {
	synced    atomic.Bool
	lastLease atomic.Int64 // unix nanoseconds of the last successful renewal
}

// metrics are the kubelet's Prometheus metrics (on Config.Registerer).
type metrics struct {
	runningPods       prometheus.Gauge
	runningContainers prometheus.Gauge
	podStart          prometheus.Histogram
	statusWrites      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		runningPods: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kubelet_running_pods",
			Help: "Pods with a ready sandbox on this node."}),
		runningContainers: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kubelet_running_containers",
			Help: "Containers running on this node."}),
		podStart: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kubelet_pod_start_duration_seconds",
			Help:    "From the pod's first sync on this node to all its containers running.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}),
		statusWrites: prometheus.NewCounter(prometheus.CounterOpts{Name: "kubelet_pod_status_writes_total",
			Help: "Pod status writes through pods/status."}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.runningPods, m.runningContainers, m.podStart, m.statusWrites} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("kubelet: registering metrics: %w", err)
		}
	}
	return m, nil
}

// HealthHandler serves /healthz: 200 "ok" once the kubelet has synced its
// pods and while its node Lease was renewed within LeaseDuration, else 503
// with the reason. Mount /metrics from the caller's registry next to it.
func (k *Kubelet) HealthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := k.Healthy(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
}

// Healthy returns nil when the kubelet is healthy (see HealthHandler), else
// why not.
func (k *Kubelet) Healthy() error {
	if !k.health.synced.Load() {
		return fmt.Errorf("kubelet: pods not synced from the apiserver yet")
	}
	last := k.health.lastLease.Load()
	if last == 0 {
		return fmt.Errorf("kubelet: node lease never renewed")
	}
	if age := k.cfg.Clock.Since(time.Unix(0, last)); age > k.cfg.LeaseDuration {
		return fmt.Errorf("kubelet: node lease last renewed %v ago", age.Round(time.Second))
	}
	return nil
}
