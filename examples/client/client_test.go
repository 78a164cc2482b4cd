package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// startAPIServer runs a real apiserver in-process for the test.
func startAPIServer(t testing.TB, mutate ...func(*apiserver.Config)) *apiserver.Server {
	t.Helper()
	cfg := apiserver.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", EtcdNoFsync: true, EtcdLogLevel: "off"}
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := apiserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("apiserver Run: %v", err)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		done <- err
		t.Fatalf("apiserver: %v", err)
	}
	return s
}

func newPod(ns, name string) *api.Pod {
	p := &api.Pod{}
	p.Namespace, p.Name = ns, name
	p.Spec.Containers = []api.Container{{Name: "c", Image: "nginx:1.27"}}
	return p
}

// TestClientsetAgainstAPIServer: the kubeconfig the apiserver writes gives
// working typed clients of every kind (client certificate auth), and a
// shared informer over them sees changes.
func TestClientsetAgainstAPIServer(t *testing.T) {
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	s := startAPIServer(t, func(c *apiserver.Config) { c.KubeconfigOut = kc })
	cs, err := client.New(client.Config{KubeconfigPath: kc})
	if err != nil {
		t.Fatal(err)
	}
	if cs.Server() != s.URL() || cs.Namespace() != "default" {
		t.Fatalf("server %q namespace %q, want %q default", cs.Server(), cs.Namespace(), s.URL())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// every typed client reaches its resource
	for name, list := range map[string]func() error{
		"namespaces":     func() error { _, err := cs.Namespaces().List(ctx, "", store.ListOptions{}); return err },
		"nodes":          func() error { _, err := cs.Nodes().List(ctx, "", store.ListOptions{}); return err },
		"pods":           func() error { _, err := cs.Pods().List(ctx, "", store.ListOptions{}); return err },
		"services":       func() error { _, err := cs.Services().List(ctx, "", store.ListOptions{}); return err },
		"endpoints":      func() error { _, err := cs.Endpoints().List(ctx, "", store.ListOptions{}); return err },
		"events":         func() error { _, err := cs.Events().List(ctx, "", store.ListOptions{}); return err },
		"resourcequotas": func() error { _, err := cs.ResourceQuotas().List(ctx, "", store.ListOptions{}); return err },
		"leases":         func() error { _, err := cs.Leases().List(ctx, "", store.ListOptions{}); return err },
		"replicasets":    func() error { _, err := cs.ReplicaSets().List(ctx, "", store.ListOptions{}); return err },
		"deployments":    func() error { _, err := cs.Deployments().List(ctx, "", store.ListOptions{}); return err },
		"statefulsets":   func() error { _, err := cs.StatefulSets().List(ctx, "", store.ListOptions{}); return err },
		"daemonsets":     func() error { _, err := cs.DaemonSets().List(ctx, "", store.ListOptions{}); return err },
		"limitranges":    func() error { _, err := cs.LimitRanges().List(ctx, "", store.ListOptions{}); return err },
		"configmaps":     func() error { _, err := cs.ConfigMaps().List(ctx, "", store.ListOptions{}); return err },
		"secrets":        func() error { _, err := cs.Secrets().List(ctx, "", store.ListOptions{}); return err },
		"serviceaccounts": func() error {
			_, err := cs.ServiceAccounts().List(ctx, "", store.ListOptions{})
			return err
		},
		"replicationcontrollers": func() error {
			_, err := cs.ReplicationControllers().List(ctx, "", store.ListOptions{})
			return err
		},
		"podtemplates": func() error { _, err := cs.PodTemplates().List(ctx, "", store.ListOptions{}); return err },
		"persistentvolumes": func() error {
			_, err := cs.PersistentVolumes().List(ctx, "", store.ListOptions{})
			return err
		},
		"persistentvolumeclaims": func() error {
			_, err := cs.PersistentVolumeClaims().List(ctx, "", store.ListOptions{})
			return err
		},
		"controllerrevisions": func() error {
			_, err := cs.ControllerRevisions().List(ctx, "", store.ListOptions{})
			return err
		},
		"jobs":           func() error { _, err := cs.Jobs().List(ctx, "", store.ListOptions{}); return err },
		"cronjobs":       func() error { _, err := cs.CronJobs().List(ctx, "", store.ListOptions{}); return err },
		"endpointslices": func() error { _, err := cs.EndpointSlices().List(ctx, "", store.ListOptions{}); return err },
		"storageclasses": func() error { _, err := cs.StorageClasses().List(ctx, "", store.ListOptions{}); return err },
		"poddisruptionbudgets": func() error {
			_, err := cs.PodDisruptionBudgets().List(ctx, "", store.ListOptions{})
			return err
		},
		"events.k8s.io": func() error { _, err := cs.EventsV1().List(ctx, "", store.ListOptions{}); return err },
		"certificatesigningrequests": func() error {
			_, err := cs.CertificateSigningRequests().List(ctx, "", store.ListOptions{})
			return err
		},
		"roles":        func() error { _, err := cs.Roles().List(ctx, "", store.ListOptions{}); return err },
		"rolebindings": func() error { _, err := cs.RoleBindings().List(ctx, "", store.ListOptions{}); return err },
		"clusterroles": func() error { _, err := cs.ClusterRoles().List(ctx, "", store.ListOptions{}); return err },
		"clusterrolebindings": func() error {
			_, err := cs.ClusterRoleBindings().List(ctx, "", store.ListOptions{})
			return err
		},
	} {
		if err := list(); err != nil {
			t.Errorf("list %s: %v", name, err)
		}
	}
	// the system priority classes exist from the start
	pcs, err := cs.PriorityClasses().List(ctx, "", store.ListOptions{})
	if err != nil || len(pcs.Items) != 2 || pcs.Items[0].Name != "system-cluster-critical" || pcs.Items[0].Value != 2000000000 ||
		pcs.Items[1].Name != "system-node-critical" || pcs.Items[1].Value != 2000001000 {
		t.Fatalf("priority classes: %+v %v", pcs, err)
	}
	// typed round trips of the new kinds: defaults applied, errors typed
	cm := &api.ConfigMap{Data: map[string]string{"a": "1"}}
	cm.Namespace, cm.Name = "default", "conf"
	if _, err := cs.ConfigMaps().Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	sec := &api.Secret{StringData: map[string]string{"password": "x"}}
	sec.Namespace, sec.Name = "default", "creds"
	got, err := cs.Secrets().Create(ctx, sec)
	if err != nil || got.Type != api.SecretTypeOpaque || string(got.Data["password"]) != "x" || got.StringData != nil {
		t.Fatalf("secret: %+v %v (want type Opaque, stringData moved into data)", got, err)
	}
	if _, err := cs.ConfigMaps().Create(ctx, cm); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("second create: %v, want ErrAlreadyExists", err)
	}
	bad := &api.ConfigMap{Data: map[string]string{"a b": "1"}}
	bad.Namespace, bad.Name = "default", "bad"
	if _, err := cs.ConfigMaps().Create(ctx, bad); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "data[a b]") {
		t.Fatalf("invalid configmap: %v", err)
	}
	if _, err := cs.ConfigMaps().Delete(ctx, "default", "conf"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.ConfigMaps().Get(ctx, "default", "conf"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}

	nss, err := cs.Namespaces().List(ctx, "", store.ListOptions{})
	if err != nil {
		t.Fatalf("list namespaces: %v", err)
	}
	var names []string
	for _, ns := range nss.Items {
		names = append(names, ns.Name)
	}
	if got, want := strings.Join(names, ","), "default,kube-node-lease,kube-public,kube-system"; got != want {
		t.Fatalf("namespaces %s, want %s (the ones Kubernetes creates at start)", got, want)
	}

	// a shared informer over the pods client
	inf, release, err := informer.Shared(cs.Informers(), cs.Pods(), informer.Config[*api.Pod]{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	again, release2, err := informer.Shared(cs.Informers(), cs.Pods(), informer.Config[*api.Pod]{Namespace: "default"})
	if err != nil || again != inf {
		t.Fatalf("second Shared: %v, same informer %v", err, again == inf)
	}
	defer release2()
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- cs.Informers().Run(runCtx) }()
	defer func() {
		stop()
		if err := <-ran; err != nil {
			t.Errorf("informer factory Run: %v", err)
		}
	}()
	if err := cs.Informers().WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	created, err := cs.Pods().Create(ctx, newPod("default", "web"))
	if err != nil {
		t.Fatal(err)
	}
	rev, _ := store.ParseRevision(created.ResourceVersion)
	if err := inf.WaitForRevision(ctx, rev); err != nil {
		t.Fatal(err)
	}
	if p, ok := inf.Get("default", "web"); !ok || p.Status.Phase != api.PodPending {
		t.Fatalf("informer: %+v %v, want the created pod (Pending)", p, ok)
	}
}

// TestBearerTokenKubeconfig: a kubeconfig with a token (inline or in a
// file next to it) authenticates as the token's user; a wrong token gets
// 401.
func TestBearerTokenKubeconfig(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.csv")
	rules := filepath.Join(dir, "rules.json")
	os.WriteFile(tokens, []byte("reader-token,reader,1,readers\n"), 0o600)
	os.WriteFile(rules, []byte(`[{"group":"system:masters","verbs":["*"],"resources":["*"]},
		{"group":"readers","verbs":["get","list","watch"],"resources":["pods"]}]`), 0o600)
	s := startAPIServer(t, func(c *apiserver.Config) { c.TokenFile, c.AuthzFile = tokens, rules })
	ca := filepath.Join(dir, "ca.crt")
	os.WriteFile(ca, s.PKI().CACert, 0o600)
	os.WriteFile(filepath.Join(dir, "token"), []byte("reader-token\n"), 0o600)
	kubeconfig := func(user string) string {
		return `apiVersion: v1
kind: Config
current-context: c
contexts:
- name: c
  context: {cluster: k, user: u, namespace: team}
clusters:
- name: k
  cluster: {server: "` + s.URL() + `", certificate-authority: ca.crt}
users:
- name: u
  user: ` + user + "\n"
	}
	ctx := context.Background()
	for _, user := range []string{`{token: reader-token}`, `{tokenFile: token}`} {
		path := filepath.Join(dir, "kubeconfig")
		os.WriteFile(path, []byte(kubeconfig(user)), 0o600)
		cs, err := client.New(client.Config{KubeconfigPath: path})
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		if cs.Namespace() != "team" {
			t.Fatalf("namespace %q, want team", cs.Namespace())
		}
		if _, err := cs.Pods().List(ctx, "", store.ListOptions{}); err != nil {
			t.Fatalf("%s: reader list: %v", user, err)
		}
		var ce *rest.ClientError
		if _, err := cs.Pods().Create(ctx, newPod("default", "x")); !errors.As(err, &ce) || ce.Status.Code != 403 {
			t.Fatalf("%s: reader create: %v, want 403", user, err)
		}
	}
	cs, err := client.New(client.Config{Kubeconfig: []byte(strings.Replace(kubeconfig(`{token: wrong}`), "ca.crt", ca, 1))})
	if err != nil {
		t.Fatal(err)
	}
	var ce *rest.ClientError
	if _, err := cs.Pods().List(ctx, "", store.ListOptions{}); !errors.As(err, &ce) || ce.Status.Code != 401 {
		t.Fatalf("wrong token: %v, want 401", err)
	}
	// Config.Token overrides the kubeconfig's token, read at each request
	var current atomic.Value
	current.Store("wrong")
	cs, err = client.New(client.Config{Kubeconfig: []byte(strings.Replace(kubeconfig(`{token: reader-token}`), "ca.crt", ca, 1)),
		Token: func() string { return current.Load().(string) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Pods().List(ctx, "", store.ListOptions{}); !errors.As(err, &ce) || ce.Status.Code != 401 {
		t.Fatalf("Token giving a wrong token: %v, want 401", err)
	}
	current.Store("reader-token")
	if _, err := cs.Pods().List(ctx, "", store.ListOptions{}); err != nil {
		t.Fatalf("Token renewed to the reader's: %v", err)
	}
}

// TestQPSLimit: the clients of one Clientset share one rate limit; a
// request that cannot be sent before its deadline fails at once without
// reaching the server.
func TestQPSLimit(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[]}`))
	}))
	defer srv.Close()
	kc := []byte(`{"current-context":"c","contexts":[{"name":"c","context":{"cluster":"k"}}],"clusters":[{"name":"k","cluster":{"server":"` + srv.URL + `"}}]}`)
	cs, err := client.New(client.Config{Kubeconfig: kc, QPS: 0.0001, Burst: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if _, err := cs.Pods().List(ctx, "", store.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Nodes().List(ctx, "", store.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Pods().List(ctx, "", store.ListOptions{}); err == nil || !strings.Contains(err.Error(), "rate limit") {
		t.Fatalf("third request within a burst of 2 at 0.0001 QPS (one per 10000s): %v, want a rate limit error", err)
	}
	if n := hits.Load(); n != 2 {
		t.Fatalf("the server saw %d requests, want 2", n)
	}
	unlimited, err := client.New(client.Config{Kubeconfig: kc, QPS: -1})
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if _, err := unlimited.Pods().List(ctx, "", store.ListOptions{}); err != nil {
			t.Fatalf("unlimited: %v", err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  client.Config
		want string
	}{
		{client.Config{}, "Kubeconfig or KubeconfigPath is required"},
		{client.Config{Kubeconfig: []byte("x"), KubeconfigPath: "y"}, "not both"},
		{client.Config{Kubeconfig: []byte("x"), Burst: -1}, "Burst"},
		{client.Config{KubeconfigPath: "/nonexistent/kubeconfig"}, "no such file"},
	} {
		if _, err := client.New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error mentioning %q", tc.cfg, err, tc.want)
		}
	}
}
