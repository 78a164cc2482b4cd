// Package mctest starts what multi-cluster tests need, for real and
// in-process: a parent apiserver with static bearer tokens, child
// apiservers, a hub and agents (examples/multicluster), and FaultProxy, a
// TCP proxy that cuts and restores connections, to play a network that
// drops an agent. Like net/http/httptest, everything stops when the test
// ends.
package mctest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/authorization"
	"github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/bootstrap"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/multicluster/agent"
	"github.com/setpoint-dev/setpoint/examples/multicluster/hub"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// Parent is the hub's parent apiserver and an admin client of it. Its
// static tokens are "<name>-token" for each user named at start, each in
// group "mctest".
type Parent struct {
	// Server is the apiserver.
	Server *apiserver.Server
	// Client is an admin client.
	Client *client.Clientset
}

// Token returns the bearer token of user name.
func Token(name string) string { return name + "-token" }

// StartParent starts the parent apiserver, serving the
// multicluster.setpoint.dev group (hub.Kinds), with a static token for
// each of users.
func StartParent(t testing.TB, users ...string) *Parent {
	t.Helper()
	var lines []string
	for _, u := range users {
		lines = append(lines, fmt.Sprintf("%s,%s,uid-%s,\"mctest\"", Token(u), u, u))
	}
	file := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := controllertest.StartAPIServer(t, func(c *apiserver.Config) {
		c.TokenFile = file
		c.ExtraKinds = append(c.ExtraKinds, hub.Kinds()...)
	})
	return &Parent{Server: s, Client: controllertest.Clientset(t, s)}
}

// Grant lets user (a name from StartParent) do verbs on resource (as
// "managedclusters/status") of the multicluster group, named names (all
// if none), in namespace ns (cluster-wide if "").
func (p *Parent) Grant(t testing.TB, user, ns, resource string, verbs []string, names ...string) {
	t.Helper()
	ctx := context.Background()
	rule := rbac.PolicyRule{APIGroups: []string{multicluster.GroupName}, Resources: []string{resource}, Verbs: verbs, ResourceNames: names}
	name := fmt.Sprintf("mctest-%s-%s", user, strings.ReplaceAll(resource, "/", "-"))
	subj := []rbac.Subject{{Kind: "User", APIGroup: rbac.GroupName, Name: user}}
	if ns == "" {
		if _, err := p.Client.ClusterRoles().Create(ctx, &rbac.ClusterRole{ObjectMeta: store.ObjectMeta{Name: name}, Rules: []rbac.PolicyRule{rule}}); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Client.ClusterRoleBindings().Create(ctx, &rbac.ClusterRoleBinding{ObjectMeta: store.ObjectMeta{Name: name}, Subjects: subj,
			RoleRef: rbac.RoleRef{APIGroup: rbac.GroupName, Kind: "ClusterRole", Name: name}}); err != nil {
			t.Fatal(err)
		}
		return
	}
	if _, err := p.Client.Roles().Create(ctx, &rbac.Role{ObjectMeta: store.ObjectMeta{Name: name, Namespace: ns}, Rules: []rbac.PolicyRule{rule}}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Client.RoleBindings().Create(ctx, &rbac.RoleBinding{ObjectMeta: store.ObjectMeta{Name: name, Namespace: ns}, Subjects: subj,
		RoleRef: rbac.RoleRef{APIGroup: rbac.GroupName, Kind: "Role", Name: name}}); err != nil {
		t.Fatal(err)
	}
}

// GrantAgent lets user act as the agent of cluster id: update
// managedclusters/status named id in its dedicated namespace.
func (p *Parent) GrantAgent(t testing.TB, user, id string) {
	t.Helper()
	ns := &api.Namespace{ObjectMeta: store.ObjectMeta{Name: multicluster.ClusterNamespace(id)}}
	if _, err := p.Client.Namespaces().Create(context.Background(), ns); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatal(err)
	}
	p.Grant(t, user, multicluster.ClusterNamespace(id), "managedclusters/status", []string{"update"}, id)
}

// StartHub runs a hub for p (admin credentials, p's CA for client
// certificates) until the test ends.
func StartHub(t testing.TB, p *Parent, mutate ...func(*hub.Config)) *hub.Hub {
	t.Helper()
	kc, err := p.Server.Kubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg := hub.Config{ParentKubeconfig: kc, Listen: "127.0.0.1:0", ClientCAPEM: p.Server.PKI().CACert, Logger: Quiet()}
	for _, m := range mutate {
		m(&cfg)
	}
	h, err := hub.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	Run(t, "hub", h.Run)
	return h
}

// Start starts a parent (StartParent with users) that lets bootstrap
// tokens register (AllowRegistration) and a hub for it (StartHub with
// mutate).
func Start(t testing.TB, users []string, mutate ...func(*hub.Config)) (*Parent, *hub.Hub) {
	t.Helper()
	p := StartParent(t, users...)
	p.AllowRegistration(t)
	return p, StartHub(t, p, mutate...)
}

