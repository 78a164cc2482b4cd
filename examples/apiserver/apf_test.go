package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/watch"
)

// apfReq is a request as user (with groups) for path, with its request
// info parsed as the server's filter would.
func apfReq(method, path, user string, groups ...string) *http.Request {
	r := httptest.NewRequest(method, path, nil)
	if user != "" {
		r = r.WithContext(WithUser(r.Context(), &User{Name: user, Groups: groups}))
	}
	info, ok := infoOf(r)
	ctx := context.WithValue(r.Context(), requestInfoKey{}, &requestInfo{RequestInfo: info, isResource: ok})
	return r.WithContext(ctx)
}

func mustAPF(t *testing.T, levels []apfLevelSpec, limit int, clock clockwork.Clock) (*apf, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	a, err := newAPF(levels, defaultAPFSchemas(), limit, 15*time.Second, clock, reg)
	if err != nil {
		t.Fatal(err)
	}
	return a, reg
}

// metricValue returns the value of the sample of name whose labels
// include want (counter, gauge, or a histogram's count).
func metricValue(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if got[k] != v {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return sum
}

// Expected levels are Kubernetes' default FlowSchemas' (apf.go).
func TestAPFClassification(t *testing.T) {
	a, _ := mustAPF(t, defaultAPFLevels(), 600, clockwork.NewFakeClock())
	for _, tc := range []struct {
		method, path, user string
		groups             []string
		schema, level      string
	}{
		{"GET", "/api/v1/pods", "admin", []string{"system:masters"}, "exempt", apfExempt},
		{"PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", "system:node:n1", []string{"system:nodes"}, "system-node-high", apfNodeHigh},
		{"PATCH", "/api/v1/nodes/n1/status", "system:node:n1", []string{"system:nodes"}, "system-node-high", apfNodeHigh},
		{"GET", "/api/v1/pods", "system:node:n1", []string{"system:nodes"}, "system-nodes", apfSystem},
		{"PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler", "system:kube-scheduler", nil, "system-leader-election", apfLeaderElection},
		{"GET", "/api/v1/pods", "system:kube-scheduler", nil, "kube-scheduler", apfWorkloadHigh},
		{"POST", "/api/v1/namespaces/default/pods", "system:kube-controller-manager", nil, "kube-controller-manager", apfWorkloadHigh},
		{"GET", "/apis/apps/v1/deployments", "system:serviceaccount:kube-system:deployment-controller", nil, "kube-system-service-accounts", apfWorkloadHigh},
		{"PUT", "/apis/coordination.k8s.io/v1/namespaces/app/leases/op", "system:serviceaccount:app:op", nil, "workload-leader-election", apfLeaderElection},
		{"GET", "/api/v1/namespaces/app/configmaps", "system:serviceaccount:app:op", nil, "service-accounts", apfWorkloadLow},
		{"GET", "/api/v1/pods", "alice", []string{"devs"}, "global-default", apfGlobalDefault},
		{"GET", "/version", "alice", nil, "global-default", apfGlobalDefault},
		{"GET", "/api/v1/pods", "", nil, "catch-all", apfCatchAll},
	} {
		r := apfReq(tc.method, tc.path, tc.user, tc.groups...)
		info, isRes := infoOf(r)
		s := a.classify(&apfRequest{user: UserFrom(r.Context()), info: info, isResource: isRes})
		if s.name != tc.schema || s.level != tc.level {
			t.Errorf("%s %s as %s: schema %s level %s, want %s %s", tc.method, tc.path, tc.user, s.name, s.level, tc.schema, tc.level)
		}
	}
}

// gate is a handler whose requests block until released; entered counts
// the requests that reached it.
type gate struct {
	entered atomic.Int64
	open    chan struct{}
}

func newGate() *gate { return &gate{open: make(chan struct{})} }

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.entered.Add(1)
	<-g.open
	w.WriteHeader(http.StatusOK)
}

