package apiserver

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestGenerateName is issue 12 case 7 (field-cases 08): the prefix is cut
// so the generated name has at most 63 characters, and both the prefix and
// the generated name obey the kind's own name rules (422 otherwise, nothing
// stored).
func TestGenerateName(t *testing.T) {
	requireKubectl(t)
	s := startServer(t)
	admin := s.httpClient(t, true)
	create := func(path, body string) (int, string, string) {
		t.Helper()
		code, resp := s.rawType(t, admin, "POST", path, "application/json", body)
		var m struct {
			Metadata struct{ Name string } `json:"metadata"`
		}
		json.Unmarshal([]byte(resp), &m)
		return code, resp, m.Metadata.Name
	}
	svc := func(prefix string) string {
		return `{"metadata":{"generateName":"` + prefix + `"},"spec":{"selector":{"app":"web"},"ports":[{"port":80}]}}`
	}
	rev := s.revision(t)
	for _, c := range []struct{ path, body string }{
		{"/api/v1/namespaces/default/services", svc("1svc-")},             // (a) not a DNS-1035 label
		{"/api/v1/namespaces", `{"metadata":{"generateName":"team.a-"}}`}, // (c) not a DNS-1123 label
		{"/api/v1/namespaces", `{"metadata":{"generateName":"` + strings.Repeat("n", 64) + `-"}}`},
		{"/api/v1/namespaces/default/pods", `{"metadata":{"generateName":"Web-"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}`},
	} {
		code, resp, _ := create(c.path, c.body)
		if code != 422 || !strings.Contains(resp, "metadata.generateName") {
			t.Errorf("POST %s %s: %d %s, want 422 naming metadata.generateName", c.path, c.body, code, resp)
		}
	}
	if got := s.revision(t); got != rev {
		t.Fatalf("refused creates were stored: revision %d -> %d", rev, got)
	}
	// (b) a 60-character prefix: cut to 58, the name is 63 long, and the
	// object can be updated afterwards.
	code, resp, name := create("/api/v1/namespaces/default/services", svc(strings.Repeat("a", 59)+"-"))
	if code != 201 || len(name) != 63 || !strings.HasPrefix(name, strings.Repeat("a", 58)) {
		t.Fatalf("60-character prefix: %d %s (name %q)", code, resp, name)
	}
	s.kubectl(t, false, "label", "svc", name, "x=y")
	// (d) a 250-character Pod prefix.
	code, resp, name = create("/api/v1/namespaces/default/pods", `{"metadata":{"generateName":"`+strings.Repeat("p", 250)+`"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}`)
	if code != 201 || len(name) != 63 {
		t.Fatalf("250-character pod prefix: %d %s (name %q)", code, resp, name)
	}
	// A generated namespace is usable and deletable.
	out := s.kubectl(t, false, "create", "-f", s.writeFile(t, "ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {generateName: team-}\n"), "-o", "jsonpath={.metadata.name}")
	if !strings.HasPrefix(out, "team-") || len(out) != len("team-")+5 {
		t.Fatalf("generated namespace %q", out)
	}
	if _, err := podClient(t, s).Create(context.Background(), newPod(out, "p", nil)); err != nil {
		t.Fatalf("pod in the generated namespace: %v", err)
	}
	// kubectl shows the same 422 for a bad prefix.
	msg := s.kubectl(t, true, "create", "-f", s.writeFile(t, "svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {generateName: 1svc-, namespace: default}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n"))
	if !strings.Contains(msg, "metadata.generateName") || !strings.Contains(msg, "is invalid") {
		t.Fatalf("kubectl create with generateName 1svc-: %s", msg)
	}
}
