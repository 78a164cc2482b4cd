package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/authentication"
	mc "github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/bootstrap"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/multicluster/agent"
	"github.com/setpoint-dev/setpoint/examples/multicluster/hub"
	"github.com/setpoint-dev/setpoint/store"
)

// mc-register-1000: 1,000 simulated agents register their child clusters
// with examples/multicluster's hub (Config.AutoApprove): each posts its
// ClusterRegistrationRequest with one shared bootstrap token; the hub
// creates it in the parent, creates the cluster's namespace,
// ManagedCluster, service account, Role, RoleBinding and a service
// account token, and publishes the token in the request's status (a
// write conditional on its resourceVersion), which the agent gets back.
// Registrations per second, 32 agents at a time.
//
// The anchor is the raw create rate of the same objects on the same
// parent in the same run: an admin client creating, for 1,000 other
// cluster IDs, the same objects (the request, the six objects with the
// token by the same TokenRequest, and the request's status update) with
// the same concurrency. The ratio is what the hub's registration
// path (bootstrap-token authentication, authorization, validation and
// bookkeeping) leaves of the parent's own write rate.
func init() { register("mc-register-1000", benchMCRegister) }

var mcRegistrations = flag.Int("mc-registrations", 1000, "mc-register-1000: clusters registered per side")

const mcRegisterWorkers = 32

func benchMCRegister(ctx context.Context) ([]Result, error) {
	dir, err := os.MkdirTemp("", "bench-mcreg-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	parent, stopParent, err := startAPIServer(ctx, apiserver.Config{DataDir: filepath.Join(dir, "parent"), Listen: "127.0.0.1:0",
		EtcdNoFsync: true, EtcdLogLevel: "off", DisablePriorityAndFairness: true, ExtraKinds: hub.Kinds()})
	if err != nil {
		return nil, fmt.Errorf("parent: %w", err)
	}
	defer stopParent()
	kc, err := parent.Kubeconfig()
	if err != nil {
		return nil, err
	}
	admin, err := client.New(client.Config{Kubeconfig: kc, QPS: -1})
	if err != nil {
		return nil, err
	}
	// A bootstrap token that may only create registration requests.
	if _, err := admin.ClusterRoles().Create(ctx, &rbac.ClusterRole{ObjectMeta: store.ObjectMeta{Name: "mc-register"},
		Rules: []rbac.PolicyRule{{APIGroups: []string{mc.GroupName}, Resources: []string{"clusterregistrationrequests"}, Verbs: []string{"create"}}}}); err != nil {
		return nil, err
	}
	if _, err := admin.ClusterRoleBindings().Create(ctx, &rbac.ClusterRoleBinding{ObjectMeta: store.ObjectMeta{Name: "mc-register"},
		Subjects: []rbac.Subject{{Kind: "Group", APIGroup: rbac.GroupName, Name: bootstrap.Group}},
		RoleRef:  rbac.RoleRef{APIGroup: rbac.GroupName, Kind: "ClusterRole", Name: "mc-register"}}); err != nil {
		return nil, err
	}
	const tokenID, tokenSecret = "benchx", "0123456789abcdef"
	if _, err := admin.Secrets().Create(ctx, &api.Secret{ObjectMeta: store.ObjectMeta{Name: bootstrap.SecretPrefix + tokenID, Namespace: bootstrap.Namespace},
		Type: bootstrap.SecretType, Data: map[string][]byte{bootstrap.KeyTokenID: []byte(tokenID), bootstrap.KeyTokenSecret: []byte(tokenSecret),
			bootstrap.KeyUsageAuthentication: []byte("true"), bootstrap.KeyExpiration: []byte(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))}}); err != nil {
		return nil, err
	}
	managed, err := client.For[*mc.ManagedCluster](admin, mc.ManagedClusterResource)
	if err != nil {
		return nil, err
	}

	n := *mcRegistrations
	// anchor: the same objects, created directly
	requests, err := client.For[*mc.ClusterRegistrationRequest](admin, mc.ClusterRegistrationRequestResource)
	if err != nil {
		return nil, err
	}
	anchor, err := timeWorkers(ctx, n, func(i int) error {
		id := fmt.Sprintf("raw%04d", i)
		r, err := requests.Create(ctx, &mc.ClusterRegistrationRequest{ObjectMeta: store.ObjectMeta{Name: mc.RegistrationName(id)},
			Spec: mc.ClusterRegistrationRequestSpec{ClusterID: id}})
		if err != nil {
			return err
		}
		if err := rawProvision(ctx, admin, managed, id); err != nil {
			return err
		}
		r.Status = mc.ClusterRegistrationRequestStatus{Result: mc.RegistrationApproved, DedicatedNamespace: mc.ClusterNamespace(id),
			ManagedClusterName: id, ServiceAccountName: hub.AgentServiceAccount, Token: []byte("raw")}
		_, err = requests.UpdateStatus(ctx, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("anchor: %w", err)
	}
	// the hub starts after the anchor: auto-approving, it would take the
	// anchor's requests
	h, err := hub.New(hub.Config{ParentKubeconfig: kc, Listen: "127.0.0.1:0", AutoApprove: true, Logger: quiet})
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	hubDone := make(chan error, 1)
	go func() { hubDone <- h.Run(runCtx) }()
	defer func() { cancel(); <-hubDone }()
	// ours: registration through the hub
	tokens := make([]string, n)
	ours, err := timeWorkers(ctx, n, func(i int) error {
		r, err := agent.Register(ctx, agent.RegisterConfig{HubURL: h.URL(), HubCAPEM: h.CACertPEM(), BootstrapToken: tokenID + "." + tokenSecret,
			Spec: mc.ClusterRegistrationRequestSpec{ClusterID: fmt.Sprintf("reg%04d", i)}})
		if err != nil {
			return err
		}
		tokens[i] = string(r.Status.Token)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ours: %w", err)
	}
	seen := map[string]bool{}
	for i, t := range tokens {
		if t == "" || seen[t] {
			return nil, fmt.Errorf("registration %d got an empty or shared token", i)
		}
		seen[t] = true
	}
	return []Result{{Name: "mc-register-1000", Ours: float64(n) / ours.Seconds(), Anchor: float64(n) / anchor.Seconds(),
		Unit: "registrations/s", HigherIsBetter: true}}, nil
}

// timeWorkers runs fn(0..n-1) on mcRegisterWorkers goroutines and returns
// the wall time, or the first error.
func timeWorkers(ctx context.Context, n int, fn func(i int) error) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	start := time.Now()
	for range mcRegisterWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), first
}

