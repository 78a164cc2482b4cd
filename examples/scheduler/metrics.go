package scheduler

import (
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	attempts *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	batched  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, q *queue) (*metrics, error) {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scheduler_schedule_attempts_total",
			Help: "Scheduling attempts by result (scheduled, unschedulable, error).",
		}, []string{"result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "scheduler_scheduling_attempt_duration_seconds",
			Help:    "Time from the start of an attempt to its result (binding included), by result.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"result"}),
		batched: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "scheduler_batched_cycles_total",
			Help: "Scheduling cycles that reused the previous cycle's candidate nodes (same pod signature), re-checking only the nodes that changed.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	collectors := []prometheus.Collector{m.attempts, m.latency, m.batched,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "scheduler_pending_pods_active", Help: "Pods in the active queue."},
			func() float64 { a, _, _ := q.lens(); return float64(a) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "scheduler_pending_pods_backoff", Help: "Pods in backoff."},
			func() float64 { _, b, _ := q.lens(); return float64(b) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "scheduler_pending_pods_unschedulable", Help: "Pods waiting for a cluster event."},
			func() float64 { _, _, u := q.lens(); return float64(u) }),
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) attempt(result string, start time.Time, clock clockwork.Clock) {
	m.attempts.WithLabelValues(result).Inc()
	m.latency.WithLabelValues(result).Observe(clock.Since(start).Seconds())
}
