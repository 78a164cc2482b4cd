package apiserver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func bootstrapSecret(id, secret, expiration string) string {
	return `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"bootstrap-token-` + id + `","namespace":"kube-system"},
		"type":"bootstrap.kubernetes.io/token","stringData":{"token-id":"` + id + `","token-secret":"` + secret + `",
		"expiration":"` + expiration + `","usage-bootstrap-authentication":"true","auth-extra-groups":"system:bootstrappers:nodes"}}`
}

func TestBootstrapTokenAuthentication(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.json")
	os.WriteFile(rules, []byte(`[
		{"group":"system:masters","verbs":["*"],"resources":["*"]},
		{"group":"system:bootstrappers:nodes","verbs":["list"],"resources":["pods"]}
	]`), 0o600)
	s := startServer(t, func(c *Config) { c.AuthzFile = rules })
	admin, anon := s.httpClient(t, true), s.httpClient(t, false)
	future, past := time.Now().Add(time.Hour).UTC().Format(time.RFC3339), time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	for _, body := range []string{bootstrapSecret("abcdef", "0123456789abcdef", future), bootstrapSecret("oldtok", "0123456789abcdef", past)} {
		if code, out := s.raw(t, admin, "POST", "/api/v1/namespaces/kube-system/secrets", "", body); code != 201 {
			t.Fatalf("create token secret: %d %s", code, out)
		}
	}
	if code, body := s.raw(t, anon, "GET", "/api/v1/pods", "abcdef.0123456789abcdef", ""); code != 200 {
		t.Fatalf("valid bootstrap token: %d %s", code, body)
	}
	// Authorization sees system:bootstrap:<id>.
	if code, body := s.raw(t, anon, "GET", "/api/v1/secrets", "abcdef.0123456789abcdef", ""); code != 403 || !strings.Contains(body, "system:bootstrap:abcdef") {
		t.Fatalf("bootstrap token listing secrets: %d %s", code, body)
	}
	for name, tok := range map[string]string{
		"expired":      "oldtok.0123456789abcdef",
		"wrong secret": "abcdef.0123456789abcdee",
		"malformed":    "abcdef.0123456789",
		"unknown id":   "zzzzzz.0123456789abcdef",
	} {
		if code, body := s.raw(t, anon, "GET", "/api/v1/pods", tok, ""); code != 401 {
			t.Errorf("%s: %d %s", name, code, body)
		}
	}
	if code, body := s.raw(t, admin, "DELETE", "/api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef", "", ""); code != 200 {
		t.Fatalf("delete: %d %s", code, body)
	}
	if code, body := s.raw(t, anon, "GET", "/api/v1/pods", "abcdef.0123456789abcdef", ""); code != 401 {
		t.Fatalf("token of a deleted secret: %d %s", code, body)
	}
}
