package reconcile

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus metrics of one queue and the controller that
// drives it. Every series carries a constant label name=<name>, so several
// controllers can share one registry. Create them with NewMetrics and pass
// them to the queue with WithMetrics; a Controller creates its own from
// Config.Registerer.
type Metrics struct {
	depth         prometheus.Gauge
	adds          prometheus.Counter
	queueDuration prometheus.Histogram
	workDuration  prometheus.Histogram
	retries       prometheus.Counter
	reconciles    *prometheus.CounterVec
	errors        prometheus.Counter
	panics        prometheus.Counter
	active        prometheus.Gauge
	reconcileTime prometheus.Histogram
}

// NewMetrics creates the metrics for the queue or controller called name and
// registers them on reg (never the global registry unless the caller passes
// it). It fails if name is empty or the registration fails, for example
// because name is already registered.
func NewMetrics(reg prometheus.Registerer, name string) (*Metrics, error) {
	if reg == nil {
		return nil, fmt.Errorf("%w: metrics need a prometheus.Registerer", ErrInvalidConfig)
	}
	if name == "" {
		return nil, fmt.Errorf("%w: metrics need a name", ErrInvalidConfig)
	}
	labels := prometheus.Labels{"name": name}
	buckets := prometheus.ExponentialBuckets(1e-6, 4, 14) // 1µs .. ~67s
	m := &Metrics{
		depth: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "setpoint", Subsystem: "reconcile", Name: "queue_depth",
			Help: "Keys waiting in the queue to be handed to a worker.", ConstLabels: labels}),
		adds: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "setpoint", Subsystem: "reconcile", Name: "queue_adds_total",
			Help: "Adds that made a key pending (adds merged into a pending key are not counted).", ConstLabels: labels}),
		queueDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "setpoint", Subsystem: "reconcile", Name: "queue_duration_seconds",
			Help: "Time a key waited in the queue between becoming ready and being handed to a worker.", ConstLabels: labels, Buckets: buckets}),
		workDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "setpoint", Subsystem: "reconcile", Name: "work_duration_seconds",
			Help: "Time between a key being handed to a worker and Done.", ConstLabels: labels, Buckets: buckets}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "setpoint", Subsystem: "reconcile", Name: "queue_retries_total",
			Help: "Rate-limited re-adds.", ConstLabels: labels}),
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "setpoint", Subsystem: "reconcile", Name: "reconciles_total",
			Help: "Reconciles by result: success, requeue, requeue_after, error, terminal_error, panic.", ConstLabels: labels}, []string{"result"}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "setpoint", Subsystem: "reconcile", Name: "errors_total",
			Help: "Reconciles that returned an error (including terminal errors and panics).", ConstLabels: labels}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "setpoint", Subsystem: "reconcile", Name: "panics_total",
			Help: "Reconciles that panicked.", ConstLabels: labels}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "setpoint", Subsystem: "reconcile", Name: "active_workers",
			Help: "Workers currently running a reconcile.", ConstLabels: labels}),
		reconcileTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "setpoint", Subsystem: "reconcile", Name: "reconcile_duration_seconds",
			Help: "Time spent in Reconcile.", ConstLabels: labels, Buckets: buckets}),
	}
	var errs []error
	var done []prometheus.Collector
	for _, c := range []prometheus.Collector{m.depth, m.adds, m.queueDuration, m.workDuration, m.retries,
		m.reconciles, m.errors, m.panics, m.active, m.reconcileTime} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, c)
	}
	if len(errs) > 0 {
		// Leave the registry as it was.
		for _, c := range done {
			reg.Unregister(c)
		}
		return nil, fmt.Errorf("reconcile: registering metrics for %q: %w", name, errors.Join(errs...))
	}
	return m, nil
}
