package apiserver

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// TestKubeletProxyErrors: the proxied subresources answer Kubernetes'
// errors before reaching any kubelet, and the metrics API is discoverable
// and read-only.
func TestKubeletProxyErrors(t *testing.T) {
	s := startServer(t)
	hc := s.httpClient(t, true)
	pod := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"nodeName":"n1","containers":[{"name":"a","image":"x"},{"name":"b","image":"x"}]}}`
	if code, body := s.raw(t, hc, "POST", "/api/v1/namespaces/default/pods", "", pod); code != 201 {
		t.Fatalf("create pod: %d %s", code, body)
	}
	check := func(method, path string, wantCode int, wantMsg string) {
		t.Helper()
		code, body := s.raw(t, hc, method, path, "", "")
		var st watch.Status
		_ = json.Unmarshal([]byte(body), &st)
		if code != wantCode || !strings.Contains(st.Message, wantMsg) {
			t.Errorf("%s %s: %d %s; want %d with %q", method, path, code, body, wantCode, wantMsg)
		}
	}
	check("GET", "/api/v1/namespaces/default/pods/p/log", 400, "a container name must be specified for pod p, choose one of: [a b]")
	check("GET", "/api/v1/namespaces/default/pods/p/log?container=c", 400, "container c is not valid for pod p")
	check("GET", "/api/v1/namespaces/default/pods/nosuch/log?container=a", 404, `pods "nosuch" not found`)
	check("POST", "/api/v1/namespaces/default/pods/p/log?container=a", 405, "pods/log only supports GET")
	check("GET", "/api/v1/namespaces/default/pods/p/log?container=a", 404, `nodes "n1" not found`)
	check("GET", "/api/v1/nodes/n1/proxy/stats/summary", 404, `nodes "n1" not found`)
	if code, body := s.raw(t, hc, "POST", "/api/v1/nodes", "", `{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}`); code != 201 {
		t.Fatalf("create node: %d %s", code, body)
	}
	check("POST", "/api/v1/namespaces/default/pods/p/exec?container=a&command=ls&stdout=true", 503,
		`node "n1" reports no kubelet address and port`)

	if code, body := s.raw(t, hc, "GET", "/apis/metrics.k8s.io/v1beta1", "", ""); code != 200 ||
		!strings.Contains(body, `"kind":"NodeMetrics"`) || !strings.Contains(body, `"kind":"PodMetrics"`) {
		t.Errorf("metrics discovery: %d %s", code, body)
	}
	if code, body := s.raw(t, hc, "GET", "/apis/metrics.k8s.io/v1beta1/nodes", "", ""); code != 200 || !strings.Contains(body, `"items":[]`) {
		t.Errorf("node metrics before any scrape: %d %s", code, body)
	}
	check("GET", "/apis/metrics.k8s.io/v1beta1/nodes/n1", 404, `nodemetrics.metrics.k8s.io "n1" not found`)
	check("POST", "/apis/metrics.k8s.io/v1beta1/nodes", 405, "only supports get and list")
	check("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=a+in+(", 400, "")
}

// TestMetricsRate: CPU usage is the cumulative CPU time's rate between
// two readings; a reset counter or a first reading gives none.
func TestMetricsRate(t *testing.T) {
	m := newMetricsScraper(nil, nil, time.Second, nil)
	t0 := time.Unix(1000, 0)
	reading := func(at time.Time, total, ws uint64) (*cpuUsage, *memoryUsage) {
		return &cpuUsage{Time: store.NewTime(at), UsageCoreNanoSeconds: &total}, &memoryUsage{WorkingSetBytes: &ws}
	}
	seen := map[string]bool{}
	if u := m.observe(seen, "x", nil, nil); u.ok {
		t.Errorf("no reading gave usage %+v", u)
	}
	c, mem := reading(t0, 5e9, 100)
	if u := m.observe(seen, "x", c, mem); u.ok {
		t.Errorf("a first reading gave usage %+v", u)
	}
	c, mem = reading(t0.Add(2*time.Second), 6e9, 200) // 1 s of CPU in 2 s
	u := m.observe(seen, "x", c, mem)
	if !u.ok || u.cpuMilli != 500 || u.memory != 200 || u.window != 2*time.Second {
		t.Errorf("usage %+v, want 500m over 2s and 200 bytes", u)
	}
	if r := u.resources(); r["cpu"].String() != "500m" {
		t.Errorf("resources %v", r)
	}
	c, mem = reading(t0.Add(4*time.Second), 1e9, 200) // a new container
	if u := m.observe(seen, "x", c, mem); u.ok {
		t.Errorf("a counter reset gave usage %+v", u)
	}
}
