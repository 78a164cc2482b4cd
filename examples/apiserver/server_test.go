package apiserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/etcdtest"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// testServer is an apiserver on an embedded etcd in a temporary directory.
type testServer struct {
	*Server
	dir        string
	kubeconfig string
	// stop ends Run and returns its error (once; later calls return the
	// same error).
	stop func() error
}

// runServer creates and runs a server, and waits until it is ready; the
// test's cleanup stops it and fails the test if Run failed.
func runServer(t *testing.T, cfg Config) (*Server, func() error) {
	t.Helper()
	return runServerWith(t, cfg, nil)
}

// runServerWith is runServer that lets before set the server's test hooks
// before Run.
func runServerWith(t *testing.T, cfg Config, before func(*Server)) (*Server, func() error) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("creating the apiserver: %v", err)
	}
	if before != nil {
		before(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
		})
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("apiserver Run: %v", err)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		runErr = err
		once.Do(cancel)
		t.Fatalf("apiserver Run ended before it was ready: %v", err)
	}
	return s, stop
}

func startServer(t *testing.T, mutate ...func(*Config)) *testServer {
	t.Helper()
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Listen: "127.0.0.1:0", EtcdNoFsync: true, EtcdLogLevel: "off", KubeconfigOut: filepath.Join(dir, "kubeconfig")}
	for _, m := range mutate {
		m(&cfg)
	}
	s, stop := runServer(t, cfg)
	return &testServer{Server: s, dir: dir, kubeconfig: cfg.KubeconfigOut, stop: stop}
}

