package authz

import (
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/store"
)

func testSource() *MapSource {
	cr := func(name string, rules ...rbac.PolicyRule) *rbac.ClusterRole {
		return &rbac.ClusterRole{ObjectMeta: store.ObjectMeta{Name: name}, Rules: rules}
	}
	return NewMapSource(
		[]*rbac.Role{{ObjectMeta: store.ObjectMeta{Namespace: "dev", Name: "pod-reader"},
			Rules: []rbac.PolicyRule{rule(v("get", "list"), core, "pods", "pods/log")}}},
		[]*rbac.ClusterRole{
			cr("node-reader", rule(read, core, "nodes")),
			cr("cm-one", named(rule(v("get", "update"), core, "configmaps"), "settings")),
			cr("scaler", rule(v("update"), v("apps"), "*/scale")),
			cr("status-all", rule(v("get"), core, "pods/*")),
			cr("metrics", urls(v("get"), "/metrics", "/logs/*")),
			cr("deployer", rule(v("*"), v("apps"), "deployments")),
		},
		[]*rbac.RoleBinding{
			{ObjectMeta: store.ObjectMeta{Namespace: "dev", Name: "alice-reads"}, Subjects: users("alice"),
				RoleRef: rbac.RoleRef{Kind: "Role", Name: "pod-reader"}},
			{ObjectMeta: store.ObjectMeta{Namespace: "dev", Name: "deployers"}, Subjects: groups("devs"),
				RoleRef: rbac.RoleRef{Kind: "ClusterRole", Name: "deployer"}},
			{ObjectMeta: store.ObjectMeta{Namespace: "dev", Name: "sa"}, Subjects: []rbac.Subject{{Kind: rbac.ServiceAccountKind, Name: "robot"}},
				RoleRef: rbac.RoleRef{Kind: "ClusterRole", Name: "cm-one"}},
		},
		[]*rbac.ClusterRoleBinding{
			{ObjectMeta: store.ObjectMeta{Name: "ops-nodes"}, Subjects: groups("ops"), RoleRef: rbac.RoleRef{Kind: "ClusterRole", Name: "node-reader"}},
			{ObjectMeta: store.ObjectMeta{Name: "ops-scale"}, Subjects: groups("ops"), RoleRef: rbac.RoleRef{Kind: "ClusterRole", Name: "scaler"}},
			{ObjectMeta: store.ObjectMeta{Name: "ops-status"}, Subjects: groups("ops"), RoleRef: rbac.RoleRef{Kind: "ClusterRole", Name: "status-all"}},
			{ObjectMeta: store.ObjectMeta{Name: "mon"}, Subjects: users("prom"), RoleRef: rbac.RoleRef{Kind: "ClusterRole", Name: "metrics"}},
			{ObjectMeta: store.ObjectMeta{Name: "dangling"}, Subjects: users("ghost"), RoleRef: rbac.RoleRef{Kind: "ClusterRole", Name: "missing"}},
		},
	)
}

func res(user string, groups []string, verb, group, resource, sub, ns, name string) *Attributes {
	return &Attributes{User: User{Name: user, Groups: groups}, Verb: verb, ResourceRequest: true,
		APIGroup: group, Resource: resource, Subresource: sub, Namespace: ns, Name: name}
}

func nonRes(user, verb, path string) *Attributes {
	return &Attributes{User: User{Name: user}, Verb: verb, Path: path}
}

