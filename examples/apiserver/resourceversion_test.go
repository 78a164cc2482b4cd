package apiserver

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// TestResourceVersionRulesOnEtcd is field-cases 05 (issue 12 case 4) on
// the real apiserver and etcd: the forbidden combinations are 422 Invalid
// ListOptions, and limit with an older resourceVersion is the snapshot at
// that revision, without objects created after it.
func TestResourceVersionRulesOnEtcd(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	admin := s.httpClient(t, true)
	pods := podClient(t, s)
	for _, n := range []string{"e1", "e2"} {
		if _, err := pods.Create(ctx, newPod("default", n, nil)); err != nil {
			t.Fatal(err)
		}
	}
	rv1 := strconv.FormatInt(s.revision(t), 10)
	if _, err := pods.Create(ctx, newPod("default", "later", nil)); err != nil {
		t.Fatal(err)
	}
	const p = "/api/v1/namespaces/default/pods?"
	_, body := s.rawType(t, admin, "GET", p+"limit=1", "", "")
	var first struct {
		Metadata struct{ Continue string } `json:"metadata"`
	}
	json.Unmarshal([]byte(body), &first)
	tok := url.QueryEscape(first.Metadata.Continue)
	for _, q := range []string{
		"resourceVersionMatch=NotOlderThan",
		"resourceVersionMatch=Exact&resourceVersion=0",
		"limit=1&continue=" + tok + "&resourceVersionMatch=NotOlderThan",
		"watch=1&resourceVersion=" + rv1 + "&resourceVersionMatch=NotOlderThan&timeoutSeconds=1",
	} {
		code, body := s.rawType(t, admin, "GET", p+q, "", "")
		if code != 422 || !strings.Contains(body, `"kind":"ListOptions"`) || !strings.Contains(body, `"reason":"Invalid"`) {
			t.Errorf("?%s: %d %s, want 422 Invalid ListOptions", q, code, body)
		}
	}
	code, body := s.rawType(t, admin, "GET", p+"limit=10&resourceVersion="+rv1, "", "")
	var l struct {
		Metadata struct{ ResourceVersion string } `json:"metadata"`
	}
	json.Unmarshal([]byte(body), &l)
	if code != 200 || names(t, body) != "e1,e2" || l.Metadata.ResourceVersion != rv1 {
		t.Fatalf("limit=10&resourceVersion=%s: %d %s, want e1 and e2 at %s", rv1, code, body, rv1)
	}
	// A revision from the future: 504 Too large resource version.
	code, body = s.rawType(t, admin, "GET", p+"limit=10&resourceVersion=99999999", "", "")
	if code != 504 || !strings.Contains(body, "ResourceVersionTooLarge") {
		t.Fatalf("future revision: %d %s", code, body)
	}
	// Compacted: 410 Expired.
	if err := s.Backend().Compact(ctx, s.revision(t)); err != nil {
		t.Fatal(err)
	}
	if code, body = s.rawType(t, admin, "GET", p+"limit=10&resourceVersion="+rv1, "", ""); code != 410 || !strings.Contains(body, "Expired") {
		t.Fatalf("compacted revision: %d %s", code, body)
	}
}
