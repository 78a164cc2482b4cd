package hub_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/multicluster/agent"
	"github.com/setpoint-dev/setpoint/examples/multicluster/hub"
	"github.com/setpoint-dev/setpoint/examples/multicluster/mctest"
	"github.com/setpoint-dev/setpoint/examples/multicluster/tunnel"
	"github.com/setpoint-dev/setpoint/store"
)

// TestRegistration: a bootstrap token that may only create a
// ClusterRegistrationRequest registers a child; an expired or wrong token
// is refused and changes nothing; 50 agents registering at once each get
// their own working credentials, good for their own cluster only; a
// deregistered cluster's credentials stop working.
func TestRegistration(t *testing.T) {
	t.Parallel()
	fc := clockwork.NewFakeClockAt(time.Now())
	ctx := context.Background()
	p, h := mctest.Start(t, nil, func(c *hub.Config) { c.AutoApprove, c.Clock = true, fc })
	good := p.BootstrapToken(t, "abcdef", time.Now().Add(time.Hour))
	expired := p.BootstrapToken(t, "oldold", time.Now().Add(-time.Hour))
	register := func(token, id string) (*multicluster.ClusterRegistrationRequest, error) {
		return agent.Register(ctx, agent.RegisterConfig{HubURL: h.URL(), HubCAPEM: h.CACertPEM(), BootstrapToken: token,
			Spec: multicluster.ClusterRegistrationRequestSpec{ClusterID: id, ClusterLabels: map[string]string{"region": "eu"}}, Clock: fc})
	}
	for _, c := range []struct{ name, token, want string }{
		{"expired", expired, "401"},
		{"wrong secret", "abcdef.0000000000000000", "401"},
		{"not a bootstrap token", "garbage", "401"},
	} {
		if _, err := register(c.token, "c-"+strings.ReplaceAll(c.name, " ", "-")); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s token: %v, want %s", c.name, err, c.want)
		}
	}
	if _, err := register(good, "Bad_ID"); err == nil || !strings.Contains(err.Error(), `422`) || !strings.Contains(err.Error(), `spec.clusterId: \"Bad_ID\" is not a DNS label`) {
		t.Errorf("bad cluster ID: %v", err)
	}
	if n := len(h.Clusters()); n != 0 {
		t.Errorf("refused registrations left %d clusters", n)
	}
	if l, err := mctest.Registrations(t, p).List(ctx, "", store.ListOptions{}); err != nil || len(l.Items) != 0 {
		t.Errorf("refused registrations left requests in the parent: %v, %v", l, err)
	}
	for _, id := range []string{"c-expired", "c-wrong-secret"} {
		if _, err := h.Registration(ctx, multicluster.RegistrationName(id)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("refused registration %s was recorded: %v", id, err)
		}
		if _, err := p.Client.Namespaces().Get(ctx, "", multicluster.ClusterNamespace(id)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("refused registration %s: namespace: %v", id, err)
		}
	}

	// 50 at once, one bootstrap token, distinct credentials
	const n = 50
	tokens := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := register(good, fmt.Sprintf("c%02d", i))
			if err != nil {
				t.Error(err)
				return
			}
			tokens[i] = string(r.Status.Token)
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	seen := map[string]bool{}
	for i, tok := range tokens {
		if tok == "" || seen[tok] {
			t.Fatalf("agent %d got an empty or shared token", i)
		}
		seen[tok] = true
	}
	heartbeat := func(token, id string) int { return hubPost(t, h, tunnel.HeartbeatPath(id), token) }
	for i := range n {
		id := fmt.Sprintf("c%02d", i)
		if code := heartbeat(tokens[i], id); code != 204 {
			t.Errorf("agent %s heartbeat with its own token: %d", id, code)
		}
		other := fmt.Sprintf("c%02d", (i+1)%n)
		if code := heartbeat(tokens[i], other); code != 403 {
			t.Errorf("agent %s heartbeat for %s: %d, want 403", id, other, code)
		}
	}
	if code := heartbeat(good, "c00"); code != 403 {
		t.Errorf("bootstrap token heartbeat: %d, want 403 (it may only register)", code)
	}
	// each registered cluster has its ManagedCluster in the parent, with
	// its labels and, once it reported, the hub's view of its status
	deadline := time.Now().Add(time.Minute)
	for {
		mcl, err := mctest.ManagedClusters(t, p).Get(ctx, multicluster.ClusterNamespace("c07"), "c07")
		if err == nil && mcl.Labels["region"] == "eu" && mcl.Status.Readyz && len(mcl.Status.Conditions) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("managed cluster c07 in the parent: %+v, %v; want label region=eu, readyz and the hub's conditions", mcl, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// the requests are objects in the parent, holding the credentials
	// the agents got
	for i := range n {
		id := fmt.Sprintf("c%02d", i)
		r, err := mctest.Registrations(t, p).Get(ctx, "", multicluster.RegistrationName(id))
		if err != nil {
			t.Fatal(err)
		}
		if r.Status.Result != multicluster.RegistrationApproved || string(r.Status.Token) != tokens[i] ||
			r.Status.DedicatedNamespace != multicluster.ClusterNamespace(id) || r.Spec.ClusterLabels["region"] != "eu" {
			t.Fatalf("stored request of %s: %+v (token matches: %v)", id, r.Status, string(r.Status.Token) == tokens[i])
		}
	}
	// someone else's registration of a taken ID is refused
	other := p.BootstrapToken(t, "ghijkl", time.Now().Add(time.Hour))
	if _, err := register(other, "c00"); err == nil || !strings.Contains(err.Error(), "409") {
		t.Errorf("re-registering c00 with another token: %v, want 409", err)
	}

	// deregistration: the parent revokes the token; the hub stops
	// accepting it once its cache forgets it
	if err := h.Deregister(ctx, "c00"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Registration(ctx, multicluster.RegistrationName("c00")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deregistered c00's request: %v, want it deleted", err)
	}
	fc.Advance(hub.DefaultAuthCacheTTL)
	if code := heartbeat(tokens[0], "c00"); code != 401 {
		t.Errorf("deregistered c00's token: %d, want 401", code)
	}
	if code := heartbeat(tokens[1], "c01"); code != 204 {
		t.Errorf("c01 after c00 left: %d", code)
	}

	// deleting a ManagedCluster in the parent (kubectl delete) deregisters
	// its cluster: the hub's finalizer holds it until the credentials are
	// revoked and the request is gone, then it goes
	mcs := mctest.ManagedClusters(t, p)
	if mc, err := mcs.Get(ctx, multicluster.ClusterNamespace("c02"), "c02"); err != nil || !slices.Contains(mc.Finalizers, multicluster.HubFinalizer) {
		t.Fatalf("c02's managed cluster: %v, %v; want the hub's finalizer", mc, err)
	}
	// first one the hub did not make, named for c03 but outside c03's
	// namespace (a user may hold its finalizer too): it is not the hub's
	unrelated := &multicluster.ManagedCluster{ObjectMeta: store.ObjectMeta{Name: "c03", Namespace: "default",
		Finalizers: []string{multicluster.HubFinalizer}}, Spec: multicluster.ManagedClusterSpec{ClusterID: "c03"}}
	if _, err := mcs.Create(ctx, unrelated); err != nil {
		t.Fatal(err)
	}
	if _, err := mcs.Delete(ctx, "default", "c03"); err != nil {
		t.Fatal(err)
	}
	if _, err := mcs.Delete(ctx, multicluster.ClusterNamespace("c02"), "c02"); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(time.Minute)
	for {
		_, errMC := mcs.Get(ctx, multicluster.ClusterNamespace("c02"), "c02")
		_, errReq := h.Registration(ctx, multicluster.RegistrationName("c02"))
		if errors.Is(errMC, store.ErrNotFound) && errors.Is(errReq, store.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deleted managed cluster c02: object %v, request %v; want both gone", errMC, errReq)
		}
		time.Sleep(20 * time.Millisecond)
	}
	fc.Advance(hub.DefaultAuthCacheTTL)
	if code := heartbeat(tokens[2], "c02"); code != 401 {
		t.Errorf("token of c02, whose managed cluster was deleted: %d, want 401", code)
	}
	if code := heartbeat(tokens[3], "c03"); code != 204 {
		t.Errorf("c03 after c02's managed cluster was deleted: %d", code)
	}
	if _, err := h.Registration(ctx, multicluster.RegistrationName("c03")); err != nil {
		t.Errorf("c03's request after an unrelated managed cluster named c03 was deleted first: %v", err)
	}
}

// adminKubeconfig writes the parent's admin kubeconfig to a file.
func adminKubeconfig(t *testing.T, p *mctest.Parent) string {
	t.Helper()
	kc, err := p.Server.Kubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestApprovalByHand: without AutoApprove an agent's request waits,
// Pending, in the parent (kubectl get clsrr shows it); a human approves
// it with kubectl patch of its status, or denies it with kubectl or
// Hub.Deny, and Register returns the credentials or ErrDenied. The
// bootstrap token may create requests and do nothing else with them.
func TestApprovalByHand(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, h := mctest.Start(t, nil)
	token := p.BootstrapToken(t, "hand01", time.Now().Add(time.Hour))
	kc := adminKubeconfig(t, p)
	type answer struct {
		r   *multicluster.ClusterRegistrationRequest
		err error
	}
	register := func(id string) <-chan answer {
		ch := make(chan answer, 1)
		go func() {
			r, err := agent.Register(ctx, agent.RegisterConfig{HubURL: h.URL(), HubCAPEM: h.CACertPEM(), BootstrapToken: token,
				Spec: multicluster.ClusterRegistrationRequestSpec{ClusterID: id}, PollInterval: 50 * time.Millisecond})
			ch <- answer{r, err}
		}()
		return ch
	}
	approved, denied, byHub := register("yes"), register("no"), register("nohub")
	eventually(t, "three pending requests listed by kubectl", func() error {
		out, errOut, code := kubectl(t, kc, "", "get", "clsrr")
		if code != 0 {
			return fmt.Errorf("kubectl get clsrr: %d: %s", code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 4 || strings.Join(strings.Fields(lines[0]), " ") != "NAME CLUSTER ID RESULT CLUSTER NAMESPACE AGE" {
			return fmt.Errorf("kubectl get clsrr:\n%s", out)
		}
		for _, l := range lines[1:] {
			if f := strings.Fields(l); len(f) != 5 || f[0] != multicluster.RegistrationName(f[1]) || f[2] != "Pending" || f[3] != "<none>" {
				return fmt.Errorf("kubectl get clsrr: line %q", l)
			}
		}
		return nil
	})
	for _, ch := range []<-chan answer{approved, denied, byHub} {
		select {
		case a := <-ch:
			t.Fatalf("Register returned while pending: %+v, %v", a.r, a.err)
		default:
		}
	}
	if _, err := p.Client.Namespaces().Get(ctx, "", multicluster.ClusterNamespace("yes")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a pending request's namespace: %v, want none yet", err)
	}

	// what the bootstrap token may do in the parent: create requests only
	bootCfg := agent.ParentKubeconfigFor(p.Server.URL(), p.Server.PKI().CACert, token)
	bootPath := filepath.Join(t.TempDir(), "bootstrap-kubeconfig")
	if err := os.WriteFile(bootPath, bootCfg, 0o600); err != nil {
		t.Fatal(err)
	}
	for verb, want := range map[string]string{"create": "yes", "get": "no", "list": "no", "update": "no", "patch": "no", "delete": "no"} {
		out, _, _ := kubectl(t, bootPath, "", "auth", "can-i", verb, "clusterregistrationrequests.multicluster.setpoint.dev")
		if strings.TrimSpace(out) != want {
			t.Errorf("bootstrap token: can-i %s clusterregistrationrequests: %q, want %s", verb, strings.TrimSpace(out), want)
		}
	}

	if _, _, code := kubectl(t, kc, "", "patch", "clsrr", "mcls-yes", "--subresource=status", "--type=merge", "-p", `{"status":{"result":"Approved"}}`); code != 0 {
		t.Fatalf("kubectl patch approve: exit %d", code)
	}
	if _, errOut, code := kubectl(t, kc, "", "patch", "clsrr", "mcls-no", "--subresource=status", "--type=merge", "-p", `{"status":{"result":"Denied","errorMessage":"unknown site"}}`); code != 0 {
		t.Fatalf("kubectl patch deny: exit %d: %s", code, errOut)
	}
	if err := h.Deny(ctx, "mcls-nohub", "not today"); err != nil {
		t.Fatal(err)
	}
	a := <-approved
	if a.err != nil || len(a.r.Status.Token) == 0 || a.r.Status.DedicatedNamespace != "mcls-yes" {
		t.Fatalf("approved by kubectl: %+v, %v", a.r, a.err)
	}
	if _, err := mctest.ManagedClusters(t, p).Get(ctx, "mcls-yes", "yes"); err != nil {
		t.Errorf("approved cluster's ManagedCluster: %v", err)
	}
	for _, c := range []struct {
		ch  <-chan answer
		msg string
	}{{denied, "unknown site"}, {byHub, "not today"}} {
		a := <-c.ch
		if !errors.Is(a.err, agent.ErrDenied) || !strings.Contains(a.err.Error(), c.msg) {
			t.Errorf("denied registration: %v, want ErrDenied with %q", a.err, c.msg)
		}
	}
	if _, err := p.Client.Namespaces().Get(ctx, "", multicluster.ClusterNamespace("no")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a denied request's namespace: %v, want none", err)
	}
	out, _, _ := kubectl(t, kc, "", "get", "clsrr", "mcls-yes", "--no-headers")
	if f := strings.Fields(out); len(f) != 5 || f[2] != "Approved" || f[3] != "mcls-yes" {
		t.Errorf("kubectl get clsrr mcls-yes: %q", out)
	}
	// decisions stand
	if err := h.Approve(ctx, "mcls-no"); !errors.Is(err, hub.ErrDecided) {
		t.Errorf("approving a denied request: %v, want ErrDecided", err)
	}
	if err := h.Deny(ctx, "mcls-yes", "changed my mind"); !errors.Is(err, hub.ErrDecided) {
		t.Errorf("denying an approved request: %v, want ErrDecided", err)
	}
	if err := h.Approve(ctx, "mcls-none"); !errors.Is(err, hub.ErrNoRequest) {
		t.Errorf("approving an unknown request: %v, want ErrNoRequest", err)
	}
}

// TestTwoHubsRace: two hubs on one parent, both auto-approving, take the
// same registrations at once (each cluster's agent asks both); every
// request is given credentials once: both agents of a cluster get the
// same token, and a watch of the requests sees no request's token
// change.
func TestTwoHubsRace(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, h1 := mctest.Start(t, nil, func(c *hub.Config) { c.AutoApprove = true })
	h2 := mctest.StartHub(t, p, func(c *hub.Config) { c.AutoApprove = true })
	token := p.BootstrapToken(t, "race01", time.Now().Add(time.Hour))
	w, err := mctest.Registrations(t, p).Watch(ctx, "", store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var mu sync.Mutex
	seen := map[string]map[string]bool{} // request -> tokens published
	lastRV := map[string]string{}        // request -> last revision seen
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for ev := range w.Events() {
			if ev.Object == nil {
				continue
			}
			mu.Lock()
			lastRV[ev.Object.Name] = ev.Object.ResourceVersion
			if len(ev.Object.Status.Token) > 0 {
				if seen[ev.Object.Name] == nil {
					seen[ev.Object.Name] = map[string]bool{}
				}
				seen[ev.Object.Name][string(ev.Object.Status.Token)] = true
			}
			mu.Unlock()
		}
	}()
	const n = 20
	got := make([][2]string, n)
	var wg sync.WaitGroup
	for i := range n {
		for j, h := range []*hub.Hub{h1, h2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := agent.Register(ctx, agent.RegisterConfig{HubURL: h.URL(), HubCAPEM: h.CACertPEM(), BootstrapToken: token,
					Spec: multicluster.ClusterRegistrationRequestSpec{ClusterID: fmt.Sprintf("r%02d", i)}, PollInterval: 20 * time.Millisecond})
				if err != nil {
					t.Error(err)
					return
				}
				got[i][j] = string(r.Status.Token)
			}()
		}
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	distinct := map[string]bool{}
	for i, g := range got {
		if g[0] == "" || g[0] != g[1] {
			t.Errorf("cluster r%02d: the two hubs answered different tokens", i)
		}
		distinct[g[0]] = true
	}
	if len(distinct) != n {
		t.Errorf("%d distinct tokens for %d clusters", len(distinct), n)
	}
	// let the watch catch up with every request's last write
	l, err := mctest.Registrations(t, p).List(ctx, "", store.ListOptions{})
	if err != nil || len(l.Items) != n {
		t.Fatalf("requests in the parent: %v, %v", l, err)
	}
	eventually(t, "the watch saw every request's last revision", func() error {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range l.Items {
			if lastRV[r.Name] != r.ResourceVersion {
				return fmt.Errorf("request %s: watch at revision %q, stored %q", r.Name, lastRV[r.Name], r.ResourceVersion)
			}
		}
		return nil
	})
	w.Stop()
	<-watched
	if len(seen) != n {
		t.Errorf("the watch saw credentials for %d requests, want %d", len(seen), n)
	}
	for name, toks := range seen {
		if len(toks) != 1 {
			t.Errorf("request %s published %d different tokens", name, len(toks))
		}
	}
}

// TestTokenRenewal: an agent renews its service account token through the
// hub once 80% of its lifetime has passed (on the agent's clock), uses the
// new one and hands it to OnTokenRenewed; the new token works at the hub;
// only the cluster's own agent may renew it.
func TestTokenRenewal(t *testing.T) {
	t.Parallel()
	fc := clockwork.NewFakeClockAt(time.Now())
	ctx := context.Background()
	p, h := mctest.Start(t, nil, func(c *hub.Config) { c.AutoApprove, c.Clock, c.AgentTokenExpiration = true, fc, 10*time.Minute })
	boot := p.BootstrapToken(t, "renew1", time.Now().Add(time.Hour))
	reg := func(id string) string {
		r, err := agent.Register(ctx, agent.RegisterConfig{HubURL: h.URL(), HubCAPEM: h.CACertPEM(), BootstrapToken: boot,
			Spec: multicluster.ClusterRegistrationRequestSpec{ClusterID: id}, Clock: fc})
		if err != nil {
			t.Fatal(err)
		}
		return string(r.Status.Token)
	}
	first, other := reg("renew"), reg("other")
	renewed := make(chan string, 10)
	child := mctest.StartChild(t)
	a := mctest.StartAgent(t, h.URL(), h.CACertPEM(), child, "renew", "", func(c *agent.Config) {
		c.HubToken, c.Clock = first, fc
		c.OnTokenRenewed = func(tok string) { renewed <- tok }
	})
	post := func(path, token string) int { return hubPost(t, h, path, token) }
	for _, c := range []struct {
		token string
		want  int
	}{{"", 401}, {boot, 403}, {other, 403}} {
		if code := post(tunnel.TokenPath("renew"), c.token); code != c.want {
			t.Errorf("renewing renew's token with %.12q...: %d, want %d", c.token, code, c.want)
		}
	}
	// nothing before 80% of the lifetime; then, one renewal
	fc.Advance(7 * time.Minute)
	select {
	case tok := <-renewed:
		t.Fatalf("renewed at 70%% of the token's lifetime: %.12q", tok)
	case <-time.After(200 * time.Millisecond):
	}
	var tok string
	deadline := time.Now().Add(time.Minute)
	for tok == "" {
		fc.Advance(10 * time.Second)
		select {
		case tok = <-renewed:
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no renewal within a minute past 80% of the token's lifetime")
		}
	}
	if tok == first || tok == "" {
		t.Fatalf("renewed token %.12q, the old one %.12q", tok, first)
	}
	if got := a.Token(); got != tok {
		t.Errorf("agent's token after renewal: %.12q, want the renewed %.12q", got, tok)
	}
	if code := post(tunnel.HeartbeatPath("renew"), tok); code != 204 {
		t.Errorf("heartbeat with the renewed token: %d", code)
	}
	if code := post(tunnel.HeartbeatPath("other"), tok); code != 403 {
		t.Errorf("renewed token of renew used for other: %d, want 403", code)
	}
}

// hubPost posts a heartbeat body ({"readyz":true}) to path at the hub with
// bearer token (none if empty) and returns the status code.
func hubPost(t *testing.T, h *hub.Hub, path, token string) int {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(h.CACertPEM())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer hc.CloseIdleConnections()
	req, _ := http.NewRequest("POST", h.URL()+path, strings.NewReader(`{"readyz":true}`))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRegistrationRBAC: a hub grants bootstrap tokens the right to
// register (RegistrationRole, create on clusterregistrationrequests only)
// without the operator's help, keeps a binding an operator already made,
// and creates nothing with NoRegistrationRBAC.
func TestRegistrationRBAC(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := mctest.StartParent(t)
	h := mctest.StartHub(t, p, func(c *hub.Config) { c.AutoApprove = true })
	p.WaitRegistrationAllowed(t)
	role, err := p.Client.ClusterRoles().Get(ctx, "", hub.RegistrationRole)
	if err != nil {
		t.Fatal(err)
	}
	if r := role.Rules; len(r) != 1 || fmt.Sprint(r[0].Verbs, r[0].Resources, r[0].APIGroups) != "[create] [clusterregistrationrequests] ["+multicluster.GroupName+"]" {
		t.Errorf("registration role rules: %+v, want create on clusterregistrationrequests only", r)
	}
	token := p.BootstrapToken(t, "rbac01", time.Now().Add(time.Hour))
	r, err := agent.Register(ctx, agent.RegisterConfig{HubURL: h.URL(), HubCAPEM: h.CACertPEM(), BootstrapToken: token,
		Spec: multicluster.ClusterRegistrationRequestSpec{ClusterID: "rbac"}})
	if err != nil || len(r.Status.Token) == 0 {
		t.Fatalf("registration with the hub's own grant: %v", err)
	}
	if code := hubPost(t, h, tunnel.HeartbeatPath("rbac"), token); code != 403 {
		t.Errorf("bootstrap token heartbeat: %d, want 403 (it may only register)", code)
	}

	// a second hub keeps the binding as the operator changed it
	b, err := p.Client.ClusterRoleBindings().Get(ctx, "", hub.RegistrationRole)
	if err != nil {
		t.Fatal(err)
	}
	b.Subjects = b.Subjects[:0]
	if _, err := p.Client.ClusterRoleBindings().Update(ctx, b); err != nil {
		t.Fatal(err)
	}
	mctest.StartHub(t, p)
	time.Sleep(200 * time.Millisecond)
	if b, err := p.Client.ClusterRoleBindings().Get(ctx, "", hub.RegistrationRole); err != nil || len(b.Subjects) != 0 {
		t.Errorf("operator's edit of the binding: %+v, %v; want it kept (no subjects)", b, err)
	}

	// NoRegistrationRBAC: nothing created
	q := mctest.StartParent(t)
	mctest.StartHub(t, q, func(c *hub.Config) { c.NoRegistrationRBAC = true })
	time.Sleep(200 * time.Millisecond)
	if _, err := q.Client.ClusterRoles().Get(ctx, "", hub.RegistrationRole); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("NoRegistrationRBAC: registration role %v, want none", err)
	}
}
