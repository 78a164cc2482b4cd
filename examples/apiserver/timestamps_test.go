package apiserver

import (
	"strings"
	"testing"
)

// TestTimestampsOutOfRange is issue 12 case 10 (tenant/01): a time whose
// UTC form leaves years 0000-9999 is refused at decode (400) on every
// write path and for every time type, nothing is stored, and the resource
// stays readable for everyone.
func TestTimestampsOutOfRange(t *testing.T) {
	s := startServer(t)
	admin := s.httpClient(t, true)
	mustCode := func(code int, method, path, ctype, body string) string {
		t.Helper()
		got, resp := s.rawType(t, admin, method, path, ctype, body)
		if got != code {
			t.Fatalf("%s %s %s: %d %s, want %d", method, path, body, got, resp, code)
		}
		return resp
	}
	const j, merge = "application/json", "application/merge-patch+json"
	mustCode(201, "POST", "/api/v1/namespaces/default/events", j, `{"metadata":{"name":"ok"},"involvedObject":{"kind":"Pod","name":"x"},"reason":"R"}`)
	mustCode(201, "POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases", j, `{"metadata":{"name":"ok"},"spec":{"holderIdentity":"a"}}`)
	mustCode(201, "POST", "/api/v1/nodes", j, `{"metadata":{"name":"n1"}}`)
	rev := s.revision(t)
	for _, c := range []struct{ method, path, ctype, body string }{
		// store.Time (second precision) on create, update and patch
		{"POST", "/api/v1/namespaces/default/events", j, `{"metadata":{"name":"ev1"},"involvedObject":{"kind":"Pod","name":"x"},"reason":"R","firstTimestamp":"9999-12-31T23:59:59-23:59"}`},
		{"PUT", "/api/v1/namespaces/default/events/ok", j, `{"metadata":{"name":"ok"},"involvedObject":{"kind":"Pod","name":"x"},"reason":"R","lastTimestamp":"0000-01-01T00:00:00+00:01"}`},
		{"PATCH", "/api/v1/namespaces/default/events/ok", merge, `{"firstTimestamp":"9999-12-31T23:30:00-01:00"}`},
		{"POST", "/api/v1/nodes", j, `{"metadata":{"name":"n2"},"spec":{"taints":[{"key":"a","effect":"NoSchedule","timeAdded":"0000-01-01T00:00:00+00:01"}]}}`},
		{"PATCH", "/api/v1/nodes/n1", merge, `{"spec":{"taints":[{"key":"a","effect":"NoSchedule","timeAdded":"0000-01-01T00:00:00+23:00"}]}}`},
		// store.MicroTime (Lease renewTime, Event eventTime)
		{"POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases", j, `{"metadata":{"name":"l1"},"spec":{"renewTime":"0000-01-01T00:00:00.000000+00:01"}}`},
		{"PATCH", "/apis/coordination.k8s.io/v1/namespaces/default/leases/ok", merge, `{"spec":{"acquireTime":"9999-12-31T23:59:59.000000-00:01"}}`},
		{"POST", "/api/v1/namespaces/default/events", j, `{"metadata":{"name":"ev2"},"involvedObject":{"kind":"Pod","name":"x"},"reason":"R","eventTime":"9999-12-31T23:59:59.500000-23:59"}`},
		// metadata timestamps are decoded (then reset) too
		{"POST", "/api/v1/namespaces/default/events", j, `{"metadata":{"name":"ev3","creationTimestamp":"9999-12-31T23:59:59-23:59"},"involvedObject":{"kind":"Pod","name":"x"}}`},
	} {
		resp := mustCode(400, c.method, c.path, c.ctype, c.body)
		if !strings.Contains(resp, "outside 0000-9999") {
			t.Errorf("%s %s: %s, want the year named", c.method, c.path, resp)
		}
	}
	if got := s.revision(t); got != rev {
		t.Fatalf("refused writes were stored: revision %d -> %d", rev, got)
	}
	// Everyone can still read, list and delete.
	for _, p := range []string{"/api/v1/events", "/api/v1/namespaces/default/events", "/api/v1/namespaces/default/events/ok",
		"/apis/coordination.k8s.io/v1/leases", "/api/v1/nodes"} {
		mustCode(200, "GET", p, "", "")
	}
	mustCode(200, "DELETE", "/api/v1/namespaces/default/events/ok", "", "")
}