// httpClient returns a client trusting the server, presenting the admin
// certificate if admin is true.
func (s *testServer) httpClient(t *testing.T, admin bool) *http.Client {
	t.Helper()
	var cert, key []byte
	if admin {
		cert, key = s.PKI().AdminCert, s.PKI().AdminKey
	}
	tc, err := s.ClientTLS(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
}

func podClient(t *testing.T, s *testServer, opts ...rest.ClientOption) *rest.Client[*api.Pod] {
	t.Helper()
	c, err := rest.NewClient[*api.Pod](s.httpClient(t, len(opts) == 0), s.URL(), registry.PodKind.Resource(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newPod(ns, name string, labels map[string]string) *api.Pod {
	p := registry.PodKind.New()
	p.Namespace, p.Name, p.Labels = ns, name, labels
	p.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
	return p
}

func (s *testServer) revision(t *testing.T) int64 {
	t.Helper()
	rev, err := s.Backend().Revision(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

func (s *testServer) raw(t *testing.T, hc *http.Client, method, path, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

const podBody = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}`

func TestAuthnAuthz(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.csv")
	rules := filepath.Join(dir, "rules.json")
	os.WriteFile(tokens, []byte("t-alice,alice,1,\"devs,readers\"\nt-bob,bob,2\n"), 0o600)
	os.WriteFile(rules, []byte(`[
		{"group":"system:masters","verbs":["*"],"resources":["*"]},
		{"group":"readers","verbs":["get","list","watch"],"resources":["pods"],"namespaces":["default"]},
		{"user":"bob","verbs":["create"],"resources":["pods"],"namespaces":["team"]}
	]`), 0o600)
	s := startServer(t, func(c *Config) { c.TokenFile, c.AuthzFile = tokens, rules })
	anon := s.httpClient(t, false)
	rev := s.revision(t)
	for _, tc := range []struct {
		name, method, path, token, body string
		code                            int
	}{
		{"no credentials", "POST", "/api/v1/namespaces/default/pods", "", podBody, 401},
		{"unknown token", "POST", "/api/v1/namespaces/default/pods", "nope", podBody, 401},
		{"reader may not create", "POST", "/api/v1/namespaces/default/pods", "t-alice", podBody, 403},
		{"reader only in default", "GET", "/api/v1/namespaces/kube-system/pods", "t-alice", "", 403},
		{"bob only in team", "POST", "/api/v1/namespaces/default/pods", "t-bob", podBody, 403},
		{"bob may not delete", "DELETE", "/api/v1/namespaces/team/pods/p", "t-bob", "", 403},
		{"no token for discovery", "GET", "/api", "", "", 401},
	} {
		code, body := s.raw(t, anon, tc.method, tc.path, tc.token, tc.body)
		if code != tc.code || !strings.Contains(body, `"kind":"Status"`) {
			t.Errorf("%s: %s %s: %d %s, want %d with a Status", tc.name, tc.method, tc.path, code, body, tc.code)
		}
	}
	if got := s.revision(t); got != rev {
		t.Fatalf("rejected requests wrote to etcd: revision %d -> %d", rev, got)
	}
	// allowed requests
	if code, body := s.raw(t, anon, "GET", "/api/v1/namespaces/default/pods", "t-alice", ""); code != 200 {
		t.Fatalf("reader list: %d %s", code, body)
	}
	if code, body := s.raw(t, anon, "GET", "/healthz", "", ""); code != 200 || body != "ok" {
		t.Fatalf("healthz: %d %s", code, body)
	}
	// bob creates in team: the namespace does not exist yet -> 404 (admission), nothing written
	if code, body := s.raw(t, anon, "POST", "/api/v1/namespaces/team/pods", "t-bob", podBody); code != 404 || !strings.Contains(body, `namespaces \"team\" not found`) {
		t.Fatalf("create in a missing namespace: %d %s", code, body)
	}
	admin := s.httpClient(t, true)
	if code, body := s.raw(t, admin, "POST", "/api/v1/namespaces", "", `{"metadata":{"name":"team"}}`); code != 201 {
		t.Fatalf("create namespace: %d %s", code, body)
	}
	if code, body := s.raw(t, anon, "POST", "/api/v1/namespaces/team/pods", "t-bob", podBody); code != 201 {
		t.Fatalf("bob create in team: %d %s", code, body)
	}
	// a user from a client certificate
	cert, key, err := s.PKI().IssueClientCert("carol", "readers")
	if err != nil {
		t.Fatal(err)
	}
	tc, _ := s.ClientTLS(cert, key)
	carol := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
	if code, _ := s.raw(t, carol, "GET", "/api/v1/namespaces/default/pods", "", ""); code != 200 {
		t.Fatalf("carol (cert, group readers) list in default: %d", code)
	}
	if code, _ := s.raw(t, carol, "DELETE", "/api/v1/namespaces/team/pods/p", "", ""); code != 403 {
		t.Fatalf("carol delete: %d, want 403", code)
	}
}

func TestAdmissionAndLimits(t *testing.T) {
	s := startServer(t, func(c *Config) { c.MaxBodyBytes = 8 << 10 })
	ctx := context.Background()
	admin := s.httpClient(t, true)
	pods := podClient(t, s)
	// quota: 2 pods, 300m cpu in namespace q
	for _, b := range []string{
		`{"metadata":{"name":"q"}}`,
	} {
		if code, body := s.raw(t, admin, "POST", "/api/v1/namespaces", "", b); code != 201 {
			t.Fatalf("namespace: %d %s", code, body)
		}
	}
	if code, body := s.raw(t, admin, "POST", "/api/v1/namespaces/q/resourcequotas", "",
		`{"metadata":{"name":"compute"},"spec":{"hard":{"pods":"2","requests.cpu":"300m"}}}`); code != 201 {
		t.Fatalf("quota: %d %s", code, body)
	}
	withCPU := func(name, cpu string) *api.Pod {
		p := newPod("q", name, nil)
		p.Spec.Containers[0].Resources.Requests = api.ResourceList{"cpu": api.MustParse(cpu)}
		return p
	}
	if _, err := pods.Create(ctx, withCPU("a", "100m")); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Create(ctx, withCPU("big", "250m")); err == nil || !strings.Contains(err.Error(), "exceeded quota") {
		t.Fatalf("pod over the cpu quota: %v, want exceeded quota", err)
	}
	if _, err := pods.Create(ctx, withCPU("b", "100m")); err != nil {
		t.Fatal(err)
	}
	var ce *rest.ClientError
	if _, err := pods.Create(ctx, withCPU("c", "10m")); !errors.As(err, &ce) || ce.Status.Code != 403 {
		t.Fatalf("third pod under a pods=2 quota: %v, want 403", err)
	}
	l, err := pods.List(ctx, "q", store.ListOptions{})
	if err != nil || len(l.Items) != 2 {
		t.Fatalf("pods in q: %v %v, want a and b only", l, err)
	}
	// validation names the field; nothing written
	rev := s.revision(t)
	bad := newPod("default", "bad", nil)
	bad.Spec.Containers[0].Image = ""
	if _, err := pods.Create(ctx, bad); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "spec.containers[0].image") {
		t.Fatalf("invalid pod: %v", err)
	}
	// oversized body -> 413; malformed selector -> 400
	big := `{"metadata":{"name":"x","annotations":{"a":"` + strings.Repeat("x", 9<<10) + `"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}`
	if code, body := s.raw(t, admin, "POST", "/api/v1/namespaces/default/pods", "", big); code != 413 || !strings.Contains(body, "RequestEntityTooLarge") {
		t.Fatalf("oversized body: %d %s", code, body)
	}
	if code, body := s.raw(t, admin, "GET", "/api/v1/pods?labelSelector=app+in+(a", "", ""); code != 400 || !strings.Contains(body, "labelSelector") {
		t.Fatalf("malformed label selector: %d %s", code, body)
	}
	if code, body := s.raw(t, admin, "GET", "/api/v1/pods?fieldSelector=spec.bogus%3Dx", "", ""); code != 400 || !strings.Contains(body, "spec.bogus") {
		t.Fatalf("unknown field selector: %d %s", code, body)
	}
	if got := s.revision(t); got != rev {
		t.Fatalf("rejected requests wrote: revision %d -> %d", rev, got)
	}
	// namespace deletion: new content is refused meanwhile (403) and after
	// (404); the namespace controller removes the content, then the
	// namespace goes
	if code, body := s.raw(t, admin, "DELETE", "/api/v1/namespaces/q", "", ""); code != 200 {
		t.Fatalf("delete namespace: %d %s", code, body)
	}
	var ce2 *rest.ClientError
	if _, err := pods.Create(ctx, newPod("q", "early", nil)); !errors.As(err, &ce2) || ce2.Status.Code != 403 {
		t.Fatalf("create in a terminating namespace: %v, want 403", err)
	}
	clock := s.runNamespaceController(t)
	waitFor(t, "namespace q to go", func() bool {
		clock.Advance(recheck)
		return s.namespace(t, "q").code == 404
	})
	if _, err := pods.Get(ctx, "q", "a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("pod in deleted namespace: %v, want gone", err)
	}
	if _, err := pods.Create(ctx, newPod("q", "late", nil)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("create in deleted namespace: %v, want 404", err)
	}
	if _, err := pods.Get(ctx, "q", "late"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a pod was created in a deleted namespace: %v", err)
	}
}

func TestRateLimit(t *testing.T) {
	s := startServer(t, func(c *Config) { c.RateLimit, c.RateBurst = 0.001, 3 })
	admin := s.httpClient(t, true)
	rev := s.revision(t)
	var codes []int
	for i := range 5 {
		method, body := "GET", ""
		if i >= 3 {
			method, body = "POST", podBody
		}
		code, resp := s.raw(t, admin, method, "/api/v1/namespaces/default/pods", "", body)
		codes = append(codes, code)
		if code == 429 && !strings.Contains(resp, "TooManyRequests") {
			t.Fatalf("429 without a TooManyRequests Status: %s", resp)
		}
	}
	if codes[0] != 200 || codes[2] != 200 || codes[3] != 429 || codes[4] != 429 {
		t.Fatalf("codes %v: want 3 allowed (burst) then 429", codes)
	}
	if got := s.revision(t); got != rev {
		t.Fatalf("rate-limited creates wrote: revision %d -> %d", rev, got)
	}
}

func TestShutdownEndsWatches(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	pods := podClient(t, s)
	w, err := pods.Watch(ctx, "default", store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Create(ctx, newPod("default", "a", nil)); err != nil {
		t.Fatal(err)
	}
	if ev := <-w.Events(); ev.Type != watch.Added || ev.Object.Name != "a" {
		t.Fatalf("event: %+v", ev)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	for range w.Events() {
	}
	if !errors.Is(w.Err(), watch.ErrClosed) {
		t.Fatalf("watch ended with %v, want a clean end (ErrClosed)", w.Err())
	}
}

func TestExternalEtcd(t *testing.T) {
	e := etcdtest.Start(t)
	s := startServer(t, func(c *Config) { c.EtcdServers = e.Endpoints() })
	if _, err := podClient(t, s).Create(context.Background(), newPod("default", "ext", nil)); err != nil {
		t.Fatal(err)
	}
	st, err := store.New[*api.Pod](e.Backend(), registry.PodKind.Resource())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(context.Background(), "default", "ext"); err != nil {
		t.Fatalf("the pod is not in the external etcd: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "DataDir is required"},
		{Config{DataDir: "x", Listen: "nope"}, "Listen"},
		{Config{DataDir: "x", Listen: "127.0.0.1:99999"}, "bad port"},
		{Config{DataDir: "x", RateLimit: -1}, "must not be negative"},
		{Config{DataDir: "x", PriorityAndFairnessQueueWait: -1}, "PriorityAndFairnessQueueWait must not be negative"},
	} {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error mentioning %q", tc.cfg, err, tc.want)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "rules.json"), []byte(`[{"user":"a"}]`), 0o600)
	if _, err := New(Config{DataDir: dir, AuthzFile: filepath.Join(dir, "rules.json")}); err == nil || !strings.Contains(err.Error(), "verbs") {
		t.Errorf("bad rules file: %v", err)
	}
}

// TestRBACNamesInPath: RBAC objects take Kubernetes' path segment names
// ("system:kube-scheduler"), in bodies and in paths alike: get, update and
// delete by name work; a name with "/" or "%" is still refused, naming it.
func TestRBACNamesInPath(t *testing.T) {
	s := startServer(t)
	hc := s.httpClient(t, true)
	const base = "/apis/rbac.authorization.k8s.io/v1/clusterroles"
	if code, body := s.raw(t, hc, "GET", base+"/system:kube-scheduler", "", ""); code != 200 || !strings.Contains(body, `"name":"system:kube-scheduler"`) {
		t.Fatalf("GET the bootstrap role system:kube-scheduler: %d %s", code, body)
	}
	role := `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"team:reader"},"rules":[]}`
	if code, body := s.raw(t, hc, "POST", base, "", role); code != 201 {
		t.Fatalf("create team:reader: %d %s", code, body)
	}
	code, body := s.raw(t, hc, "GET", base+"/team:reader", "", "")
	if code != 200 {
		t.Fatalf("GET team:reader: %d %s", code, body)
	}
	if code, body := s.raw(t, hc, "PUT", base+"/team:reader", "", body); code != 200 {
		t.Fatalf("PUT team:reader: %d %s", code, body)
	}
	if code, body := s.raw(t, hc, "DELETE", base+"/team:reader", "", ""); code != 200 {
		t.Fatalf("DELETE team:reader: %d %s", code, body)
	}
	if code, body := s.raw(t, hc, "GET", base+"/a%25b", "", ""); code != 400 || !strings.Contains(body, "invalid name in path") {
		t.Errorf("GET a name with %%: %d %s, want 400 naming the path's name", code, body)
	}
	// pods keep the DNS subdomain rule
	if code, body := s.raw(t, hc, "GET", "/api/v1/namespaces/default/pods/a:b", "", ""); code != 400 || !strings.Contains(body, "invalid name in path") {
		t.Errorf("GET pod a:b: %d %s, want 400", code, body)
	}
}
