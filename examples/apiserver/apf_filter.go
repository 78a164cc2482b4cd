package apiserver

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// The response headers naming a request's flow schema and priority level,
// as Kubernetes sets them.
const (
	HeaderFlowSchemaUID    = "X-Kubernetes-PF-FlowSchema-UID"
	HeaderPriorityLevelUID = "X-Kubernetes-PF-PriorityLevel-UID"
)

// apf is the priority-and-fairness filter's state: the levels, the
// schemas and the metrics.
type apf struct {
	levels  map[string]*apfLevel
	schemas []apfSchema
	uids    map[string]string // schema name -> UID
	// retryAfter is the Retry-After of a 429, in seconds.
	retryAfter int
	metrics    *apfMetrics
}

// apfMetrics are Kubernetes' APF metrics, under their names.
type apfMetrics struct {
	inQueue   *prometheus.GaugeVec
	executing *prometheus.GaugeVec
	rejected  *prometheus.CounterVec
	wait      *prometheus.HistogramVec
}

func newAPFMetrics(reg prometheus.Registerer) (*apfMetrics, error) {
	labels := []string{"priority_level", "flow_schema"}
	m := &apfMetrics{
		inQueue: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "apiserver_flowcontrol_current_inqueue_requests",
			Help: "Number of requests currently pending in queues of the API Priority and Fairness subsystem."}, labels),
		executing: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "apiserver_flowcontrol_current_executing_requests",
			Help: "Number of requests in the initial (for a WATCH) or any (for a non-WATCH) execution stage in the API Priority and Fairness subsystem."}, labels),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "apiserver_flowcontrol_rejected_requests_total",
			Help: "Number of requests rejected by the API Priority and Fairness subsystem."}, append(labels, "reason")),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "apiserver_flowcontrol_request_wait_duration_seconds",
			Help:    "Length of time a request spent waiting in its queue.",
			Buckets: []float64{0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30}}, append(labels, "execute")),
	}
	for _, c := range []prometheus.Collector{m.inQueue, m.executing, m.rejected, m.wait} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("apiserver: registering priority and fairness metrics: %w", err)
		}
	}
	return m, nil
}

// newAPF divides limit seats among levels by their shares; a queued
// request waits at most wait on clock.
func newAPF(levels []apfLevelSpec, schemas []apfSchema, limit int, wait time.Duration, clock clockwork.Clock, reg prometheus.Registerer) (*apf, error) {
	total := 0
	for _, l := range levels {
		total += l.shares
	}
	m, err := newAPFMetrics(reg)
	if err != nil {
		return nil, err
	}
	a := &apf{levels: map[string]*apfLevel{}, schemas: schemas, uids: map[string]string{}, metrics: m,
		retryAfter: max(1, int(math.Ceil(wait.Seconds()/4)))}
	for _, l := range levels {
		seats := 0
		if !l.exempt {
			seats = max(1, int(math.Ceil(float64(limit)*float64(l.shares)/float64(total))))
		}
		a.levels[l.name] = newAPFLevel(l, seats, clock, wait)
	}
	for _, s := range schemas {
		if a.levels[s.level] == nil {
			return nil, fmt.Errorf("apiserver: flow schema %q names priority level %q, which does not exist", s.name, s.level)
		}
		a.uids[s.name] = apfUID("flowschema", s.name)
	}
	return a, nil
}

// classify returns the schema r matches (the last one always matches).
func (a *apf) classify(r *apfRequest) *apfSchema {
	for i := range a.schemas {
		if a.schemas[i].match(r) {
			return &a.schemas[i]
		}
	}
	return &a.schemas[len(a.schemas)-1]
}

// withPriorityAndFairness classifies each request (after authentication:
// the user is known), sets the X-Kubernetes-PF-* headers, and holds the
// request until its priority level has a seat for it, or answers 429 with
// Retry-After and a Status naming the level when its queue is full or the
// wait runs out. A watch holds its seat only until it starts (the handler
// first writes or flushes); other long-running requests (exec, attach,
// port-forward, log, proxy) take no seat, as in Kubernetes.
func withPriorityAndFairness(next http.Handler, a *apf) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, isResource := infoOf(r)
		req := &apfRequest{user: UserFrom(r.Context()), info: info, isResource: isResource}
		schema := a.classify(req)
		level := a.levels[schema.level]
		w.Header().Set(HeaderFlowSchemaUID, a.uids[schema.name])
		w.Header().Set(HeaderPriorityLevelUID, level.uid)
		if isResource && isKubeletSubresource(info) {
			next.ServeHTTP(w, r)
			return
		}
		flow := schema.name + "/"
		if req.user != nil {
			flow += req.user.Name
		}
		labels := prometheus.Labels{"priority_level": level.spec.name, "flow_schema": schema.name}
		inQueue := a.metrics.inQueue.With(labels)
		inQueue.Inc()
		release, why, waited := level.admit(r.Context(), flow)
		inQueue.Dec()
		wl := prometheus.Labels{"priority_level": level.spec.name, "flow_schema": schema.name, "execute": strconv.FormatBool(why == apfAdmitted)}
		a.metrics.wait.With(wl).Observe(waited.Seconds())
		if why != apfAdmitted {
			rl := prometheus.Labels{"priority_level": level.spec.name, "flow_schema": schema.name, "reason": string(why)}
			a.metrics.rejected.With(rl).Inc()
			a.reject(w, level.spec.name, why)
			return
		}
		executing := a.metrics.executing.With(labels)
		executing.Inc()
		done := func() { release(); executing.Dec() }
		var once sync.Once
		defer once.Do(done)
		if isResource && info.Verb == "watch" {
			w = &startedWriter{ResponseWriter: w, started: func() { once.Do(done) }}
		}
		next.ServeHTTP(w, r)
	})
}

// reject answers 429 naming the level and why.
func (a *apf) reject(w http.ResponseWriter, level string, why apfRejection) {
	what := map[apfRejection]string{
		apfQueueFull:    "its queue is full",
		apfTimeOut:      "the request waited too long in its queue",
		apfCancelled:    "the request was cancelled while it waited in its queue",
		apfNoQueuesFree: "the level is at its concurrency limit and does not queue",
	}[why]
	w.Header().Set("Retry-After", strconv.Itoa(a.retryAfter))
	st := watch.NewStatusError(http.StatusTooManyRequests, watch.StatusReasonTooManyRequests,
		fmt.Sprintf("Too many requests, please try again later: priority level %q is saturated (%s)", level, what))
	st.Status.Details = &watch.StatusDetails{RetryAfterSeconds: int32(a.retryAfter)}
	rest.WriteError(w, st)
}

// startedWriter calls started the first time the handler writes its
// header, its body or flushes: for a watch, the moment it has started.
type startedWriter struct {
	http.ResponseWriter
	started func()
}

func (s *startedWriter) WriteHeader(code int) { s.started(); s.ResponseWriter.WriteHeader(code) }

func (s *startedWriter) Write(b []byte) (int, error) { s.started(); return s.ResponseWriter.Write(b) }

// Flush flushes the underlying writer, if it can.
func (s *startedWriter) Flush() {
	s.started()
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *startedWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
