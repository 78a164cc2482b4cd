package apiserver

import (
	"strings"
	"testing"
)

// TestEscalationPrevention: a namespace admin (the admin cluster role bound
// in dev) may create roles and bindings within what it holds, but not a
// role granting more, nor a binding to a role granting more; each refusal
// is a 403 with Kubernetes' message and nothing is written. Once the
// cluster admin lets it bind cluster-admin, the binding is allowed.
func TestEscalationPrevention(t *testing.T) {
	s := startServer(t)
	admin := s.httpClient(t, true)
	const j = "application/json"
	if code, body := s.rawType(t, admin, "POST", "/api/v1/namespaces", j, `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"dev"}}`); code != 201 {
		t.Fatalf("namespace: %d %s", code, body)
	}
	rb := `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"%s"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"%s","name":"%s"},"subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"%s"}]}`
	sprintf := func(f string, a ...string) string {
		for _, x := range a {
			f = strings.Replace(f, "%s", x, 1)
		}
		return f
	}
	if code, body := s.rawType(t, admin, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/dev/rolebindings", j, sprintf(rb, "dana-admin", "ClusterRole", "admin", "dana")); code != 201 {
		t.Fatalf("binding dana: %d %s", code, body)
	}
	if err := s.rbacCachesAt(s.revision(t)); err != nil {
		t.Fatal(err)
	}
	dana, _ := s.userClient(t, "dana")
	role := func(name, rules string) string {
		return `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"` + name + `"},"rules":` + rules + `}`
	}
	rev := s.revision(t)
	for _, tc := range []struct {
		name, path, body, want string
	}{
		{"role with nodes", "roles", role("nodes", `[{"verbs":["get"],"apiGroups":[""],"resources":["nodes"]}]`), `{APIGroups:[\"\"], Resources:[\"nodes\"], Verbs:[\"get\"]}`},
		{"role with everything", "roles", role("all", `[{"verbs":["*"],"apiGroups":["*"],"resources":["*"]}]`), `Verbs:[\"*\"]`},
		{"binding cluster-admin", "rolebindings", sprintf(rb, "escalate", "ClusterRole", "cluster-admin", "dana"), `is attempting to grant RBAC permissions not currently held`},
	} {
		code, body := s.rawType(t, dana, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/dev/"+tc.path, j, tc.body)
		if code != 403 || !strings.Contains(body, `user \"dana\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held`) ||
			!strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s", tc.name, code, body)
		}
	}
	if now := s.revision(t); now != rev {
		t.Errorf("refused writes changed the store: revision %d -> %d", rev, now)
	}
	// Within what dana holds: allowed.
	if code, body := s.rawType(t, dana, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/dev/roles", j,
		role("pod-reader", `[{"verbs":["get","list"],"apiGroups":[""],"resources":["pods"]}]`)); code != 201 {
		t.Fatalf("role within dana's rights: %d %s", code, body)
	}
	if code, body := s.rawType(t, dana, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/dev/rolebindings", j,
		sprintf(rb, "eve-reads", "Role", "pod-reader", "eve")); code != 201 {
		t.Fatalf("binding within dana's rights: %d %s", code, body)
	}
	// With bind on cluster-admin, dana may bind it (in dev) without holding it.
	for _, obj := range []struct{ path, body string }{
		{"clusterroles", `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"bind-admin"},"rules":[{"verbs":["bind"],"apiGroups":["rbac.authorization.k8s.io"],"resources":["clusterroles"],"resourceNames":["cluster-admin"]}]}`},
		{"namespaces/dev/rolebindings", sprintf(rb, "dana-bind", "ClusterRole", "bind-admin", "dana")},
	} {
		if code, body := s.rawType(t, admin, "POST", "/apis/rbac.authorization.k8s.io/v1/"+obj.path, j, obj.body); code != 201 {
			t.Fatalf("%s: %d %s", obj.path, code, body)
		}
	}
	if err := s.rbacCachesAt(s.revision(t)); err != nil {
		t.Fatal(err)
	}
	if code, body := s.rawType(t, dana, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/dev/rolebindings", j,
		sprintf(rb, "escalate", "ClusterRole", "cluster-admin", "dana")); code != 201 {
		t.Fatalf("binding with the bind verb: %d %s", code, body)
	}
}