// rawProvision creates what the hub creates for a registered cluster: its
// namespace, ManagedCluster, service account, Role, RoleBinding and a
// token of the service account.
func rawProvision(ctx context.Context, cs *client.Clientset, managed interface {
	Create(context.Context, *mc.ManagedCluster) (*mc.ManagedCluster, error)
}, id string) error {
	ns := mc.ClusterNamespace(id)
	if _, err := cs.Namespaces().Create(ctx, &api.Namespace{ObjectMeta: store.ObjectMeta{Name: ns}}); err != nil {
		return err
	}
	if _, err := managed.Create(ctx, &mc.ManagedCluster{ObjectMeta: store.ObjectMeta{Name: id, Namespace: ns}, Spec: mc.ManagedClusterSpec{ClusterID: id}}); err != nil {
		return err
	}
	if _, err := cs.ServiceAccounts().Create(ctx, &api.ServiceAccount{ObjectMeta: store.ObjectMeta{Name: hub.AgentServiceAccount, Namespace: ns}}); err != nil {
		return err
	}
	if _, err := cs.Roles().Create(ctx, &rbac.Role{ObjectMeta: store.ObjectMeta{Name: hub.AgentRole, Namespace: ns}, Rules: []rbac.PolicyRule{
		{APIGroups: []string{mc.GroupName}, Resources: []string{"managedclusters/status"}, Verbs: []string{"get", "update", "patch"}, ResourceNames: []string{id}},
		{APIGroups: []string{mc.GroupName}, Resources: []string{"descriptions", "descriptions/status"}, Verbs: []string{"get", "list", "watch", "update", "patch"}},
	}}); err != nil {
		return err
	}
	if _, err := cs.RoleBindings().Create(ctx, &rbac.RoleBinding{ObjectMeta: store.ObjectMeta{Name: hub.AgentRole, Namespace: ns},
		Subjects: []rbac.Subject{{Kind: "ServiceAccount", Name: hub.AgentServiceAccount, Namespace: ns}},
		RoleRef:  rbac.RoleRef{APIGroup: rbac.GroupName, Kind: "Role", Name: hub.AgentRole}}); err != nil {
		return err
	}
	secs := int64(hub.DefaultAgentTokenExpiration / time.Second)
	tr := authentication.TokenRequest{Spec: authentication.TokenRequestSpec{ExpirationSeconds: &secs}}
	tr.APIVersion, tr.Kind = "authentication.k8s.io/v1", "TokenRequest"
	body, _ := json.Marshal(tr)
	req, err := http.NewRequestWithContext(ctx, "POST", fmt.Sprintf("%s/api/v1/namespaces/%s/serviceaccounts/%s/token", cs.Server(), ns, hub.AgentServiceAccount), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := cs.HTTPClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 || !strings.Contains(string(data), `"token"`) {
		return fmt.Errorf("token of %s: %s: %s", ns, resp.Status, data)
	}
	return nil
}
