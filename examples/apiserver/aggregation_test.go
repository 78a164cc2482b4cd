package apiserver

import (
	"strings"
	"testing"
)

// TestClusterRoleAggregation: a cluster role labelled aggregate-to-view
// created after start is folded into view by the aggregation controller
// (and from there into edit and admin).
func TestClusterRoleAggregation(t *testing.T) {
	s := startServer(t)
	admin := s.httpClient(t, true)
	next := s.openWatch(t, admin, "/apis/rbac.authorization.k8s.io/v1/clusterroles?watch=1&fieldSelector=metadata.name%3Dadmin&resourceVersion="+
		itoa(s.revision(t)))
	code, body := s.rawType(t, admin, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", "application/json",
		`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"widget-viewer","labels":{"rbac.authorization.k8s.io/aggregate-to-view":"true"}},`+
			`"rules":[{"verbs":["get"],"apiGroups":["example.com"],"resources":["widgets"]}]}`)
	if code != 201 {
		t.Fatalf("creating widget-viewer: %d %s", code, body)
	}
	// view, then edit, then admin take the rule; admin is the last.
	for {
		ev := next()
		if ev.Type != "MODIFIED" {
			continue
		}
		_, out := s.rawType(t, admin, "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/admin", "", "")
		if strings.Contains(out, "widgets") {
			break
		}
	}
	for _, r := range []string{"view", "edit"} {
		if _, out := s.rawType(t, admin, "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/"+r, "", ""); !strings.Contains(out, "widgets") {
			t.Errorf("%s lacks the aggregated rule: %s", r, out)
		}
	}
}
