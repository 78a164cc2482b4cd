package hub_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/authorization"
	"github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/examples/bootstrap"
	"github.com/setpoint-dev/setpoint/examples/multicluster/agent"
	"github.com/setpoint-dev/setpoint/examples/multicluster/hub"
	"github.com/setpoint-dev/setpoint/examples/multicluster/mctest"
	"github.com/setpoint-dev/setpoint/examples/multicluster/tunnel"
	"github.com/setpoint-dev/setpoint/store"
)

// bootstrapToken creates bootstrap token <id>.<secret> in the parent,
// expiring at exp.
func bootstrapToken(t *testing.T, p *mctest.Parent, id string, exp time.Time) string {
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

// TestRegistration: a bootstrap token that may only create a
// ClusterRegistrationRequest registers a child; an expired or wrong token
// is refused and changes nothing; 50 agents registering at once each get
// their own working credentials, good for their own cluster only; a
// deregistered cluster's credentials stop working.
func TestRegistration(t *testing.T) {
	t.Parallel()
	fc := clockwork.NewFakeClockAt(time.Now())
	p := mctest.StartParent(t)
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
	// The parent's authorizer learns of the binding through its cache:
	// wait until it allows, lest the hub (on a fake clock) cache an early
	// denial.
	sar := authorization.SubjectAccessReview{Spec: authorization.SubjectAccessReviewSpec{User: "system:bootstrap:probe",
		Groups:             []string{bootstrap.Group, "system:authenticated"},
		ResourceAttributes: &authorization.ResourceAttributes{Verb: "create", Group: multicluster.GroupName, Resource: "clusterregistrationrequests"}}}
	sar.APIVersion, sar.Kind = "authorization.k8s.io/v1", "SubjectAccessReview"
	body, _ := json.Marshal(sar)
	eventually(t, "bootstrap tokens allowed to register", func() error {
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
	})
	h := mctest.StartHub(t, p, func(c *hub.Config) { c.AutoApprove, c.Clock = true, fc })
	good := bootstrapToken(t, p, "abcdef", time.Now().Add(time.Hour))
	expired := bootstrapToken(t, p, "oldold", time.Now().Add(-time.Hour))
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
	if _, ok := h.Registration(multicluster.RegistrationName("Bad_ID")); ok {
		t.Error("invalid registration Bad_ID was recorded")
	}
	for _, id := range []string{"c-expired", "c-wrong-secret"} {
		if _, ok := h.Registration(multicluster.RegistrationName(id)); ok {
			t.Errorf("refused registration %s was recorded", id)
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
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(h.CACertPEM())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	heartbeat := func(token, id string) int {
		req, _ := http.NewRequest("POST", h.URL()+tunnel.HeartbeatPath(id), strings.NewReader(`{"readyz":true}`))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
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
	// someone else's registration of a taken ID is refused
	other := bootstrapToken(t, p, "ghijkl", time.Now().Add(time.Hour))
	if _, err := register(other, "c00"); err == nil || !strings.Contains(err.Error(), "409") {
		t.Errorf("re-registering c00 with another token: %v, want 409", err)
	}

	// deregistration: the parent revokes the token; the hub stops
	// accepting it once its cache forgets it
	if err := h.Deregister(ctx, "c00"); err != nil {
		t.Fatal(err)
	}
	fc.Advance(hub.DefaultAuthCacheTTL)
	if code := heartbeat(tokens[0], "c00"); code != 401 {
		t.Errorf("deregistered c00's token: %d, want 401", code)
	}
	if code := heartbeat(tokens[1], "c01"); code != 204 {
		t.Errorf("c01 after c00 left: %d", code)
	}
}
