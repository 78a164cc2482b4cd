package apiserver

import (
	"strings"
	"testing"
)

// TestLaxValidation is issue 12 case 20 (the tenant/harness/fuzz1.sh
// battery): workload status counts, DeleteOptions and terminal pod phases
// are validated as Kubernetes does (422 naming the field, 400 for a
// malformed body), and nothing is written.
func TestLaxValidation(t *testing.T) {
	s := startServer(t)
	admin := s.httpClient(t, true)
	do := func(method, path, ctype, body string) (int, string) {
		t.Helper()
		return s.rawType(t, admin, method, path, ctype, body)
	}
	const j, mp = "application/json", "application/merge-patch+json"
	const dep = "/apis/apps/v1/namespaces/default/deployments"
	if code, body := do("POST", dep, j, webDeployment); code != 201 {
		t.Fatalf("deployment: %d %s", code, body)
	}
	for _, n := range []string{"a", "b", "c"} {
		if code, body := do("POST", "/api/v1/namespaces/default/pods", j, strings.Replace(podBody, `"name":"p"`, `"name":"`+n+`"`, 1)); code != 201 {
			t.Fatalf("pod %s: %d %s", n, code, body)
		}
	}
	if code, body := do("PATCH", "/api/v1/namespaces/default/pods/c/status", mp, `{"status":{"phase":"Succeeded"}}`); code != 200 {
		t.Fatalf("pod c Succeeded: %d %s", code, body)
	}
	rev := s.revision(t)
	for _, c := range []struct {
		method, path, ctype, body string
		code                      int
		want                      string
	}{
		{"PATCH", dep + "/web/status", mp, `{"status":{"replicas":-5}}`, 422, "status.replicas"},
		{"PATCH", dep + "/web/status", mp, `{"status":{"replicas":1,"readyReplicas":3}}`, 422, "status.readyReplicas"},
		{"PATCH", dep + "/web/status", mp, `{"status":{"collisionCount":-1}}`, 422, "status.collisionCount"},
		{"PUT", dep + "/web/scale", j, `{"spec":{"replicas":-1}}`, 422, "spec.replicas"},
		{"DELETE", "/api/v1/namespaces/default/pods/a", j, `{"gracePeriodSeconds":-1,"propagationPolicy":"Bogus"}`, 422, "propagationPolicy"},
		{"DELETE", "/api/v1/namespaces/default/pods/a", j, `{"propagationPolicy":"Bogus"}`, 422, `Unsupported value: \"Bogus\"`},
		{"DELETE", "/api/v1/namespaces/default/pods/a", j, `{"orphanDependents":true,"propagationPolicy":"Background"}`, 422, "cannot be both set"},
		{"DELETE", "/api/v1/namespaces/default/pods/a?propagationPolicy=Bogus", "", "", 422, "DeleteOptions"},
		{"DELETE", "/api/v1/namespaces/default/pods?propagationPolicy=Bogus", "", "", 422, "DeleteOptions"},
		{"DELETE", "/api/v1/namespaces/default/pods/a", j, `garbage`, 400, "DeleteOptions"},
		{"DELETE", "/api/v1/namespaces/default/pods/a?gracePeriodSeconds=x", "", "", 400, "gracePeriodSeconds"},
		{"DELETE", "/api/v1/namespaces/default/pods/a", j, `{"preconditions":{"resourceVersion":"abc"}}`, 400, "resourceVersion"},
		{"PATCH", "/api/v1/namespaces/default/pods/c/status", mp, `{"status":{"phase":"Running"}}`, 422, "terminal phase Succeeded"},
		{"PUT", "/api/v1/namespaces/default/pods/c/status", j, `{"metadata":{"name":"c"},"spec":{"containers":[{"name":"c","image":"nginx"}]},"status":{"phase":"Pending"}}`, 422, "status.phase"},
	} {
		code, body := do(c.method, c.path, c.ctype, c.body)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s %s %s: %d %s, want %d with %q", c.method, c.path, c.body, code, body, c.code, c.want)
		}
	}
	if got := s.revision(t); got != rev {
		t.Fatalf("refused requests wrote: revision %d -> %d", rev, got)
	}
	// A negative grace period alone counts as 1 second, as in Kubernetes;
	// the valid policies are accepted. Foreground keeps the pod, marked
	// and holding foregroundDeletion, for the garbage collector (none
	// runs here).
	if code, resp := do("DELETE", "/api/v1/namespaces/default/pods/a", j, `{"gracePeriodSeconds":-1}`); code != 200 {
		t.Errorf("delete a with a negative grace period: %d %s", code, resp)
	}
	code, resp := do("DELETE", "/api/v1/namespaces/default/pods/b", j, `{"propagationPolicy":"Foreground","gracePeriodSeconds":0}`)
	if (code != 200 && code != 202) || !strings.Contains(resp, `"finalizers":["foregroundDeletion"]`) || !strings.Contains(resp, `"deletionTimestamp"`) {
		t.Errorf("foreground delete of b: %d %s, want the pod marked with the foregroundDeletion finalizer", code, resp)
	}
}
