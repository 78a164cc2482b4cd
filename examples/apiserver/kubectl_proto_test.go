package apiserver

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestKubectlDefaults: kubectl 1.32 with its default settings discovers
// in two requests (aggregated discovery), creates a namespace, deployment,
// service and quota with protobuf bodies, and fetches the OpenAPI v2
// document in protobuf for a client-side apply.
func TestKubectlDefaults(t *testing.T) {
	requireKubectl(t)
	s := startServer(t)

	out := s.kubectl(t, false, "api-resources", "-v=6")
	gets := regexp.MustCompile(`GET https://\S+?(/\S*?)\?`).FindAllStringSubmatch(out, -1)
	var paths []string
	for _, g := range gets {
		paths = append(paths, g[1])
	}
	if strings.Join(paths, " ") != "/api /apis" {
		t.Errorf("kubectl api-resources requested %v, want /api and /apis only (aggregated discovery)", paths)
	}
	for _, want := range []string{"deployments", "leases", "namespaces"} {
		if !regexp.MustCompile(`(?m)^` + want + `\s`).MatchString(out) {
			t.Errorf("kubectl api-resources does not list %s:\n%s", want, out)
		}
	}

	for _, args := range [][]string{
		{"create", "namespace", "kc"},
		{"create", "deployment", "web", "--image=nginx", "-n", "kc"},
		{"create", "service", "clusterip", "web", "--tcp=80:80", "-n", "kc"},
		{"create", "quota", "q", "--hard=pods=10", "-n", "kc"},
	} {
		out := s.kubectl(t, false, append(args, "-v=8")...)
		if !strings.Contains(out, "Content-Type: application/vnd.kubernetes.protobuf") || !strings.Contains(out, "201 Created") {
			t.Errorf("kubectl %s: no protobuf body or no 201:\n%s", strings.Join(args, " "), out)
		}
	}
	if out := s.kubectl(t, false, "get", "deployment/web", "service/web", "quota/q", "-n", "kc", "-o", "name"); !strings.Contains(out, "deployment.apps/web") ||
		!strings.Contains(out, "service/web") || !strings.Contains(out, "resourcequota/q") {
		t.Errorf("kubectl get after the creates: %s", out)
	}

	// A client-side apply of a change reads the OpenAPI v2 document, which
	// it asks for in protobuf.
	dep := s.writeFile(t, "dep.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: kc}\nspec:\n  replicas: 1\n"+
		"  selector: {matchLabels: {app: app}}\n  template:\n    metadata: {labels: {app: app}}\n    spec: {containers: [{name: c, image: nginx}]}\n")
	s.kubectl(t, false, "apply", "-f", dep)
	data, err := os.ReadFile(dep)
	if err != nil {
		t.Fatal(err)
	}
	s.writeFile(t, "dep.yaml", strings.Replace(string(data), "replicas: 1", "replicas: 2", 1))
	out = s.kubectl(t, false, "apply", "-f", dep, "-v=8")
	if !strings.Contains(out, "Content-Type: application/com.github.proto-openapi.spec.v2@v1.0+protobuf") {
		t.Errorf("kubectl apply did not get the OpenAPI v2 document in protobuf:\n%s", out)
	}
	if out := s.kubectl(t, false, "get", "deployment/app", "-n", "kc", "-o", "jsonpath={.spec.replicas}"); out != "2" {
		t.Errorf("replicas after apply: %q, want 2", out)
	}
}
