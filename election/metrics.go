package election

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the elector's Prometheus collectors. They exist (unregistered)
// even without a Registerer, so the code never checks for nil.
type metrics struct {
	isLeader      prometheus.Gauge
	transitions   prometheus.Counter
	renewLatency  prometheus.Histogram
	renewFailures prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, identity string) (*metrics, error) {
	labels := prometheus.Labels{"identity": identity}
	m := &metrics{
		isLeader: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "setpoint", Subsystem: "election", Name: "is_leader",
			Help: "1 while this candidate leads, 0 otherwise.", ConstLabels: labels,
		}),
		transitions: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "setpoint", Subsystem: "election", Name: "leader_transitions_total",
			Help: "Times this candidate became leader.", ConstLabels: labels,
		}),
		renewLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "setpoint", Subsystem: "election", Name: "renew_duration_seconds",
			Help: "Latency of lock renewals, successful or not.", ConstLabels: labels,
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		renewFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "setpoint", Subsystem: "election", Name: "renew_failures_total",
			Help: "Lock renewals that failed.", ConstLabels: labels,
		}),
	}
	if reg == nil {
		return m, nil
	}
	cs := []prometheus.Collector{m.isLeader, m.transitions, m.renewLatency, m.renewFailures}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("%w: register metrics for identity %q: %w", ErrInvalidConfig, identity, err)
		}
	}
	return m, nil
}