func TestRBACAuthorize(t *testing.T) {
	z := NewRBAC(testSource())
	ops := []string{"ops"}
	for _, tc := range []struct {
		name string
		a    *Attributes
		want Decision
	}{
		{"role in its namespace", res("alice", nil, "get", "", "pods", "", "dev", "p"), Allow},
		{"role subresource", res("alice", nil, "get", "", "pods", "log", "dev", "p"), Allow},
		{"role: other subresource", res("alice", nil, "get", "", "pods", "exec", "dev", "p"), NoOpinion},
		{"role: other verb", res("alice", nil, "delete", "", "pods", "", "dev", "p"), NoOpinion},
		{"role: other namespace", res("alice", nil, "get", "", "pods", "", "prod", "p"), NoOpinion},
		{"role: all namespaces", res("alice", nil, "list", "", "pods", "", "", ""), NoOpinion},
		{"role: other group", res("alice", nil, "get", "apps", "pods", "", "dev", "p"), NoOpinion},
		{"cluster role bound in a namespace", res("bob", []string{"devs"}, "delete", "apps", "deployments", "", "dev", "d"), Allow},
		{"cluster role bound in a namespace: elsewhere", res("bob", []string{"devs"}, "delete", "apps", "deployments", "", "prod", "d"), NoOpinion},
		{"cluster role binding: cluster scope", res("carol", ops, "list", "", "nodes", "", "", ""), Allow},
		{"cluster role binding: not a member", res("carol", nil, "list", "", "nodes", "", "", ""), NoOpinion},
		{"resource names: named", res("system:serviceaccount:dev:robot", nil, "get", "", "configmaps", "", "dev", "settings"), Allow},
		{"resource names: other name", res("system:serviceaccount:dev:robot", nil, "get", "", "configmaps", "", "dev", "other"), NoOpinion},
		{"resource names: list has no name", res("system:serviceaccount:dev:robot", nil, "list", "", "configmaps", "", "dev", ""), NoOpinion},
		{"service account of another namespace", res("system:serviceaccount:prod:robot", nil, "get", "", "configmaps", "", "dev", "settings"), NoOpinion},
		{"*/scale", res("carol", ops, "update", "apps", "deployments", "scale", "x", "d"), Allow},
		{"*/scale is not the resource", res("carol", ops, "update", "apps", "deployments", "", "x", "d"), NoOpinion},
		{"pods/*", res("carol", ops, "get", "", "pods", "status", "x", "p"), Allow},
		{"pods/* is not pods", res("carol", ops, "get", "", "pods", "", "x", "p"), NoOpinion},
		{"non-resource exact", nonRes("prom", "get", "/metrics"), Allow},
		{"non-resource prefix", nonRes("prom", "get", "/logs/kubelet.log"), Allow},
		{"non-resource other path", nonRes("prom", "get", "/metricsx"), NoOpinion},
		{"non-resource other verb", nonRes("prom", "post", "/metrics"), NoOpinion},
		{"dangling role ref", res("ghost", nil, "get", "", "pods", "", "dev", "p"), NoOpinion},
	} {
		if got, why := z.Authorize(tc.a); got != tc.want {
			t.Errorf("%s: %v (%s), want %v", tc.name, got, why, tc.want)
		} else if got == Allow && !strings.HasPrefix(why, "RBAC: allowed by ") {
			t.Errorf("%s: reason %q", tc.name, why)
		}
	}
}

func TestRulesForAndEscalation(t *testing.T) {
	z := NewRBAC(testSource())
	alice := &User{Name: "alice", Groups: []string{"system:authenticated"}}
	if got := z.RulesFor(alice, "dev"); len(got) != 1 || got[0].Resources[0] != "pods" {
		t.Fatalf("RulesFor(alice, dev) = %v", got)
	}
	if got := z.RulesFor(alice, "prod"); len(got) != 0 {
		t.Fatalf("RulesFor(alice, prod) = %v", got)
	}
	if err := z.ConfirmNoEscalation(alice, "dev", []rbac.PolicyRule{rule(v("get"), core, "pods")}); err != nil {
		t.Errorf("granting what alice holds: %v", err)
	}
	for _, tc := range []struct {
		name  string
		ns    string
		rules []rbac.PolicyRule
		want  string
	}{
		{"more verbs", "dev", []rbac.PolicyRule{rule(v("get", "delete"), core, "pods")}, `{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}`},
		{"wildcard verb", "dev", []rbac.PolicyRule{rule(v("*"), core, "pods")}, `Verbs:["*"]`},
		{"wildcard resource", "dev", []rbac.PolicyRule{rule(v("get"), core, "*")}, `Resources:["*"]`},
		{"other namespace", "prod", []rbac.PolicyRule{rule(v("get"), core, "pods")}, `Resources:["pods"]`},
		{"other subresource", "dev", []rbac.PolicyRule{rule(v("get"), core, "pods/exec")}, `pods/exec`},
		{"non-resource", "dev", []rbac.PolicyRule{urls(v("get"), "/metrics")}, `NonResourceURLs:["/metrics"]`},
	} {
		err := z.ConfirmNoEscalation(alice, tc.ns, tc.rules)
		if err == nil {
			t.Errorf("%s: escalation allowed", tc.name)
			continue
		}
		want := `user "alice" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:`
		if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q and %q", tc.name, err, want, tc.want)
		}
	}
	robot := &User{Name: "system:serviceaccount:dev:robot"}
	if err := z.ConfirmNoEscalation(robot, "dev", []rbac.PolicyRule{named(rule(v("get"), core, "configmaps"), "settings")}); err != nil {
		t.Errorf("granting a named permission one holds: %v", err)
	}
	if err := z.ConfirmNoEscalation(robot, "dev", []rbac.PolicyRule{rule(v("get"), core, "configmaps")}); err == nil {
		t.Error("a named permission covered every name")
	}
	// Wildcards and prefixes held cover narrower grants.
	prom := &User{Name: "prom"}
	if err := z.ConfirmNoEscalation(prom, "", []rbac.PolicyRule{urls(v("get"), "/logs/a", "/logs/*")}); err != nil {
		t.Errorf("prefix URL: %v", err)
	}
	if err := z.ConfirmNoEscalation(prom, "", []rbac.PolicyRule{urls(v("get"), "/*")}); err == nil {
		t.Error("/logs/* covered /*")
	}
}