// The APF test: one user floods lists (many concurrent clients)
// until its priority level's seats are all taken and its queues hold the
// rest; a node's Lease renewal is then admitted at once, without waiting
// for any of the flood (the fake clock never moves), because node
// heartbeats have a level of their own.
func TestAPFNodeLeaseNotDelayedByListFlood(t *testing.T) {
	clock := clockwork.NewFakeClock()
	a, reg := mustAPF(t, defaultAPFLevels(), 40, clock)
	flood := a.levels[apfGlobalDefault]
	seats := flood.seats
	const clients = 60
	g := newGate()
	var leaseServed atomic.Int64
	h := withPriorityAndFairness(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if UserFrom(r.Context()).Name == "system:node:n1" {
			leaseServed.Add(1)
			w.WriteHeader(http.StatusOK)
			return
		}
		g.ServeHTTP(w, r)
	}), a)
	codes := make(chan int, clients)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			codes <- serveOne(h, apfReq("GET", "/api/v1/pods", "flooder", "system:authenticated")).Code
		})
	}
	// Every flood request beyond the seats is queued: each queued request
	// waits on a timer of the fake clock.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := clock.BlockUntilContext(ctx, clients-seats); err != nil {
		t.Fatalf("the flood did not queue: %v", err)
	}
	if ex, wait := flood.state(); ex != seats || wait != clients-seats {
		t.Fatalf("flood level: %d executing, %d queued; want %d, %d", ex, wait, seats, clients-seats)
	}
	if got := metricValue(t, reg, "apiserver_flowcontrol_current_inqueue_requests", map[string]string{"priority_level": apfGlobalDefault}); got != float64(clients-seats) {
		t.Fatalf("current_inqueue_requests = %v, want %d", got, clients-seats)
	}
	// The node renews its Lease while the flood is queued: admitted at
	// once, with no time passing.
	for i := range 5 {
		got := make(chan *httptest.ResponseRecorder, 1)
		go func() {
			got <- serveOne(h, apfReq("PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", "system:node:n1", "system:nodes"))
		}()
		var rec *httptest.ResponseRecorder
		queued := make(chan error, 1)
		qctx, qcancel := context.WithCancel(ctx)
		go func() { queued <- clock.BlockUntilContext(qctx, clients-seats+1) }()
		select {
		case rec = <-got:
			qcancel()
		case err := <-queued:
			qcancel()
			if err == nil {
				t.Fatalf("lease renewal %d was queued behind the flood", i)
			}
			rec = <-got
		}
		if rec.Code != http.StatusOK || leaseServed.Load() != int64(i+1) {
			t.Fatalf("lease renewal %d: %d (served %d) while the flood is queued", i, rec.Code, leaseServed.Load())
		}
		if rec.Header().Get(HeaderPriorityLevelUID) != a.levels[apfNodeHigh].uid || rec.Header().Get(HeaderFlowSchemaUID) != apfUID("flowschema", "system-node-high") {
			t.Fatalf("lease renewal headers %v", rec.Header())
		}
	}
	if ex, wait := flood.state(); ex != seats || wait != clients-seats {
		t.Fatalf("flood level changed while the node was served: %d executing, %d queued", ex, wait)
	}
	if g.entered.Load() != int64(seats) {
		t.Fatalf("%d flood requests ran with %d seats", g.entered.Load(), seats)
	}
	// The flood drains: every request is served, none rejected.
	close(g.open)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Fatalf("a flood request got %d", c)
		}
	}
	if got := metricValue(t, reg, "apiserver_flowcontrol_request_wait_duration_seconds", map[string]string{"priority_level": apfGlobalDefault, "execute": "true"}); got != clients {
		t.Fatalf("request_wait_duration_seconds count = %v, want %d", got, clients)
	}
}

// smallLevels is the default levels with one share each (at limit 1:
// one seat each) and, where they queue, one queue of length 2.
func smallLevels() []apfLevelSpec {
	levels := defaultAPFLevels()
	for i := range levels {
		if levels[i].exempt {
			continue
		}
		levels[i].shares = 1
		if levels[i].queues > 0 {
			levels[i].queues, levels[i].handSize, levels[i].queueLength = 1, 1, 2
		}
	}
	return levels
}

// A full queue is 429 at once, and a queued request that waits past the
// queue wait is 429 too: Retry-After, a TooManyRequests Status naming the
// priority level, the X-Kubernetes-PF-* headers, and the rejection
// counted by reason.
func TestAPFRejection(t *testing.T) {
	clock := clockwork.NewFakeClock()
	a, reg := mustAPF(t, smallLevels(), 1, clock)
	g := newGate()
	h := withPriorityAndFairness(g, a)
	list := func() *http.Request { return apfReq("GET", "/api/v1/pods", "alice") }
	recs := make(chan *httptest.ResponseRecorder, 3)
	var wg sync.WaitGroup
	for range 3 { // one runs, two queue
		wg.Go(func() { recs <- serveOne(h, list()) })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := clock.BlockUntilContext(ctx, 2); err != nil {
		t.Fatal(err)
	}
	check := func(rec *httptest.ResponseRecorder, why string) {
		t.Helper()
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
			t.Fatalf("got %d, Retry-After %q; want 429 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
		}
		var st watch.Status
		if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
			t.Fatalf("429 body %q: %v", rec.Body, err)
		}
		want := fmt.Sprintf("Too many requests, please try again later: priority level %q is saturated (%s)", apfGlobalDefault, why)
		if st.Kind != "Status" || st.Code != 429 || st.Reason != watch.StatusReasonTooManyRequests || st.Message != want ||
			st.Details == nil || fmt.Sprint(st.Details.RetryAfterSeconds) != rec.Header().Get("Retry-After") {
			t.Fatalf("429 Status %+v, want message %q", st, want)
		}
		if rec.Header().Get(HeaderPriorityLevelUID) != a.levels[apfGlobalDefault].uid || rec.Header().Get(HeaderFlowSchemaUID) != apfUID("flowschema", "global-default") {
			t.Fatalf("429 headers %v", rec.Header())
		}
	}
	check(serveOne(h, list()), "its queue is full")
	if got := metricValue(t, reg, "apiserver_flowcontrol_rejected_requests_total", map[string]string{"priority_level": apfGlobalDefault, "flow_schema": "global-default", "reason": "queue-full"}); got != 1 {
		t.Fatalf("rejected queue-full = %v, want 1", got)
	}
	// The two queued requests time out; the running one finishes.
	clock.Advance(15 * time.Second)
	for range 2 {
		check(<-recs, "the request waited too long in its queue")
	}
	close(g.open)
	wg.Wait()
	if rec := <-recs; rec.Code != http.StatusOK {
		t.Fatalf("the running request got %d", rec.Code)
	}
	if got := metricValue(t, reg, "apiserver_flowcontrol_rejected_requests_total", map[string]string{"reason": "time-out"}); got != 2 {
		t.Fatalf("rejected time-out = %v, want 2", got)
	}
	if ex, wait := a.levels[apfGlobalDefault].state(); ex != 0 || wait != 0 {
		t.Fatalf("after the requests: %d executing, %d queued", ex, wait)
	}
}

