package apiserver

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/watch"
)

// TestEviction: pods/eviction honours a PodDisruptionBudget as Kubernetes
// does: 429 with Kubernetes' message while the budget allows no
// disruption (the pod stays), 201 once it allows one (the pod goes and
// the budget records it), dryRun=All decides without writing, and a
// malformed Eviction is 400.
func TestEviction(t *testing.T) {
	s := startServer(t)
	admin := s.httpClient(t, true)
	const j, mp = "application/json", "application/merge-patch+json"
	do := func(method, path, ctype, body string) (int, string) {
		t.Helper()
		return s.rawType(t, admin, method, path, ctype, body)
	}
	const pods = "/api/v1/namespaces/default/pods"
	const pdbs = "/apis/policy/v1/namespaces/default/poddisruptionbudgets"
	for _, n := range []string{"web", "pending"} {
		body := strings.Replace(podBody, `"name":"p"`, `"name":"`+n+`","labels":{"app":"web"}`, 1)
		if code, resp := do("POST", pods, j, body); code != 201 {
			t.Fatalf("pod %s: %d %s", n, code, resp)
		}
	}
	if code, resp := do("PATCH", pods+"/web/status", mp,
		`{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}`); code != 200 {
		t.Fatalf("pod status: %d %s", code, resp)
	}
	if code, resp := do("POST", pdbs, j, `{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"web"},
		"spec":{"minAvailable":1,"selector":{"matchLabels":{"app":"web"}}}}`); code != 201 {
		t.Fatalf("pdb: %d %s", code, resp)
	}
	// what the disruption controller would write: one healthy pod, which
	// the budget needs
	setAllowed := func(n int) {
		t.Helper()
		body := `{"status":{"observedGeneration":1,"currentHealthy":1,"desiredHealthy":1,"expectedPods":1,"disruptionsAllowed":` +
			map[int]string{0: "0", 1: "1"}[n] + `}}`
		if code, resp := do("PATCH", pdbs+"/web/status", mp, body); code != 200 {
			t.Fatalf("pdb status: %d %s", code, resp)
		}
	}
	setAllowed(0)
	evict := func(name, query string) (int, string) {
		t.Helper()
		return do("POST", pods+"/"+name+"/eviction"+query, j,
			`{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"`+name+`","namespace":"default"}}`)
	}

	rev := s.revision(t)
	code, resp := evict("web", "")
	var st watch.Status
	if err := json.Unmarshal([]byte(resp), &st); err != nil {
		t.Fatalf("eviction answer %q: %v", resp, err)
	}
	if code != 429 || st.Reason != watch.StatusReasonTooManyRequests ||
		st.Message != "Cannot evict pod as it would violate the pod's disruption budget." ||
		st.Details == nil || len(st.Details.Causes) != 1 || st.Details.Causes[0].Type != "DisruptionBudget" ||
		!strings.Contains(st.Details.Causes[0].Message, "The disruption budget web needs 1 healthy pods and has 1 currently") {
		t.Fatalf("eviction against a budget with no disruption allowed: %d %s", code, resp)
	}
	// refused and malformed evictions write nothing
	for _, c := range []struct {
		path, body string
		code       int
		want       string
	}{
		{pods + "/web/eviction", `{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"other"}}`, 400, "does not match"},
		{pods + "/web/eviction", `{"apiVersion":"policy/v1","kind":"Pod","metadata":{"name":"web"}}`, 400, "Eviction"},
		{pods + "/web/eviction?dryRun=Maybe", `{"metadata":{"name":"web"}}`, 400, "dryRun"},
		{pods + "/nope/eviction", `{"metadata":{"name":"nope"}}`, 404, `pods \"nope\" not found`},
	} {
		if code, resp := do("POST", c.path, j, c.body); code != c.code || !strings.Contains(resp, c.want) {
			t.Errorf("POST %s %s: %d %s, want %d with %q", c.path, c.body, code, resp, c.code, c.want)
		}
	}
	if got := s.revision(t); got != rev {
		t.Fatalf("refused evictions wrote: revision %d -> %d", rev, got)
	}

	// a pending pod goes without consulting the budget
	if code, resp := evict("pending", ""); code != 201 {
		t.Fatalf("evicting a pending pod: %d %s", code, resp)
	}

	setAllowed(1)
	rev = s.revision(t)
	if code, resp := evict("web", "?dryRun=All"); code != 201 {
		t.Fatalf("dry-run eviction: %d %s", code, resp)
	}
	if got := s.revision(t); got != rev {
		t.Fatalf("a dry-run eviction wrote: revision %d -> %d", rev, got)
	}
	code, resp = evict("web", "")
	if code != 201 || !strings.Contains(resp, `"status":"Success"`) {
		t.Fatalf("eviction a budget allows: %d %s", code, resp)
	}
	if code, resp := do("GET", pods+"/web", "", ""); code != 404 && !strings.Contains(resp, "deletionTimestamp") {
		t.Fatalf("the evicted pod: %d %s", code, resp)
	}
	var pdb struct {
		Status struct {
			DisruptionsAllowed int32          `json:"disruptionsAllowed"`
			DisruptedPods      map[string]any `json:"disruptedPods"`
		} `json:"status"`
	}
	_, resp = do("GET", pdbs+"/web", "", "")
	if err := json.Unmarshal([]byte(resp), &pdb); err != nil {
		t.Fatal(err)
	}
	if pdb.Status.DisruptionsAllowed != 0 || pdb.Status.DisruptedPods["web"] == nil {
		t.Fatalf("the budget after the eviction: %s", resp)
	}
}