func TestAggregateRules(t *testing.T) {
	roles := BootstrapClusterRoles()
	byName := map[string]*rbac.ClusterRole{}
	for _, r := range roles {
		byName[r.Name] = r
	}
	// Passes until nothing changes: view into edit, edit into admin.
	for range 3 {
		for _, r := range roles {
			if r.AggregationRule != nil {
				r.Rules = AggregateRules(r, roles)
			}
		}
	}
	z := NewRBAC(NewMapSource(nil, roles, []*rbac.RoleBinding{
		{ObjectMeta: store.ObjectMeta{Namespace: "dev", Name: "v"}, Subjects: users("viewer"), RoleRef: rbac.RoleRef{Kind: "ClusterRole", Name: "view"}},
		{ObjectMeta: store.ObjectMeta{Namespace: "dev", Name: "e"}, Subjects: users("editor"), RoleRef: rbac.RoleRef{Kind: "ClusterRole", Name: "edit"}},
		{ObjectMeta: store.ObjectMeta{Namespace: "dev", Name: "a"}, Subjects: users("admin"), RoleRef: rbac.RoleRef{Kind: "ClusterRole", Name: "admin"}},
	}, nil))
	for _, tc := range []struct {
		user, verb, group, resource string
		want                        Decision
	}{
		{"viewer", "list", "apps", "deployments", Allow},
		{"viewer", "delete", "apps", "deployments", NoOpinion},
		{"viewer", "get", "", "secrets", NoOpinion},
		{"editor", "delete", "apps", "deployments", Allow},
		{"editor", "get", "apps", "deployments", Allow}, // view's rules, through edit's label
		{"editor", "create", "rbac.authorization.k8s.io", "rolebindings", NoOpinion},
		{"admin", "create", "rbac.authorization.k8s.io", "rolebindings", Allow},
		{"admin", "list", "", "pods", Allow}, // view into edit into admin
	} {
		if got, why := z.Authorize(res(tc.user, nil, tc.verb, tc.group, tc.resource, "", "dev", "x")); got != tc.want {
			t.Errorf("%s %s %s: %v (%s), want %v", tc.user, tc.verb, tc.resource, got, why, tc.want)
		}
	}
	// A selector that matches nothing, and an empty selector, add nothing.
	lonely := &rbac.ClusterRole{ObjectMeta: store.ObjectMeta{Name: "lonely"}, AggregationRule: &rbac.AggregationRule{
		ClusterRoleSelectors: []api.LabelSelector{{MatchLabels: map[string]string{"none": "true"}}, {}}}}
	if got := AggregateRules(lonely, roles); len(got) != 0 {
		t.Errorf("lonely aggregated %v", got)
	}
}

func TestReconcileBootstrap(t *testing.T) {
	want := BootstrapClusterRoles()[0] // cluster-admin
	trimmed := want.DeepCopy()
	trimmed.Rules = trimmed.Rules[:1]
	trimmed.Rules = append(trimmed.Rules, rule(v("get"), core, "extra"))
	got, changed := ReconcileClusterRole(trimmed, want)
	if !changed || len(got.Rules) != 3 || len(trimmed.Rules) != 2 {
		t.Fatalf("repair: changed=%v rules=%v (input now %v)", changed, got.Rules, trimmed.Rules)
	}
	if _, changed := ReconcileClusterRole(got, want); changed {
		t.Error("a repaired role changed again")
	}
	trimmed.Annotations = map[string]string{AutoupdateAnnotation: "false"}
	if _, changed := ReconcileClusterRole(trimmed, want); changed {
		t.Error("autoupdate=false was repaired")
	}
	b := BootstrapClusterRoleBindings()[0]
	empty := b.DeepCopy()
	empty.Subjects = nil
	got2, changed, err := ReconcileClusterRoleBinding(empty, b)
	if err != nil || !changed || len(got2.Subjects) != 1 {
		t.Fatalf("binding repair: %v %v %v", got2.Subjects, changed, err)
	}
	other := b.DeepCopy()
	other.RoleRef.Name = "view"
	if _, _, err := ReconcileClusterRoleBinding(other, b); err == nil || !strings.Contains(err.Error(), "roleRef") {
		t.Errorf("roleRef mismatch: %v", err)
	}
}
