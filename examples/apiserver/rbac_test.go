package apiserver

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// userClient returns an HTTP client and a kubeconfig path for a client
// certificate user (CN) in groups (O).
func (s *testServer) userClient(t *testing.T, user string, groups ...string) (*http.Client, string) {
	t.Helper()
	cert, key, err := s.PKI().IssueClientCert(user, groups...)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := s.ClientTLS(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := Kubeconfig(s.URL(), s.PKI().CACert, cert, key, "")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(s.dir, "kubeconfig-"+strings.NewReplacer(":", "_").Replace(user))
	if err := os.WriteFile(p, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}, p
}

// kubectlAs runs kubectl with another kubeconfig.
func (s *testServer) kubectlAs(t *testing.T, kubeconfig string, wantErr bool, args ...string) string {
	t.Helper()
	saved := s.kubeconfig
	s.kubeconfig = kubeconfig
	defer func() { s.kubeconfig = saved }()
	return s.kubectl(t, wantErr, args...)
}

// TestKubectlAuthCanI: kubectl auth can-i answers from the bootstrap
// policy and from bindings made with kubectl, for the admin, a view-only
// user (impersonated with --as), and whoami names the caller.
func TestKubectlAuthCanI(t *testing.T) {
	requireKubectl(t)
	s := startServer(t)
	s.kubectl(t, false, "create", "namespace", "dev")
	s.kubectl(t, false, "create", "rolebinding", "viewers", "--clusterrole=view", "--user=viewer", "-n", "dev")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"auth", "can-i", "*", "*"}, "yes"},
		{[]string{"auth", "can-i", "delete", "nodes"}, "yes"},
		{[]string{"auth", "can-i", "list", "pods", "-n", "dev", "--as", "viewer"}, "yes"},
		{[]string{"auth", "can-i", "list", "deployments.apps", "-n", "dev", "--as", "viewer"}, "yes"},
		{[]string{"auth", "can-i", "create", "pods", "-n", "dev", "--as", "viewer"}, "no"},
		{[]string{"auth", "can-i", "get", "secrets", "-n", "dev", "--as", "viewer"}, "no"},
		{[]string{"auth", "can-i", "list", "pods", "-n", "default", "--as", "viewer"}, "no"},
		{[]string{"auth", "can-i", "get", "/version", "--as", "viewer"}, "yes"},
		{[]string{"auth", "can-i", "get", "/metrics", "--as", "viewer"}, "no"},
		{[]string{"auth", "can-i", "list", "nodes", "--as", "viewer"}, "no"},
	} {
		out := strings.TrimSpace(s.kubectl(t, tc.want == "no", tc.args...))
		// The answer is the last line (kubectl may warn before it).
		if out = out[strings.LastIndex(out, "\n")+1:]; out != tc.want {
			t.Errorf("kubectl %s: %q, want %q", strings.Join(tc.args, " "), out, tc.want)
		}
	}
	list := s.kubectl(t, false, "auth", "can-i", "--list", "-n", "dev", "--as", "viewer")
	for _, want := range []string{"deployments.apps", "selfsubjectaccessreviews.authorization.k8s.io", "[/version]"} {
		if !strings.Contains(list, want) {
			t.Errorf("can-i --list for viewer lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, "secrets ") {
		t.Errorf("can-i --list for viewer lists secrets:\n%s", list)
	}
	who := s.kubectl(t, false, "auth", "whoami")
	if !strings.Contains(who, "admin") || !strings.Contains(who, "system:masters") || !strings.Contains(who, "system:authenticated") {
		t.Errorf("whoami: %s", who)
	}
	who = s.kubectl(t, false, "auth", "whoami", "--as", "viewer", "--as-group", "team")
	if !strings.Contains(who, "viewer") || !strings.Contains(who, "team") {
		t.Errorf("whoami --as viewer: %s", who)
	}
}

// TestImpersonation: only a caller allowed to impersonate a user (and each
// group) may act as them; each refusal is a 403 naming what was refused.
func TestImpersonation(t *testing.T) {
	s := startServer(t)
	admin := s.httpClient(t, true)
	alice, _ := s.userClient(t, "alice")
	whoami := `{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`
	post := func(hc *http.Client, body string, headers ...string) (int, string) {
		return s.rawType(t, hc, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", "application/json", body, headers...)
	}
	code, body := post(alice, whoami, "Impersonate-User", "bob")
	if code != 403 || !strings.Contains(body, `User \"alice\" cannot impersonate resource \"users\"`) {
		t.Fatalf("alice impersonating bob: %d %s", code, body)
	}
	code, body = post(alice, whoami, "Impersonate-Group", "system:masters")
	if code != 400 || !strings.Contains(body, "without impersonating a user") {
		t.Fatalf("group without user: %d %s", code, body)
	}
	// Let alice impersonate bob, but not the group system:masters.
	for _, obj := range []string{
		`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"impersonate-bob"},"rules":[{"verbs":["impersonate"],"apiGroups":[""],"resources":["users"],"resourceNames":["bob"]}]}`,
		`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"alice-bob"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"impersonate-bob"},"subjects":[{"kind":"User","name":"alice","apiGroup":"rbac.authorization.k8s.io"}]}`,
	} {
		res := "clusterroles"
		if strings.Contains(obj, "ClusterRoleBinding") {
			res = "clusterrolebindings"
		}
		if code, body := s.rawType(t, admin, "POST", "/apis/rbac.authorization.k8s.io/v1/"+res, "application/json", obj); code != 201 {
			t.Fatalf("creating %s: %d %s", res, code, body)
		}
	}
	if err := s.rbacCachesAt(s.revision(t)); err != nil {
		t.Fatal(err)
	}
	code, body = post(alice, whoami, "Impersonate-User", "bob")
	if code != 201 || !strings.Contains(body, `"username":"bob"`) || !strings.Contains(body, "system:authenticated") {
		t.Fatalf("alice impersonating bob: %d %s", code, body)
	}
	code, body = post(alice, whoami, "Impersonate-User", "carol")
	if code != 403 || !strings.Contains(body, `users \"carol\" is forbidden`) {
		t.Fatalf("alice impersonating carol: %d %s", code, body)
	}
	code, body = post(alice, whoami, "Impersonate-User", "bob", "Impersonate-Group", "system:masters")
	if code != 403 || !strings.Contains(body, `groups \"system:masters\" is forbidden`) {
		t.Fatalf("alice impersonating bob in system:masters: %d %s", code, body)
	}
	// As bob, alice has bob's rights only: none on pods.
	code, body = s.rawType(t, alice, "GET", "/api/v1/namespaces/default/pods", "", "", "Impersonate-User", "bob")
	if code != 403 || !strings.Contains(body, `User \"bob\" cannot list resource \"pods\"`) {
		t.Fatalf("listing pods as bob: %d %s", code, body)
	}
}
