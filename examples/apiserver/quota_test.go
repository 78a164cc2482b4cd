package apiserver

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/etcdtest"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// quotaServers are n apiservers' quota plugins (each with its own stores,
// cache and lock) on one backend.
func quotaServers(t *testing.T, n int, b store.Backend) ([]*resourceQuota, []*resources) {
	t.Helper()
	var qs []*resourceQuota
	var rss []*resources
	for range n {
		rs, err := newResources(b, nil)
		if err != nil {
			t.Fatal(err)
		}
		q, err := newResourceQuota(rs.quotas.st, rs.usage, discard)
		if err != nil {
			t.Fatal(err)
		}
		runPlugin(t, q.Run)
		qs, rss = append(qs, q), append(rss, rs)
	}
	return qs, rss
}

func createPodVia(q *resourceQuota, rs *resources, a rest.Attributes) error {
	return q.Validate(context.Background(), a, func(ctx context.Context) error {
		_, err := rs.pods.st.Create(ctx, a.Object.(*api.Pod))
		return err
	})
}

// TestResourceQuotaAcrossServers is issue 12 case 15: with two apiservers
// on one store, concurrent creates never exceed "pods: 5" (each create
// compare-and-swaps the quota's usage in its own transaction), and the
// quota's status.used says what was charged.
func TestResourceQuotaAcrossServers(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		b := memory.New()
		t.Cleanup(func() { b.Close() })
		quotaAcrossServers(t, b)
	})
	t.Run("etcd", func(t *testing.T) { quotaAcrossServers(t, etcdtest.Start(t).Backend()) })
}

