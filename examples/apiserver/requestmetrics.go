package apiserver

import (
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// RequestDurationMetric is the histogram of request latencies the
// apiserver serves at /metrics, named and labelled as Kubernetes'
// (apiserver_request_duration_seconds with verb, group, version,
// resource, subresource and scope; watches are left out, as Kubernetes'
// SLO leaves out long-running requests). verb is LIST, GET, POST, PUT,
// PATCH or DELETE.
const RequestDurationMetric = "apiserver_request_duration_seconds"

// requestMetrics times requests and serves /metrics.
type requestMetrics struct {
	gatherer prometheus.Gatherer
	duration *prometheus.HistogramVec
}

// newRequestMetrics registers the request metrics on reg (a private
// registry when nil), or takes those already there.
func newRequestMetrics(reg *prometheus.Registry) (*requestMetrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &requestMetrics{gatherer: reg, duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: RequestDurationMetric, Help: "Response latency distribution in seconds for each verb, group, version, resource, subresource and scope.",
		Buckets: []float64{0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60},
	}, []string{"verb", "group", "version", "resource", "subresource", "scope"})}
	if err := reg.Register(m.duration); err != nil {
		// A server started again on the same registry shares the
		// histogram of the one before.
		are, ok := err.(prometheus.AlreadyRegisteredError)
		if !ok {
			return nil, err
		}
		if m.duration, ok = are.ExistingCollector.(*prometheus.HistogramVec); !ok {
			return nil, err
		}
	}
	return m, nil
}

// observe times each resource request but watches (it runs inside
// withRequestInfo).
func (m *requestMetrics) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, ok := infoOf(r)
		if !ok || info.Verb == "watch" || isKubeletSubresource(info) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		next.ServeHTTP(w, r)
		group, version := "", info.APIVersion
		if i := strings.LastIndexByte(info.APIVersion, '/'); i >= 0 {
			group, version = info.APIVersion[:i], info.APIVersion[i+1:]
		}
		scope := "cluster"
		switch {
		case info.Name != "":
			scope = "resource"
		case info.Namespace != "":
			scope = "namespace"
		}
		verb := strings.ToUpper(r.Method)
		if info.Verb == "list" {
			verb = "LIST"
		}
		m.duration.WithLabelValues(verb, group, version, info.Resource, info.Subresource, scope).Observe(time.Since(start).Seconds())
	})
}

// serve answers GET /metrics (after authorization, like Kubernetes'
// non-resource URL /metrics), and /debug/pprof/ unless profiling is off,
// and passes everything else on.
func (m *requestMetrics) serve(next http.Handler, profiling bool) http.Handler {
	h := promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/metrics" && r.Method == http.MethodGet:
			h.ServeHTTP(w, r)
		case profiling && strings.HasPrefix(r.URL.Path, "/debug/pprof/") && r.Method == http.MethodGet:
			servePprof(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// servePprof serves Go's runtime profiles under /debug/pprof/ (the paths
// net/http/pprof documents).
func servePprof(w http.ResponseWriter, r *http.Request) {
	switch strings.TrimPrefix(r.URL.Path, "/debug/pprof/") {
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		// The index, and the named profiles (heap, goroutine, ...).
		pprof.Index(w, r)
	}
}
