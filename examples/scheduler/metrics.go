package scheduler

import (
	"math/rand/v2"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
)

type metrics struct {
	attempts *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	batched  prometheus.Counter
	// extPoint times each extension point of each cycle; plugin times
	// each plugin call of the sampled cycles.
	extPoint *prometheus.HistogramVec
	plugin   *prometheus.HistogramVec
}

// pluginMetricsSamplePercent is the share of cycles whose plugin calls are
// timed one by one (Kubernetes samples 10% too: timing every Filter and
// Score call of every node would cost more than the calls).
const pluginMetricsSamplePercent = 10

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
	m.extPoint = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "scheduler_framework_extension_point_duration_seconds",
		Help:    "Wall time of each extension point (all its plugins, over all nodes for Filter and Score) in a scheduling or binding cycle, by extension point, status and profile.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 12),
	}, []string{"extension_point", "status", "profile"})
	m.plugin = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "scheduler_plugin_execution_duration_seconds",
		Help:    "Wall time of one plugin call at one extension point, in the 10% of cycles that are sampled, by plugin, extension point and status.",
		Buckets: prometheus.ExponentialBuckets(0.00001, 1.5, 20),
	}, []string{"plugin", "extension_point", "status"})
	if reg == nil {
		return m, nil
	}
	collectors := []prometheus.Collector{m.attempts, m.latency, m.batched, m.extPoint, m.plugin,
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

// observePoint records an extension point's duration since start.
func (m *metrics) observePoint(point, profile string, st *framework.Status, start time.Time) {
	if m == nil {
		return
	}
	m.extPoint.WithLabelValues(point, st.Code().String(), profile).Observe(time.Since(start).Seconds())
}

// observePlugin records one plugin call's duration since start, when the
// cycle is sampled.
func (m *metrics) observePlugin(sampled bool, plugin, point string, st *framework.Status, start time.Time) {
	if m == nil || !sampled {
		return
	}
	m.plugin.WithLabelValues(plugin, point, st.Code().String()).Observe(time.Since(start).Seconds())
}

// sampleKey marks a cycle whose plugin calls are timed.
const sampleKey framework.StateKey = "scheduler/sample-plugin-metrics"

type sampleMark struct{}

func (sampleMark) Clone() framework.StateData { return sampleMark{} }

// markSampled marks about pluginMetricsSamplePercent of cycles as sampled.
func markSampled(state *framework.CycleState) {
	if rand.IntN(100) < pluginMetricsSamplePercent {
		state.Write(sampleKey, sampleMark{})
	}
}

// sampled reports whether the cycle's plugin calls are timed.
func sampled(state *framework.CycleState) bool {
	_, err := state.Read(sampleKey)
	return err == nil
}