func quotaAcrossServers(t *testing.T, b store.Backend) {
	qs, rss := quotaServers(t, 3, b)
	createQuota(t, rss[0], "q", api.ResourceList{"pods": api.MustParse("5")})
	for round := range 3 {
		var admitted, refused atomic.Int32
		var wg sync.WaitGroup
		for i := range 24 {
			wg.Go(func() {
				k := i % len(qs)
				err := createPodVia(qs[k], rss[k], podAttrs("q", fmt.Sprintf("r%d-p%d", round, i), ""))
				switch {
				case err == nil:
					admitted.Add(1)
				case statusCode(err) == 403:
					refused.Add(1)
				default:
					t.Errorf("create: %v", err)
				}
			})
		}
		wg.Wait()
		pods, err := rss[0].pods.st.List(t.Context(), "q", store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var running []*api.Pod
		for _, p := range pods.Items {
			if p.Status.Phase != api.PodSucceeded {
				running = append(running, p)
			}
		}
		if len(running) != 5 || admitted.Load() != 5 || refused.Load() != 19 {
			t.Fatalf("round %d: %d running pods, %d admitted, %d refused; want 5, 5, 19", round, len(running), admitted.Load(), refused.Load())
		}
		quota, err := rss[0].quotas.st.Get(t.Context(), "q", "compute")
		if err != nil {
			t.Fatal(err)
		}
		if u := quota.Status.Used["pods"]; u.String() != "5" {
			t.Fatalf("round %d: status.used %v, want pods=5", round, quota.Status.Used)
		}
		// finished pods free their place under "pods"
		for _, p := range running {
			p.Status.Phase = api.PodSucceeded
			if _, err := rss[0].pods.st.Update(t.Context(), p); err != nil {
				t.Fatal(err)
			}
		}
	}
	// count/pods counts every stored pod, finished ones too: 15 are stored
	q := registry.ResourceQuotaKind.New()
	q.Namespace, q.Name, q.Spec.Hard = "q", "objects", api.ResourceList{"count/pods": api.MustParse("16")}
	if _, err := rss[1].quotas.st.Create(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	if err := createPodVia(qs[1], rss[1], podAttrs("q", "sixteenth", "")); err != nil {
		t.Fatalf("16th pod: %v", err)
	}
	err := createPodVia(qs[2], rss[2], podAttrs("q", "last", ""))
	if statusCode(err) != 403 || !strings.Contains(err.Error(), "count/pods") {
		t.Fatalf("create past count/pods: %v, want 403 naming count/pods", err)
	}
}

// TestResourceQuotaHTTP is issue 12 case 15 over HTTP (embedded etcd):
// a finished pod cannot come back past the quota (422), quota names the
// server would not enforce are 422, count/<resource>[.<group>] and the
// legacy names are enforced on every namespaced resource, a dry run
// charges nothing, and status.used shows the charge.
func TestResourceQuotaHTTP(t *testing.T) {
	s := startServer(t)
	admin := s.httpClient(t, true)
	do := func(method, path, ctype, body string) (int, string) {
		t.Helper()
		return s.rawType(t, admin, method, path, ctype, body)
	}
	const j, mp = "application/json", "application/merge-patch+json"
	const quotas = "/api/v1/namespaces/default/resourcequotas"
	quota := func(name, hard string) string {
		return `{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"` + name + `"},"spec":{"hard":{` + hard + `}}}`
	}
	pod := func(name string) string { return strings.Replace(podBody, `"name":"p"`, `"name":"`+name+`"`, 1) }
	svc := func(name string) string {
		return `{"apiVersion":"v1","kind":"Service","metadata":{"name":"` + name + `"},"spec":{"ports":[{"port":80}]}}`
	}
	deploy := func(name string) string {
		return strings.Replace(webDeployment, `"name":"web"`, `"name":"`+name+`"`, 1)
	}
	event := `{"apiVersion":"v1","kind":"Event","metadata":{"name":"e"},"involvedObject":{"kind":"Pod","name":"a","namespace":"default"},"reason":"R","message":"m"}`

	rev := s.revision(t)
	for _, bad := range []string{`"gpus":"1"`, `"count/widgets":"1"`, `"count/nodes":"1"`, `"count/deployments":"1"`, `"requests.storage":"1Gi"`} {
		if code, body := do("POST", quotas, j, quota("bad", bad)); code != 422 || !strings.Contains(body, "spec.hard[") {
			t.Errorf("quota %s: %d %s, want 422", bad, code, body)
		}
	}
	if got := s.revision(t); got != rev {
		t.Fatalf("refused quotas wrote: revision %d -> %d", rev, got)
	}
	// count/services 2: the kubernetes Service in default is one, as in Kubernetes
	if code, body := do("POST", quotas, j, quota("q", `"pods":"2","count/services":"2","count/deployments.apps":"1","count/events":"0","resourcequotas":"1"`)); code != 201 {
		t.Fatalf("quota: %d %s", code, body)
	}
	for _, c := range []struct {
		method, path, ctype, body string
		code                      int
		want                      string
	}{
		{"POST", "/api/v1/namespaces/default/pods", j, pod("a"), 201, ""},
		{"POST", "/api/v1/namespaces/default/pods?dryRun=All", j, pod("dry"), 201, ""},
		{"POST", "/api/v1/namespaces/default/pods", j, pod("b"), 201, ""},
		{"POST", "/api/v1/namespaces/default/pods", j, pod("c"), 403, "exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2"},
		{"PATCH", "/api/v1/namespaces/default/pods/a/status", mp, `{"status":{"phase":"Succeeded"}}`, 200, ""},
		{"POST", "/api/v1/namespaces/default/pods", j, pod("c"), 201, ""},
		// the bypass: a finished pod may not come back to life
		{"PATCH", "/api/v1/namespaces/default/pods/a/status", mp, `{"status":{"phase":"Running"}}`, 422, "terminal phase Succeeded"},
		{"PUT", "/api/v1/namespaces/default/pods/a/status", j, `{"metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"nginx"}]},"status":{"phase":"Pending"}}`, 422, "status.phase"},
		{"POST", "/api/v1/namespaces/default/services?dryRun=All", j, svc("dry"), 201, ""},
		{"POST", "/api/v1/namespaces/default/services", j, svc("s1"), 201, ""},
		{"POST", "/api/v1/namespaces/default/services", j, svc("s2"), 403, "count/services"},
		{"POST", "/apis/apps/v1/namespaces/default/deployments", j, deploy("d1"), 201, ""},
		{"POST", "/apis/apps/v1/namespaces/default/deployments", j, deploy("d2"), 403, "count/deployments.apps"},
		{"POST", "/api/v1/namespaces/default/events", j, event, 403, "count/events"},
		{"POST", quotas, j, quota("second", `"cpu":"1"`), 403, "resourcequotas"},
		{"POST", "/api/v1/namespaces/kube-public/services", j, svc("elsewhere"), 201, ""},
	} {
		code, body := do(c.method, c.path, c.ctype, c.body)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s %s %.60s: %d %s, want %d with %q", c.method, c.path, c.body, code, body, c.code, c.want)
		}
	}
	code, body := do("GET", quotas+"/q", "", "")
	if code != 200 {
		t.Fatalf("get quota: %d %s", code, body)
	}
	for _, want := range []string{`"used":{`, `"pods":"2"`, `"count/services":"2"`, `"count/deployments.apps":"1"`} {
		if i := strings.Index(body, `"status"`); i < 0 || !strings.Contains(body[i:], want) {
			t.Errorf("quota status lacks %s: %s", want, body)
		}
	}
}
