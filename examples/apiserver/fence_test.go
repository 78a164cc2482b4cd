package apiserver

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tenantServer is an apiserver with the field cases' users: admintok
// (system:masters), alicetok (everything in namespace alice), bobtok (read
// pods in bob).
func tenantServer(t *testing.T, mutate ...func(*Config)) *testServer {
	t.Helper()
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.csv")
	rules := filepath.Join(dir, "rules.json")
	os.WriteFile(tokens, []byte("admintok,admin,1,\"system:masters\"\nalicetok,alice,2,\"devs\"\nbobtok,bob,3,\n"), 0o600)
	os.WriteFile(rules, []byte(`[{"group":"system:masters","verbs":["*"],"resources":["*"]},
		{"user":"alice","verbs":["*"],"resources":["*"],"namespaces":["alice"]},
		{"user":"bob","verbs":["get","list","watch"],"resources":["pods"],"namespaces":["bob"]}]`), 0o600)
	return startServer(t, append([]func(*Config){func(c *Config) { c.TokenFile, c.AuthzFile = tokens, rules }}, mutate...)...)
}

// TestFencesAreNoOracle is issue 12 case 13 (tenant/04, tenant/05): a fence
// may name only a key its sender may read, otherwise 403 without a word
// about the key (whether it exists, its revision); at most MaxFences
// fences (400, not etcd's 500); a failed fence's 409 echoes no revision.
func TestFencesAreNoOracle(t *testing.T) {
	s := tenantServer(t)
	anon := s.httpClient(t, false)
	as := func(tok, method, path, body string, header ...string) (int, string) {
		t.Helper()
		code, resp := s.rawType(t, anon, method, path, "application/json", body, append([]string{"Authorization", "Bearer " + tok}, header...)...)
		return code, resp
	}
	for _, ns := range []string{"alice", "bob"} {
		if code, body := as("admintok", "POST", "/api/v1/namespaces", `{"metadata":{"name":"`+ns+`"}}`); code != 201 {
			t.Fatalf("namespace %s: %d %s", ns, code, body)
		}
	}
	if code, body := as("admintok", "POST", "/api/v1/namespaces/bob/pods", podBody); code != 201 {
		t.Fatalf("pod bob/p: %d %s", code, body)
	}
	_, lease := as("alicetok", "POST", "/apis/coordination.k8s.io/v1/namespaces/alice/leases", `{"metadata":{"name":"mine"}}`)
	var l objMeta
	json.Unmarshal([]byte(lease), &l)
	const leases = "/apis/coordination.k8s.io/v1/namespaces/alice/leases"
	rev := s.revision(t)
	var bodies []string
	for _, key := range []string{"/setpoint/pods/bob/p", "/setpoint/pods/bob/nope", "/setpoint/namespaces/bob", "/setpoint/namespaces/nope",
		"/setpoint/leases/kube-system/x", "/registry/anything", "/setpoint/compact_rev_key", "/setpoint/pods/bob"} {
		code, body := as("alicetok", "POST", leases, `{"metadata":{"name":"f1"}}`, "X-Setpoint-Fence", key+"=1")
		if code != 403 || strings.Contains(body, "revision") || strings.Contains(body, "gone") || strings.Contains(body, "exist") {
			t.Errorf("alice fencing on %s: %d %s, want a 403 that says nothing of the key", key, code, body)
		}
		bodies = append(bodies, strings.ReplaceAll(body, key, "KEY"))
	}
	for i := range bodies {
		if bodies[i] != bodies[0] {
			t.Errorf("the 403 differs between keys:\n%s\n%s", bodies[0], bodies[i])
		}
	}
	// bob may read pods in bob, and so may fence on them; not on others.
	if code, body := as("bobtok", "GET", "/api/v1/namespaces/bob/pods/p", ""); code != 200 {
		t.Fatalf("bob reads his pod: %d %s", code, body)
	}
	var many []string
	for i := range 17 {
		many = append(many, fmt.Sprintf("/setpoint/leases/alice/x%d=1", i))
	}
	if code, body := as("alicetok", "POST", leases, `{"metadata":{"name":"f2"}}`, "X-Setpoint-Fence", strings.Join(many, ",")); code != 400 || !strings.Contains(body, "at most 16") {
		t.Errorf("17 fences: %d %s, want 400", code, body)
	}
	if code, body := as("alicetok", "POST", leases, `{"metadata":{"name":"f3"}}`, "X-Setpoint-Fence", "/setpoint/leases/alice/mine=x"); code != 400 {
		t.Errorf("malformed fence: %d %s, want 400", code, body)
	}
	// Her own lease as a stale fence: 409 Fenced, no revision echoed.
	code, body := as("alicetok", "POST", leases, `{"metadata":{"name":"f4"}}`, "X-Setpoint-Fence", "/setpoint/leases/alice/mine=1")
	if code != 409 || !strings.Contains(body, `"reason":"Fenced"`) || strings.Contains(body, "revision") {
		t.Errorf("stale fence on her own lease: %d %s", code, body)
	}
	if got := s.revision(t); got != rev {
		t.Fatalf("refused writes wrote: revision %d -> %d", rev, got)
	}
	// And a current one lets the write through.
	if code, body := as("alicetok", "POST", leases, `{"metadata":{"name":"f5"}}`, "X-Setpoint-Fence", "/setpoint/leases/alice/mine="+l.ResourceVersion); code != 201 {
		t.Errorf("current fence: %d %s", code, body)
	}
}
