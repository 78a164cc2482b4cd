package watch

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// broadcasterMetrics are a Broadcaster's Prometheus collectors, all labelled
// with the broadcaster's name. They are registered only on a caller-supplied
// registerer.
type broadcasterMetrics struct {
	events      prometheus.Counter
	revision    prometheus.Gauge
	subscribers prometheus.Gauge
	tooSlow     prometheus.Counter
	reopens     prometheus.Counter
	windowBytes prometheus.Gauge
}

func newBroadcasterMetrics(name string) *broadcasterMetrics {
	labels := prometheus.Labels{"name": name}
	counter := func(metric, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "setpoint", Subsystem: "watch_broadcaster", Name: metric, Help: help, ConstLabels: labels,
		})
	}
	gauge := func(metric, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "setpoint", Subsystem: "watch_broadcaster", Name: metric, Help: help, ConstLabels: labels,
		})
	}
	return &broadcasterMetrics{
		events:      counter("events_total", "Events the broadcaster took from its source into its window."),
		revision:    gauge("revision", "Last revision the broadcaster has seen, including bookmarks."),
		subscribers: gauge("subscribers", "Subscribers currently attached."),
		tooSlow:     counter("too_slow_total", "Subscribers cut off with ErrTooSlow."),
		reopens:     counter("source_reopens_total", "Times the source stream ended and was reopened."),
		windowBytes: gauge("window_bytes", "Weight in bytes of the events the window holds (0 unless a byte bound is set)."),
	}
}

func (m *broadcasterMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.events, m.revision, m.subscribers, m.tooSlow, m.reopens, m.windowBytes}
}

// register registers every collector on reg, or none: on an error it
// unregisters what it had registered.
func (m *broadcasterMetrics) register(reg prometheus.Registerer) error {
	var done []prometheus.Collector
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			for _, d := range done {
				reg.Unregister(d)
			}
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return fmt.Errorf("watch: broadcaster metrics are already registered; give each broadcaster on one registry its own BroadcasterConfig.Name: %w", err)
			}
			return fmt.Errorf("watch: registering broadcaster metrics: %w", err)
		}
		done = append(done, c)
	}
	return nil
}
