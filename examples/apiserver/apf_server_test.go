package apiserver

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Through the real server: every response names the request's flow schema
// and priority level, the admin (system:masters) is exempt, a node's Lease
// renewal goes to node-high, and the metrics land on the caller's
// registry. With priority and fairness off, no headers.
func TestAPFServerHeaders(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := startServer(t, func(c *Config) { c.MetricsRegistry = reg })
	get := func(hc *http.Client, method, path, body string) http.Header {
		t.Helper()
		req, _ := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
		}
		return resp.Header
	}
	h := get(s.httpClient(t, true), "GET", "/api/v1/namespaces", "")
	if h.Get(HeaderFlowSchemaUID) != apfUID("flowschema", "exempt") || h.Get(HeaderPriorityLevelUID) != apfUID("prioritylevel", apfExempt) {
		t.Fatalf("admin request headers: %v", h)
	}
	get(s.httpClient(t, true), "POST", "/api/v1/nodes", `{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}`)
	node, _ := s.userClient(t, "system:node:n1", "system:nodes")
	h = get(node, "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
		`{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"n1","namespace":"kube-node-lease"},"spec":{"holderIdentity":"n1"}}`)
	if h.Get(HeaderFlowSchemaUID) != apfUID("flowschema", "system-node-high") || h.Get(HeaderPriorityLevelUID) != apfUID("prioritylevel", apfNodeHigh) {
		t.Fatalf("node lease headers: %v", h)
	}
	if got := metricValue(t, reg, "apiserver_flowcontrol_request_wait_duration_seconds", map[string]string{"priority_level": apfNodeHigh, "flow_schema": "system-node-high", "execute": "true"}); got != 1 {
		t.Fatalf("node-high wait observations = %v, want 1", got)
	}

	off := startServer(t, func(c *Config) { c.DisablePriorityAndFairness = true })
	req, _ := http.NewRequest("GET", off.URL()+"/api/v1/namespaces", nil)
	resp, err := off.httpClient(t, true).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get(HeaderPriorityLevelUID) != "" {
		t.Fatalf("priority and fairness off, yet headers %v", resp.Header)
	}
}
