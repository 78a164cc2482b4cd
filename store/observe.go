package store

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// WithLogger sets the logger that receives what the store reports: stored
// objects that do not decode (skipped by List and watches) and its watch
// cache's rebuilds. Default: discard.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithRegisterer registers the store's metrics on reg:
// setpoint_store_undecodable_objects_total, labelled with the resource.
// Stores of one resource need distinct registries. Default: no metrics.
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(o *options) { o.registerer = reg }
}

func newUndecodableCounter(res string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "setpoint", Subsystem: "store", Name: "undecodable_objects_total",
		Help:        "Stored objects that did not decode and were skipped by a list or a watch (each watch event counted once).",
		ConstLabels: prometheus.Labels{"resource": res},
	})
}

// reportUndecodable logs and counts a stored value that does not decode.
// Such an object is treated as absent by List and watches, so that one bad
// value never breaks them for everyone else.
func (s *Store[T]) reportUndecodable(where, key string, rev int64, err error) {
	s.undecodable.Inc()
	s.log.Warn("stored object does not decode; skipped", "where", where, "key", key, "revision", rev, "err", err)
}

func registerStoreMetrics(reg prometheus.Registerer, c prometheus.Counter, res string) error {
	if reg == nil {
		return nil
	}
	if err := reg.Register(c); err != nil {
		return fmt.Errorf("%w: store.New: metrics of %s: %v", ErrInvalid, res, err)
	}
	return nil
}

// UndecodableCounter returns the counter of stored values that did not
// decode (setpoint_store_undecodable_objects_total), registered or not.
func (s *Store[T]) UndecodableCounter() prometheus.Counter { return s.undecodable }
