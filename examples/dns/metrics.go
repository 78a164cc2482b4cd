package dns

import (
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus metrics.
type metrics struct {
	queries  *prometheus.CounterVec   // by query type and response code
	duration *prometheus.HistogramVec // by transport
	forwards *prometheus.CounterVec   // upstream answers by rcode, or "error"
	records  prometheus.Gauge         // owner names in the current snapshot
	rebuilds prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "setpoint", Subsystem: "dns", Name: "queries_total",
			Help: "DNS queries answered, by query type and response code."}, []string{"type", "rcode"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "setpoint", Subsystem: "dns", Name: "request_duration_seconds",
			Help:    "Time from a parsed query to its written response, by transport.",
			Buckets: prometheus.ExponentialBuckets(0.00001, 4, 10)}, []string{"proto"}),
		forwards: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "setpoint", Subsystem: "dns", Name: "forward_responses_total",
			Help: "Responses from upstream servers by response code (\"error\" when an upstream did not answer)."}, []string{"rcode"}),
		records: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "setpoint", Subsystem: "dns", Name: "names",
			Help: "Owner names (including empty non-terminals) in the current record snapshot."}),
		rebuilds: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "setpoint", Subsystem: "dns", Name: "snapshot_builds_total",
			Help: "Record snapshots built from the informers' caches."}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.queries, m.duration, m.forwards, m.records, m.rebuilds} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// observe counts one answered query.
func (m *metrics) observe(r, resp *mdns.Msg, proto string, d time.Duration) {
	qtype := "none"
	if len(r.Question) == 1 {
		var ok bool
		if qtype, ok = mdns.TypeToString[r.Question[0].Qtype]; !ok {
			qtype = "other" // bounded label values
		}
	}
	rcode, ok := mdns.RcodeToString[resp.Rcode]
	if !ok {
		rcode = "other"
	}
	m.queries.WithLabelValues(qtype, rcode).Inc()
	m.duration.WithLabelValues(proto).Observe(d.Seconds())
}