// AllowRegistration lets bootstrap tokens (group system:bootstrappers)
// create ClusterRegistrationRequests, and nothing else of the group, and
// waits until the parent's authorizer says so: it learns of the binding
// through its cache, and a hub asking earlier would cache a denial.
func (p *Parent) AllowRegistration(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	if _, err := p.Client.ClusterRoles().Create(ctx, &rbac.ClusterRole{ObjectMeta: store.ObjectMeta{Name: "mc-register"},
		Rules: []rbac.PolicyRule{{APIGroups: []string{multicluster.GroupName}, Resources: []string{"clusterregistrationrequests"}, Verbs: []string{"create"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Client.ClusterRoleBindings().Create(ctx, &rbac.ClusterRoleBinding{ObjectMeta: store.ObjectMeta{Name: "mc-register"},
		Subjects: []rbac.Subject{{Kind: "Group", APIGroup: rbac.GroupName, Name: bootstrap.Group}},
		RoleRef:  rbac.RoleRef{APIGroup: rbac.GroupName, Kind: "ClusterRole", Name: "mc-register"}}); err != nil {
		t.Fatal(err)
	}
	p.WaitRegistrationAllowed(t)
}

// WaitRegistrationAllowed waits up to a minute until the parent's
// authorizer lets bootstrap tokens create ClusterRegistrationRequests.
func (p *Parent) WaitRegistrationAllowed(t testing.TB) {
	t.Helper()
	sar := authorization.SubjectAccessReview{Spec: authorization.SubjectAccessReviewSpec{User: "system:bootstrap:probe",
		Groups:             []string{bootstrap.Group, "system:authenticated"},
		ResourceAttributes: &authorization.ResourceAttributes{Verb: "create", Group: multicluster.GroupName, Resource: "clusterregistrationrequests"}}}
	sar.APIVersion, sar.Kind = "authorization.k8s.io/v1", "SubjectAccessReview"
	body, _ := json.Marshal(sar)
	deadline := time.Now().Add(time.Minute)
	for {
		err := func() error {
			resp, err := p.Client.HTTPClient().Post(p.Client.Server()+"/apis/authorization.k8s.io/v1/subjectaccessreviews", "application/json", bytes.NewReader(body))
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var answer authorization.SubjectAccessReview
			if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
				return err
			}
			if !answer.Status.Allowed {
				return fmt.Errorf("denied: %s", answer.Status.Reason)
			}
			return nil
		}()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("bootstrap tokens still not allowed to register after a minute: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BootstrapToken creates bootstrap token <id>.<secret> (id six
// characters of [a-z0-9]) in p, valid for authentication until exp, and
// returns it.
func (p *Parent) BootstrapToken(t testing.TB, id string, exp time.Time) string {
	t.Helper()
	secret := strings.Repeat("s", 16-len(id)) + id
	s := &api.Secret{ObjectMeta: store.ObjectMeta{Name: bootstrap.SecretPrefix + id, Namespace: bootstrap.Namespace}, Type: bootstrap.SecretType,
		Data: map[string][]byte{bootstrap.KeyTokenID: []byte(id), bootstrap.KeyTokenSecret: []byte(secret),
			bootstrap.KeyUsageAuthentication: []byte("true"), bootstrap.KeyExpiration: []byte(exp.UTC().Format(time.RFC3339))}}
	if _, err := p.Client.Secrets().Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return id + "." + secret
}

// Registrations returns an admin client of p's ClusterRegistrationRequests.
func Registrations(t testing.TB, p *Parent) *rest.Client[*multicluster.ClusterRegistrationRequest] {
	return typed[*multicluster.ClusterRegistrationRequest](t, p, multicluster.ClusterRegistrationRequestResource)
}

// StartChild starts a child apiserver.
func StartChild(t testing.TB) *apiserver.Server {
	t.Helper()
	return controllertest.StartAPIServer(t)
}

// StartAgent runs the agent of cluster id in child (admin credentials
// there) against the hub at hubURL (hubCA its certificate) with the
// parent token of user, until the test ends.
func StartAgent(t testing.TB, hubURL string, hubCA []byte, child *apiserver.Server, id, user string, mutate ...func(*agent.Config)) *agent.Agent {
	t.Helper()
	kc, err := child.Kubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg := agent.Config{ClusterID: id, HubURL: hubURL, HubCAPEM: hubCA, HubToken: Token(user), ChildKubeconfig: kc, Logger: Quiet()}
	for _, m := range mutate {
		m(&cfg)
	}
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	Run(t, "agent "+id, a.Run)
	return a
}

// Run runs fn until the test ends and fails the test if it returns an
// error or does not return within 30 s of its context ending.
func Run(t testing.TB, what string, fn func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: %v", what, err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("%s did not stop within 30s of its context ending", what)
		}
	})
}

// Quiet is a logger that discards everything.
func Quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// FaultProxy forwards TCP connections from its listener to a target until
// Cut, which closes every open connection and refuses new ones (closes
// them at once) until Restore.
type FaultProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// StartFaultProxy proxies a loopback listener to target until the test
// ends.
func StartFaultProxy(t testing.TB, target string) *FaultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &FaultProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's address.
func (p *FaultProxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every connection and refuses new ones until Restore.
func (p *FaultProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
}

// Restore lets connections through again.
func (p *FaultProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

func (p *FaultProxy) close() {
	p.ln.Close()
	p.Cut()
	p.wg.Wait()
}

// track adds c to the open connections, unless cut.
func (p *FaultProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *FaultProxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
	c.Close()
}

func (p *FaultProxy) accept() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(in) {
			continue
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.untrack(in)
			out, err := net.DialTimeout("tcp", p.target, 10*time.Second)
			if err != nil || !p.track(out) {
				return
			}
			defer p.untrack(out)
			done := make(chan struct{}, 2)
			pipe := func(dst, src net.Conn) {
				_, _ = io.Copy(dst, src)
				done <- struct{}{}
			}
			go pipe(out, in)
			go pipe(in, out)
			<-done
		}()
	}
}

// WaitCondition waits until the hub reports condition typ of cluster id
// with status want, and fails the test if that does not happen within a
// minute (it waits on the hub's change notifications, not on time).
func WaitCondition(t testing.TB, h *hub.Hub, id, typ string, want api.ConditionStatus) *multicluster.ManagedCluster {
	t.Helper()
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	for {
		changed := h.Changed()
		c, ok := h.Cluster(id)
		if ok {
			for _, cd := range c.Status.Conditions {
				if cd.Type == typ && cd.Status == want {
					return c
				}
			}
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("cluster %s: condition %s did not become %s: %+v", id, typ, want, c)
		}
	}
}

// Subscriptions returns an admin client of p's Subscriptions.
func Subscriptions(t testing.TB, p *Parent) *rest.Client[*multicluster.Subscription] {
	return typed[*multicluster.Subscription](t, p, multicluster.SubscriptionResource)
}

// ManagedClusters returns an admin client of p's ManagedClusters.
func ManagedClusters(t testing.TB, p *Parent) *rest.Client[*multicluster.ManagedCluster] {
	return typed[*multicluster.ManagedCluster](t, p, multicluster.ManagedClusterResource)
}

// Descriptions returns an admin client of p's Descriptions.
func Descriptions(t testing.TB, p *Parent) *rest.Client[*multicluster.Description] {
	return typed[*multicluster.Description](t, p, multicluster.DescriptionResource)
}

// Localizations returns an admin client of p's Localizations.
func Localizations(t testing.TB, p *Parent) *rest.Client[*multicluster.Localization] {
	return typed[*multicluster.Localization](t, p, multicluster.LocalizationResource)
}

// Globalizations returns an admin client of p's Globalizations.
func Globalizations(t testing.TB, p *Parent) *rest.Client[*multicluster.Globalization] {
	return typed[*multicluster.Globalization](t, p, multicluster.GlobalizationResource)
}

func typed[T store.Object](t testing.TB, p *Parent, res store.Resource) *rest.Client[T] {
	t.Helper()
	c, err := client.For[T](p.Client, res)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// AgentKubeconfig returns a kubeconfig for p with user's static token, as
// an agent's Config.ParentKubeconfig.
func (p *Parent) AgentKubeconfig(user string) []byte {
	return agent.ParentKubeconfigFor(p.Server.URL(), p.Server.PKI().CACert, Token(user))
}

// GrantDescriptions lets user act as the pulling agent of cluster id:
// read and watch the Descriptions in its dedicated namespace, update them
// (the agent's finalizer) and their status, as registration grants.
func (p *Parent) GrantDescriptions(t testing.TB, user, id string) {
	t.Helper()
	ns := multicluster.ClusterNamespace(id)
	p.Grant(t, user, ns, "descriptions", []string{"get", "list", "watch", "update"})
	p.Grant(t, user, ns, "descriptions/status", []string{"update"})
}

// StartDeployer runs the hub's Subscription controller on p (its
// configuration changed by mutate) until the test ends.
func StartDeployer(t testing.TB, p *Parent, mutate ...func(*hub.DeployerConfig)) *hub.Deployer {
	t.Helper()
	cfg := hub.DeployerConfig{Client: p.Client, Logger: Quiet()}
	for _, m := range mutate {
		m(&cfg)
	}
	d, err := hub.NewDeployer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	Run(t, "deployer", d.Run)
	return d
}