// A watch holds its seat only until it has started (written its
// header); an exec takes no seat at all.
func TestAPFLongRunningHoldsSeatOnlyToStart(t *testing.T) {
	a, _ := mustAPF(t, smallLevels(), 1, clockwork.NewFakeClock())
	started, end := make(chan struct{}), make(chan struct{})
	h := withPriorityAndFairness(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info, _ := infoOf(r); info.Verb == "watch" || info.Subresource == "exec" {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			started <- struct{}{}
			<-end
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}), a)
	done := make(chan int, 2)
	go func() { done <- serveOne(h, apfReq("GET", "/api/v1/pods?watch=true", "alice")).Code }()
	<-started
	if ex, _ := a.levels[apfGlobalDefault].state(); ex != 0 {
		t.Fatalf("a started watch holds %d seats", ex)
	}
	go func() { done <- serveOne(h, apfReq("POST", "/api/v1/namespaces/default/pods/p/exec", "alice")).Code }()
	<-started
	// With the watch and the exec running, the level's one seat is free.
	if rec := serveOne(h, apfReq("GET", "/api/v1/pods", "alice")); rec.Code != http.StatusNoContent {
		t.Fatalf("a list beside a running watch and exec: %d", rec.Code)
	}
	close(end)
	<-done
	<-done
}

// Stress under -race: many flows of requests against a level with few
// seats, some cancelled while queued, the fake clock moving so that some
// time out. In flight never exceeds the level's seats, and every request
// is either served or rejected with 429.
func TestAPFStress(t *testing.T) {
	clock := clockwork.NewFakeClock()
	levels := smallLevels()
	for i := range levels {
		if levels[i].name == apfGlobalDefault {
			levels[i] = apfLevelSpec{name: apfGlobalDefault, shares: 3, queues: 8, handSize: 3, queueLength: 4}
		}
	}
	a, _ := mustAPF(t, levels, 9, clock)
	seats := a.levels[apfGlobalDefault].seats
	var inflight, maxInflight, served, rejected, other atomic.Int64
	h := withPriorityAndFairness(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		for {
			m := maxInflight.Load()
			if n <= m || maxInflight.CompareAndSwap(m, n) {
				break
			}
		}
		for range 50 {
			// Let other goroutines run while the seat is held.
			runtime.Gosched()
		}
		inflight.Add(-1)
		w.WriteHeader(http.StatusOK)
	}), a)
	const workers, perWorker = 32, 40
	stop := make(chan struct{})
	var ticker sync.WaitGroup
	ticker.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				clock.Advance(time.Second)
			}
		}
	})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				r := apfReq("GET", "/api/v1/pods", fmt.Sprintf("user-%d", w%7))
				if i%5 == 0 {
					ctx, cancel := context.WithCancel(r.Context())
					r = r.WithContext(ctx)
					if i%10 == 0 {
						cancel()
					} else {
						defer cancel()
					}
				}
				switch serveOne(h, r).Code {
				case http.StatusOK:
					served.Add(1)
				case http.StatusTooManyRequests:
					rejected.Add(1)
				default:
					other.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	ticker.Wait()
	if maxInflight.Load() > int64(seats) {
		t.Fatalf("%d requests in flight at once, seats %d", maxInflight.Load(), seats)
	}
	if served.Load()+rejected.Load() != workers*perWorker || other.Load() != 0 {
		t.Fatalf("served %d + rejected %d (+%d other) != %d requests", served.Load(), rejected.Load(), other.Load(), workers*perWorker)
	}
	if served.Load() == 0 {
		t.Fatal("nothing was served")
	}
	if ex, wait := a.levels[apfGlobalDefault].state(); ex != 0 || wait != 0 {
		t.Fatalf("after the stress: %d executing, %d queued", ex, wait)
	}
}
