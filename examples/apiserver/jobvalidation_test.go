package apiserver

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/watch"
)

// TestJobSuccessPolicyOverHTTP: a job with a bad successPolicy is 422
// Invalid naming the field and nothing is stored; a stored job's
// successPolicy cannot be changed (422, the job unchanged).
func TestJobSuccessPolicyOverHTTP(t *testing.T) {
	s := startServer(t)
	admin := s.httpClient(t, true)
	const jobs = "/apis/batch/v1/namespaces/default/jobs"
	job := func(name, mode string, completions int, policy string) string {
		return fmt.Sprintf(`{"metadata":{"name":%q},"spec":{"completions":%d,"completionMode":%q,"successPolicy":%s,`+
			`"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}`, name, completions, mode, policy)
	}
	bad := []struct{ body, field string }{
		{job("a", "NonIndexed", 3, `{"rules":[{"succeededCount":1}]}`), "spec.successPolicy"},
		{job("b", "Indexed", 3, `{"rules":[]}`), "spec.successPolicy.rules"},
		{job("c", "Indexed", 3, `{"rules":[`+strings.TrimSuffix(strings.Repeat(`{"succeededCount":1},`, 21), ",")+`]}`), "spec.successPolicy.rules"},
		{job("d", "Indexed", 3, `{"rules":[{}]}`), "spec.successPolicy.rules[0]"},
		{job("e", "Indexed", 3, `{"rules":[{"succeededIndexes":"0-3"}]}`), "spec.successPolicy.rules[0].succeededIndexes"},
		{job("f", "Indexed", 5, `{"rules":[{"succeededIndexes":"2,1"}]}`), "spec.successPolicy.rules[0].succeededIndexes"},
		{job("g", "Indexed", 3, `{"rules":[{"succeededCount":4}]}`), "spec.successPolicy.rules[0].succeededCount"},
		{job("h", "Indexed", 5, `{"rules":[{"succeededIndexes":"1-2","succeededCount":3}]}`), "spec.successPolicy.rules[0].succeededCount"},
	}
	rev := s.revision(t)
	for _, c := range bad {
		code, resp := s.rawType(t, admin, "POST", jobs, "application/json", c.body)
		var st watch.Status
		_ = json.Unmarshal([]byte(resp), &st)
		found := false
		if st.Details != nil {
			for _, cause := range st.Details.Causes {
				found = found || cause.Field == c.field
			}
		}
		if code != 422 || st.Reason != watch.StatusReasonInvalid || !found {
			t.Errorf("POST %s: %d %s, want 422 with a cause on %s", c.body, code, resp, c.field)
		}
	}
	if got := s.revision(t); got != rev {
		t.Fatalf("invalid jobs were written: revision %d -> %d", rev, got)
	}

	if code, resp := s.rawType(t, admin, "POST", jobs, "application/json",
		job("ok", "Indexed", 5, `{"rules":[{"succeededIndexes":"0,2-4","succeededCount":2}]}`)); code != 201 {
		t.Fatalf("valid job: %d %s", code, resp)
	}
	code, resp := s.rawType(t, admin, "PATCH", jobs+"/ok", "application/merge-patch+json",
		`{"spec":{"successPolicy":{"rules":[{"succeededCount":1}]}}}`)
	if code != 422 || !strings.Contains(resp, "spec.successPolicy") || !strings.Contains(resp, "field is immutable") {
		t.Fatalf("changing successPolicy: %d %s, want 422 naming spec.successPolicy immutable", code, resp)
	}
	code, resp = s.rawType(t, admin, "GET", jobs+"/ok", "", "")
	if code != 200 || !strings.Contains(resp, `"succeededIndexes":"0,2-4"`) || !strings.Contains(resp, `"succeededCount":2`) {
		t.Fatalf("job after refused update: %d %s", code, resp)
	}
}
