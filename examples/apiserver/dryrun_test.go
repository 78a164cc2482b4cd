package apiserver

import (
	"strings"
	"testing"
)

// TestServerSideDryRun is issue 12 case 1 (field-cases 01): dryRun=All on
// every write verb (kubectl's --dry-run=server for scale, label, create,
// apply, delete, and kubectl diff; raw requests with the query or the
// DeleteOptions body) runs admission and validation, answers with the
// would-be object, and writes nothing; an unknown dryRun value is 400.
func TestServerSideDryRun(t *testing.T) {
	requireKubectl(t)
	s := startServer(t)
	admin := s.httpClient(t, true)
	const deploy = "/apis/apps/v1/namespaces/default/deployments"
	if code, body := s.rawType(t, admin, "POST", deploy, "application/json", webDeployment); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	web := strings.Replace(deployYAML, "REPLICAS", "2", 1)
	webYAML := s.writeFile(t, "web.yaml", web)
	newYAML := s.writeFile(t, "new.yaml", strings.Replace(web, "name: web\n", "name: web-new\n", 1))
	rev := s.revision(t)
	for _, args := range [][]string{
		{"scale", "deployment", "web", "--replicas=9", "--dry-run=server"},
		{"label", "deployment", "web", "touched=yes", "--dry-run=server"},
		{"annotate", "deployment", "web", "a=b", "--dry-run=server"},
		{"create", "-f", newYAML, "--dry-run=server"},
		{"apply", "-f", webYAML, "--dry-run=server"},
		{"apply", "-f", newYAML, "--dry-run=server"},
		{"delete", "deployment", "web", "--dry-run=server"},
		{"delete", "deployments", "--all", "--dry-run=server"},
		{"set", "image", "deployment/web", "c=nginx:2", "--dry-run=server"},
	} {
		if out := s.kubectl(t, false, append([]string{"-n", "default"}, args...)...); !strings.Contains(out, "(server dry run)") {
			t.Errorf("kubectl %s: %s", strings.Join(args, " "), out)
		}
	}
	// kubectl diff asks the server what apply would do.
	diff := s.writeFile(t, "diff.yaml", strings.Replace(deployYAML, "REPLICAS", "4", 1))
	if out := s.kubectl(t, true, "-n", "default", "diff", "-f", diff); !strings.Contains(out, "replicas: 4") {
		t.Errorf("kubectl diff: %s", out)
	}
	for _, c := range []struct{ method, path, ctype, body, want string }{
		{"DELETE", deploy + "/web?dryRun=All", "", "", `"name":"web"`},
		{"DELETE", deploy + "/web", "application/json", `{"kind":"DeleteOptions","apiVersion":"v1","dryRun":["All"]}`, `"name":"web"`},
		{"DELETE", deploy + "?dryRun=All", "", "", `"name":"web"`},
		{"PATCH", deploy + "/web?dryRun=All", "application/merge-patch+json", `{"spec":{"replicas":7}}`, `"replicas":7`},
		{"PATCH", deploy + "/web/scale?dryRun=All", "application/merge-patch+json", `{"spec":{"replicas":7}}`, `"replicas":7`},
		{"PATCH", deploy + "/web/status?dryRun=All", "application/merge-patch+json", `{"status":{"replicas":1}}`, `"replicas":1`},
		{"PUT", deploy + "/web?dryRun=All", "application/json", strings.Replace(webDeployment, `"replicas":2`, `"replicas":6`, 1), `"replicas":6`},
		{"POST", deploy + "?dryRun=All", "application/json", strings.Replace(webDeployment, `"name":"web"`, `"name":"other"`, 1), `"name":"other"`},
		{"POST", "/api/v1/namespaces/default/pods?dryRun=All", "application/json", `{"metadata":{"generateName":"p-"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}`, `"generateName":"p-"`},
	} {
		code, body := s.rawType(t, admin, c.method, c.path, c.ctype, c.body)
		if code >= 300 || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: %d %s, want the would-be object", c.method, c.path, code, body)
		}
	}
	// Validation and admission still run: a dry run reports what the real
	// write would.
	for _, c := range []struct {
		method, path, ctype, body string
		code                      int
	}{
		{"PATCH", deploy + "/web?dryRun=Bogus", "application/merge-patch+json", `{"spec":{"replicas":7}}`, 400},
		{"PATCH", deploy + "/web?dryRun=", "application/merge-patch+json", `{"spec":{"replicas":7}}`, 400},
		{"DELETE", deploy + "/web", "application/json", `{"dryRun":["Some"]}`, 400},
		{"PATCH", deploy + "/web?dryRun=All", "application/merge-patch+json", `{"spec":{"replicas":-1}}`, 422},
		{"POST", deploy + "?dryRun=All", "application/json", webDeployment, 409},
		{"POST", "/api/v1/namespaces/missing/pods?dryRun=All", "application/json", podBody, 404},
		{"DELETE", deploy + "/nope?dryRun=All", "", "", 404},
	} {
		if code, body := s.rawType(t, admin, c.method, c.path, c.ctype, c.body); code != c.code {
			t.Errorf("%s %s %s: %d %s, want %d", c.method, c.path, c.body, code, body, c.code)
		}
	}
	if got := s.revision(t); got != rev {
		t.Fatalf("dry runs wrote: revision %d -> %d", rev, got)
	}
	out := s.kubectl(t, false, "-n", "default", "get", "deploy", "-o", "jsonpath={range .items[*]}{.metadata.name} {.spec.replicas} {.metadata.labels}{\"\\n\"}{end}")
	if out != "web 2 \n" {
		t.Fatalf("deployments after the dry runs: %q, want only web with 2 replicas and no labels", out)
	}
}
