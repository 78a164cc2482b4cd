package apiserver

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

const webDeployment = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":2,
	"strategy":{"type":"Recreate"},"selector":{"matchLabels":{"app":"web"}},
	"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx:1.27"}]}}}}`

// TestPatchSemantics is issue 12 cases 2, 3 and 14 (field-cases 02, 03,
// tenant/06): strategic merge directives are validated (400), a JSON patch
// sees the stored object with its resourceVersion (so a conditional patch
// works), a patch that does not apply is 422 naming the full path, a
// copy bomb is refused before it is built, and nothing is written by any
// refused patch, on the object and on its subresources.
func TestPatchSemantics(t *testing.T) {
	s := startServer(t)
	admin := s.httpClient(t, true)
	const dep = "/apis/apps/v1/namespaces/default/deployments/web"
	const smp, jp, mp = "application/strategic-merge-patch+json", "application/json-patch+json", "application/merge-patch+json"
	if code, body := s.rawType(t, admin, "POST", "/apis/apps/v1/namespaces/default/deployments", "application/json", webDeployment); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	get := func() map[string]any {
		t.Helper()
		_, body := s.rawType(t, admin, "GET", dep, "", "")
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	rvOf := func(m map[string]any) string { return m["metadata"].(map[string]any)["resourceVersion"].(string) }
	rv := rvOf(get())
	rev := s.revision(t)
	for _, c := range []struct {
		name, path, ctype, body string
		code                    int
		want                    string
	}{
		{"retainKeys leaves out rollingUpdate", dep, smp, `{"spec":{"strategy":{"$retainKeys":["type"],"type":"RollingUpdate","rollingUpdate":{"maxSurge":2}}}}`, 400, "retainKeys"},
		{"setElementOrder names another container", dep, smp, `{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"x"}],"containers":[{"name":"c","image":"nginx:2"}]}}}}`, 400, "setElementOrder"},
		{"test of a stale resourceVersion", dep, jp, `[{"op":"test","path":"/metadata/resourceVersion","value":"1"},{"op":"replace","path":"/spec/replicas","value":3}]`, 422, "/metadata/resourceVersion"},
		{"remove a missing label", dep, jp, `[{"op":"remove","path":"/metadata/labels/nope"}]`, 422, "/metadata/labels does not exist"},
		{"replace a missing field", dep, jp, `[{"op":"replace","path":"/spec/paused/x","value":true}]`, 422, "/spec/paused does not exist"},
		{"index out of range", dep, jp, `[{"op":"add","path":"/spec/template/spec/containers/99999999999999999999","value":{}}]`, 422, "/spec/template/spec/containers/99999999999999999999"},
		{"malformed JSON patch", dep, jp, `[{"op":"frobnicate","path":"/a"}]`, 400, "unknown op"},
		{"not a JSON patch", dep, jp, `{"op":"add"}`, 400, "array"},
		{"a changed resourceVersion is a precondition", dep, mp, `{"metadata":{"resourceVersion":"1"},"spec":{"replicas":4}}`, 409, "modified"},
		{"JSON patch of a stale resourceVersion", dep, jp, `[{"op":"replace","path":"/metadata/resourceVersion","value":"1"},{"op":"replace","path":"/spec/replicas","value":4}]`, 409, "modified"},
		{"scale: test fails", dep + "/scale", jp, `[{"op":"test","path":"/spec/replicas","value":7},{"op":"replace","path":"/spec/replicas","value":8}]`, 422, "/spec/replicas"},
		{"scale: missing path", dep + "/scale", jp, `[{"op":"remove","path":"/metadata/labels/x"}]`, 422, "/metadata/labels does not exist"},
		{"status: missing path", dep + "/status", jp, `[{"op":"remove","path":"/status/conditions/0"}]`, 422, "/status/conditions does not exist"},
	} {
		code, body := s.rawType(t, admin, "PATCH", c.path, c.ctype, c.body)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s, want %d containing %q", c.name, code, body, c.code, c.want)
		}
	}
	if got := s.revision(t); got != rev {
		t.Fatalf("refused patches wrote: revision %d -> %d", rev, got)
	}
	m := get()
	if st := m["spec"].(map[string]any)["strategy"].(map[string]any); st["type"] != "Recreate" || st["rollingUpdate"] != nil {
		t.Fatalf("strategy changed: %v", st)
	}
	// A conditional JSON patch on the current resourceVersion applies.
	code, body := s.rawType(t, admin, "PATCH", dep, jp, fmt.Sprintf(`[{"op":"test","path":"/metadata/resourceVersion","value":%q},{"op":"replace","path":"/spec/replicas","value":3}]`, rv))
	if code != 200 || !strings.Contains(body, `"replicas":3`) {
		t.Fatalf("conditional JSON patch: %d %s", code, body)
	}
	// So does one on the scale subresource.
	rv = rvOf(get())
	code, body = s.rawType(t, admin, "PATCH", dep+"/scale", jp, fmt.Sprintf(`[{"op":"test","path":"/metadata/resourceVersion","value":%q},{"op":"replace","path":"/spec/replicas","value":5}]`, rv))
	if code != 200 || !strings.Contains(body, `"replicas":5`) {
		t.Fatalf("conditional scale patch: %d %s", code, body)
	}

	// The copy bomb: refused (422) before the document is built; more than
	// 10000 operations: 413. Both write nothing.
	rev = s.revision(t)
	var ops []string
	for i := range 40 {
		ops = append(ops, fmt.Sprintf(`{"op":"copy","from":"/spec","path":"/spec/x%d"}`, i))
	}
	code, body = s.rawType(t, admin, "PATCH", dep, jp, "["+strings.Join(ops, ",")+"]")
	if code != 422 || !strings.Contains(body, "more than") {
		t.Fatalf("copy bomb: %d %s", code, body)
	}
	code, body = s.rawType(t, admin, "PATCH", dep, jp, "["+strings.Repeat(`{"op":"test","path":"/kind","value":"Deployment"},`, 10000)+`{"op":"test","path":"/kind","value":"Deployment"}]`)
	if code != 413 || !strings.Contains(body, "10000") {
		t.Fatalf("10001 operations: %d %.200s", code, body)
	}
	if got := s.revision(t); got != rev {
		t.Fatalf("refused patches wrote: revision %d -> %d", rev, got)
	}
}
