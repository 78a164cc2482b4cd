package apiserver

import (
	"net/http"
	"strings"
	"testing"
)

// TestNodeAuthorization: a kubelet (client certificate CN system:node:n1,
// O system:nodes) may write its own node and the status of its own pods,
// and read the secrets its pods use (by name, or listed with the field
// selector metadata.name=<n>); another node, another node's pod
// status, its own node-restriction labels and other secrets are each a 403
// naming the rule, and nothing is written.
func TestNodeAuthorization(t *testing.T) {
	requireKubectl(t)
	s := startServer(t)
	admin := s.httpClient(t, true)
	must := func(hc *http.Client, method, path, ctype, body string, want int) string {
		t.Helper()
		code, out := s.rawType(t, hc, method, path, ctype, body)
		if code != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, code, want, out)
		}
		return out
	}
	const j, mp = "application/json", "application/merge-patch+json"
	for _, n := range []string{"n1", "n2"} {
		must(admin, "POST", "/api/v1/nodes", j, `{"apiVersion":"v1","kind":"Node","metadata":{"name":"`+n+`","labels":{"node-restriction.kubernetes.io/pool":"a"}}}`, 201)
		must(admin, "POST", "/api/v1/namespaces/default/secrets", j, `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s-`+n+`"},"stringData":{"k":"v"}}`, 201)
		must(admin, "POST", "/api/v1/namespaces/default/pods", j, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p-`+n+`"},"spec":{"nodeName":"`+n+`",`+
			`"containers":[{"name":"c","image":"nginx","env":[{"name":"E","valueFrom":{"secretKeyRef":{"name":"s-`+n+`","key":"k"}}}]}]}}`, 201)
	}
	if err := s.rbacCachesAt(s.revision(t)); err != nil {
		t.Fatal(err)
	}
	if err := s.podGraphAt(s.revision(t)); err != nil {
		t.Fatal(err)
	}
	kubelet, _ := s.userClient(t, "system:node:n1", "system:nodes")
	rev := s.revision(t)
	for _, tc := range []struct {
		method, path, ctype, body, want string
	}{
		{"PATCH", "/api/v1/nodes/n2", mp, `{"metadata":{"labels":{"x":"y"}}}`, `node \"n1\" may not modify node \"n2\"`},
		{"PATCH", "/api/v1/nodes/n2/status", mp, `{"status":{"phase":"Running"}}`, `node \"n1\" may not modify node \"n2\"`},
		{"DELETE", "/api/v1/nodes/n2", "", "", `node \"n1\" may not modify node \"n2\"`},
		{"PATCH", "/api/v1/namespaces/default/pods/p-n2/status", mp, `{"status":{"message":"x"}}`, `may only update the status of pods bound to it`},
		{"PATCH", "/api/v1/nodes/n1", mp, `{"metadata":{"labels":{"node-restriction.kubernetes.io/pool":"b"}}}`, `node \"n1\" is not allowed to modify labels: node-restriction.kubernetes.io/pool`},
		{"PATCH", "/api/v1/nodes/n1", mp, `{"metadata":{"labels":{"node-restriction.kubernetes.io/pool":null}}}`, `is not allowed to modify labels`},
		{"PATCH", "/api/v1/nodes/n1", mp, `{"metadata":{"labels":{"kubernetes.io/role":"master"}}}`, `is not allowed to modify labels: kubernetes.io/role`},
		{"GET", "/api/v1/namespaces/default/secrets/s-n2", "", "", `no relationship found between node \"n1\" and this object`},
		{"GET", "/api/v1/namespaces/default/secrets", "", "", `may only get individual secrets`},
		{"GET", "/api/v1/namespaces/default/secrets?fieldSelector=metadata.name%3Ds-n2", "", "", `no relationship found between node \"n1\" and this object`},
		{"GET", "/api/v1/namespaces/default/secrets?watch=1&fieldSelector=metadata.name%3Ds-n2", "", "", `no relationship found between node \"n1\" and this object`},
		{"GET", "/api/v1/namespaces/default/secrets?fieldSelector=metadata.name!%3Ds-n2", "", "", `may only get individual secrets`},
		{"POST", "/api/v1/namespaces/default/pods", j, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"m"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"nginx"}]}}`, `can only create mirror pods`},
		{"PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n2", j, `{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"n2"}}`, `may only modify its own lease`},
	} {
		code, body := s.rawType(t, kubelet, tc.method, tc.path, tc.ctype, tc.body)
		if code != 403 || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s: %d %s, want 403 with %q", tc.method, tc.path, code, body, tc.want)
		}
	}
	if now := s.revision(t); now != rev {
		t.Errorf("refused requests wrote: revision %d -> %d", rev, now)
	}
	// What is its own is allowed.
	must(kubelet, "GET", "/api/v1/namespaces/default/secrets/s-n1", "", "", 200)
	// A list narrowed to one of its pods' secrets by metadata.name is
	// allowed, and holds that secret only.
	if out := must(kubelet, "GET", "/api/v1/namespaces/default/secrets?fieldSelector=metadata.name%3Ds-n1", "", "", 200); !strings.Contains(out, `"s-n1"`) || strings.Contains(out, `"s-n2"`) {
		t.Errorf("list of secret s-n1 by field selector: %s", out)
	}
	if out := must(kubelet, "GET", "/api/v1/namespaces/default/secrets?watch=1&timeoutSeconds=1&fieldSelector=metadata.name%3Ds-n1", "", "", 200); !strings.Contains(out, `"s-n1"`) || strings.Contains(out, `"s-n2"`) {
		t.Errorf("watch of secret s-n1 by field selector: %s", out)
	}
	must(kubelet, "PATCH", "/api/v1/nodes/n1", mp, `{"metadata":{"labels":{"example.com/disk":"ssd","kubernetes.io/hostname":"n1"}}}`, 200)
	must(kubelet, "PATCH", "/api/v1/namespaces/default/pods/p-n1/status", mp, `{"status":{"message":"hi"}}`, 200)
	must(kubelet, "GET", "/api/v1/nodes/n2", "", "", 200)
	if out := must(admin, "GET", "/api/v1/nodes/n2", "", "", 200); strings.Contains(out, `"x":"y"`) {
		t.Errorf("node n2 was changed: %s", out)
	}
	if out := must(admin, "GET", "/api/v1/nodes/n1", "", "", 200); !strings.Contains(out, `"node-restriction.kubernetes.io/pool":"a"`) {
		t.Errorf("node n1's restricted label changed: %s", out)
	}

	// kubectl auth can-i as the node.
	as := []string{"--as", "system:node:n1", "--as-group", "system:nodes"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "secrets/s-n1", "-n", "default"}, "yes"},
		{[]string{"get", "secrets/s-n2", "-n", "default"}, "no"},
		{[]string{"patch", "nodes/n1"}, "yes"},
		{[]string{"patch", "nodes/n2"}, "no"},
		{[]string{"list", "pods", "-A"}, "yes"},
		{[]string{"create", "deployments.apps", "-n", "default"}, "no"},
	} {
		args := append(append([]string{"auth", "can-i"}, tc.args...), as...)
		out := strings.TrimSpace(s.kubectl(t, tc.want == "no", args...))
		// A denial comes with its reason: "no - <reason>".
		if out = out[strings.LastIndex(out, "\n")+1:]; out != tc.want && !strings.HasPrefix(out, tc.want+" - ") {
			t.Errorf("kubectl %s: %q, want %q", strings.Join(args, " "), out, tc.want)
		}
	}
}
