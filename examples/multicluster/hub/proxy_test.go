package hub_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/multicluster/hub"
	"github.com/setpoint-dev/setpoint/examples/multicluster/mctest"
	"github.com/setpoint-dev/setpoint/examples/multicluster/tunnel"
	"github.com/setpoint-dev/setpoint/store"
)

// env is a parent, a hub, and two children "a" and "b" with their agents
// connected. In each child a ConfigMap "who" names the child, and alice
// may read ConfigMaps in "default"; bob may not. In the parent alice and
// bob may use clusters/proxy of both children; carol may not.
type env struct {
	parent   *mctest.Parent
	hub      *hub.Hub
	children map[string]*apiserver.Server
	hc       *http.Client
}

func startEnv(t *testing.T, mutate ...func(*hub.Config)) *env {
	t.Helper()
	p := mctest.StartParent(t, "agent-a", "agent-b", "alice", "bob", "carol")
	p.GrantAgent(t, "agent-a", "a")
	p.GrantAgent(t, "agent-b", "b")
	for _, u := range []string{"alice", "bob"} {
		p.Grant(t, u, "", "clusters/proxy", []string{"get", "create", "update", "patch", "delete"}, "a", "b")
	}
	h := mctest.StartHub(t, p, mutate...)
	e := &env{parent: p, hub: h, children: map[string]*apiserver.Server{}}
	for _, id := range []string{"a", "b"} {
		c := mctest.StartChild(t)
		cs := controllertest.Clientset(t, c)
		ctx := context.Background()
		if _, err := cs.ConfigMaps().Create(ctx, &api.ConfigMap{ObjectMeta: store.ObjectMeta{Name: "who", Namespace: "default"}, Data: map[string]string{"cluster": id}}); err != nil {
			t.Fatal(err)
		}
		rule := rbac.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps", "pods", "pods/log", "pods/exec"}, Verbs: []string{"get", "list", "watch", "create"}}
		if _, err := cs.Roles().Create(ctx, &rbac.Role{ObjectMeta: store.ObjectMeta{Name: "reader", Namespace: "default"}, Rules: []rbac.PolicyRule{rule}}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.RoleBindings().Create(ctx, &rbac.RoleBinding{ObjectMeta: store.ObjectMeta{Name: "alice", Namespace: "default"},
			Subjects: []rbac.Subject{{Kind: "User", APIGroup: rbac.GroupName, Name: "alice"}},
			RoleRef:  rbac.RoleRef{APIGroup: rbac.GroupName, Kind: "Role", Name: "reader"}}); err != nil {
			t.Fatal(err)
		}
		mctest.StartAgent(t, h.URL(), h.CACertPEM(), c, id, "agent-"+id)
		e.children[id] = c
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(h.CACertPEM())
	e.hc = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 30 * time.Second}
	for _, id := range []string{"a", "b"} {
		mctest.WaitCondition(t, h, id, multicluster.ConditionTunnelConnected, api.ConditionTrue)
	}
	// each child's authorizer learns of alice's binding through its cache
	// (and the parent's of the grants): a request made earlier is denied
	// (a CI run saw 403 from child b), so wait until alice reaches both
	for _, id := range []string{"a", "b"} {
		deadline := time.Now().Add(time.Minute)
		for {
			code, body := e.call(t, "alice", "GET", whoPath(id))
			if code == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("alice still cannot reach child %s through the hub after a minute: %d %s", id, code, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return e
}

// call makes a request to the hub as user ("" for none).
func (e *env) call(t *testing.T, user, method, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.hub.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+mctest.Token(user))
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func whoPath(id string) string {
	return tunnel.ProxyPath(id) + "/api/v1/namespaces/default/configmaps/who"
}

// TestHub runs the hub's checks against one parent, hub and two
// children (starting them is most of the cost).
func TestHub(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	t.Run("reaches the named child", func(t *testing.T) { testNamedChild(t, e) })
	t.Run("identity", func(t *testing.T) { testIdentity(t, e) })
	t.Run("tunnel authorization", func(t *testing.T) { testTunnelAuthorization(t, e) })
	t.Run("kubectl", func(t *testing.T) { testKubectl(t, e) })
}

// testNamedChild: a GET through the hub is answered by the child its path
// names, under concurrent load across two children (the invariant: no
// answer ever comes from the other child).
func testNamedChild(t *testing.T, e *env) {
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				id := []string{"a", "b"}[(g+i)%2]
				req, _ := http.NewRequest("GET", e.hub.URL()+whoPath(id), nil)
				req.Header.Set("Authorization", "Bearer "+mctest.Token("alice"))
				resp, err := e.hc.Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				var cm api.ConfigMap
				err = json.NewDecoder(resp.Body).Decode(&cm)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || cm.Data["cluster"] != id {
					errs <- fmt.Sprintf("GET via cluster %s: %d %v, answered by %q", id, resp.StatusCode, err, cm.Data["cluster"])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// testIdentity: the child judges the caller, not the agent; the hub
// refuses callers the parent does not authenticate or authorize.
func testIdentity(t *testing.T, e *env) {
	for _, c := range []struct {
		user, path string
		code       int
		msg        string
	}{
		{"alice", whoPath("a"), 200, `"cluster":"a"`},
		// bob passes the hub (parent RBAC) but the child refuses him:
		// the request reached it impersonating bob.
		{"bob", whoPath("a"), 403, `User \"bob\" cannot get resource \"configmaps\"`},
		// carol may not use clusters/proxy in the parent
		{"carol", whoPath("a"), 403, `user \"carol\" cannot get resource \"clusters/proxy\"`},
		{"", whoPath("a"), 401, "no client certificate or bearer token"},
		{"nobody", whoPath("a"), 401, "the parent rejects the token"},
		{"alice", tunnel.ProxyPath("zz") + "/api", 403, `cannot get resource \"clusters/proxy\"`},
		{"alice", tunnel.ProxyPath("BAD") + "/api", 400, "not a DNS label"},
		// the agent's credentials are not the caller's: alice may not
		// list secrets in the child although the agent may
		{"alice", tunnel.ProxyPath("b") + "/api/v1/namespaces/default/secrets", 403, `User \"alice\" cannot list resource \"secrets\"`},
	} {
		code, body := e.call(t, c.user, "GET", c.path)
		if code != c.code || !strings.Contains(body, c.msg) {
			t.Errorf("%s GET %s: %d %s; want %d with %s", c.user, c.path, code, body, c.code, c.msg)
		}
	}
	// a caller's own impersonation headers are dropped, not passed on
	req, _ := http.NewRequest("GET", e.hub.URL()+tunnel.ProxyPath("a")+"/api/v1/namespaces/default/secrets", nil)
	req.Header.Set("Authorization", "Bearer "+mctest.Token("alice"))
	req.Header.Set("Impersonate-User", "admin")
	req.Header.Set("Impersonate-Group", "system:masters")
	resp, err := e.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("alice impersonating system:masters through the hub: %d, want 403", resp.StatusCode)
	}
}

// testTunnelAuthorization: an agent may open the tunnel and heartbeat
// only for its own cluster.
func testTunnelAuthorization(t *testing.T, e *env) {
	hb := `{"readyz":true,"nodeCount":0,"readyNodeCount":0}`
	for _, c := range []struct {
		user, id string
		code     int
	}{{"agent-b", "a", 403}, {"alice", "a", 403}, {"", "a", 401}, {"agent-a", "a", 204}} {
		req, _ := http.NewRequest("POST", e.hub.URL()+tunnel.HeartbeatPath(c.id), strings.NewReader(hb))
		if c.user != "" {
			req.Header.Set("Authorization", "Bearer "+mctest.Token(c.user))
		}
		resp, err := e.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%s heartbeat for %s: %d, want %d", c.user, c.id, resp.StatusCode, c.code)
		}
	}
	// a bad heartbeat changes nothing
	before, _ := e.hub.Cluster("a")
	req, _ := http.NewRequest("POST", e.hub.URL()+tunnel.HeartbeatPath("a"), strings.NewReader(`{"nodeCount":1,"readyNodeCount":5}`))
	req.Header.Set("Authorization", "Bearer "+mctest.Token("agent-a"))
	resp, err := e.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	after, _ := e.hub.Cluster("a")
	if resp.StatusCode != 422 || !strings.Contains(string(body), "status.readyNodeCount: 5 ready of 1 nodes") {
		t.Errorf("bad heartbeat: %d %s", resp.StatusCode, body)
	}
	if before.Status.NodeCount != after.Status.NodeCount || !after.Status.LastObservedTime.Time.Equal(before.Status.LastObservedTime.Time) {
		t.Errorf("a rejected heartbeat changed the cluster: %+v -> %+v", before.Status, after.Status)
	}
	// agent-b cannot open a tunnel as a: the WebSocket upgrade is refused
	req, _ = http.NewRequest("GET", e.hub.URL()+tunnel.ConnectPath, nil)
	req.Header.Set("Authorization", "Bearer "+mctest.Token("agent-b"))
	req.Header.Set(tunnel.ClusterIDHeader, "a")
	resp, err = e.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("agent-b opening a's tunnel: %d, want 403", resp.StatusCode)
	}
}
