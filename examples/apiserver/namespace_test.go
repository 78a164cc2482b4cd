package apiserver

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	nscontroller "github.com/setpoint-dev/setpoint/examples/controllers/namespace"
)

const recheck = 10 * time.Second

// runNamespaceController runs the namespace controller against s (through
// its kubeconfig, as a separate program would) on a fake clock, until the
// test ends.
func (s *testServer) runNamespaceController(t *testing.T) *clockwork.FakeClock {
	t.Helper()
	kc, err := s.Kubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := client.New(client.Config{Kubeconfig: kc, QPS: -1})
	if err != nil {
		t.Fatal(err)
	}
	clock := clockwork.NewFakeClock()
	c, err := nscontroller.New(nscontroller.Config{Client: cs, Clock: clock, RecheckInterval: recheck})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("namespace controller: %v", err)
		}
	})
	return clock
}

// nsState is what a namespace looks like over HTTP.
type nsState struct {
	code       int
	phase      api.NamespacePhase
	deleting   bool
	finalizers []api.FinalizerName
	conditions map[api.NamespaceConditionType]api.NamespaceCondition
}

func (s *testServer) namespace(t *testing.T, name string) nsState {
	t.Helper()
	code, body := s.rawType(t, s.httpClient(t, true), "GET", "/api/v1/namespaces/"+name, "", "")
	st := nsState{code: code, conditions: map[api.NamespaceConditionType]api.NamespaceCondition{}}
	if code != 200 {
		return st
	}
	var n api.Namespace
	if err := json.Unmarshal([]byte(body), &n); err != nil {
		t.Fatal(err)
	}
	st.phase, st.deleting, st.finalizers = n.Status.Phase, n.DeletionTimestamp != nil, n.Spec.Finalizers
	for _, c := range n.Status.Conditions {
		st.conditions[c.Type] = c
	}
	return st
}

// TestNamespaceDeletion is issue 12 case 8 (field-cases 09, tenant/07) and
// the namespace part of case 18 (tenant/12, tenant/13): every path to
// deleting a namespace marks it Terminating; the namespace controller
// deletes its content, reports what remains as conditions, and lets the
// namespace go once it is empty; creates in it meanwhile are 403 with the
// NamespaceTerminating cause; a dry run or a stale fence changes nothing.
func TestNamespaceDeletion(t *testing.T) {
	requireKubectl(t)
	s := startServer(t)
	admin := s.httpClient(t, true)
	must := func(code int, method, path, body string, header ...string) string {
		t.Helper()
		got, resp := s.rawType(t, admin, method, path, "application/json", body, header...)
		if got != code {
			t.Fatalf("%s %s %s: %d %s, want %d", method, path, body, got, resp, code)
		}
		return resp
	}
	const pod = `{"metadata":{"name":"%s"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}`
	podBody := func(name string) string { return strings.Replace(pod, "%s", name, 1) }
	setup := func(ns string) {
		must(201, "POST", "/api/v1/namespaces", `{"metadata":{"name":"`+ns+`"}}`)
		must(201, "POST", "/api/v1/namespaces/"+ns+"/pods", podBody("p1"))
		must(201, "POST", "/api/v1/namespaces/"+ns+"/services", `{"metadata":{"name":"hold","finalizers":["example.com/hold"]},"spec":{"selector":{"app":"x"},"ports":[{"port":80}]}}`)
		must(201, "POST", "/apis/apps/v1/namespaces/"+ns+"/deployments", strings.Replace(webDeployment, `"name":"web"`, `"name":"web"`, 1))
	}
	setup("team")
	setup("prod")
	if st := s.namespace(t, "team"); st.phase != "Active" || len(st.finalizers) != 1 || st.finalizers[0] != "kubernetes" {
		t.Fatalf("a new namespace: %+v, want Active with finalizer kubernetes", st)
	}

	// A dry run (kubectl delete --dry-run=server, or dryRun in the body or
	// the query) and a stale fence change nothing.
	rev := s.revision(t)
	if out := s.kubectl(t, false, "delete", "ns", "prod", "--dry-run=server"); !strings.Contains(out, "(server dry run)") {
		t.Fatalf("kubectl delete --dry-run=server: %s", out)
	}
	must(200, "DELETE", "/api/v1/namespaces/prod", `{"dryRun":["All"]}`)
	must(200, "DELETE", "/api/v1/namespaces/prod?dryRun=All", "")
	must(200, "DELETE", "/api/v1/namespaces?dryRun=All&fieldSelector=metadata.name%3Dprod", "")
	must(400, "DELETE", "/api/v1/namespaces/prod?dryRun=Bogus", "")
	lease := must(201, "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases", `{"metadata":{"name":"ctl"}}`)
	var l objMeta
	json.Unmarshal([]byte(lease), &l)
	leaseRev, _ := strconv.ParseInt(l.ResourceVersion, 10, 64)
	stale := "/setpoint/leases/kube-system/ctl=" + strconv.FormatInt(leaseRev-1, 10)
	rev = s.revision(t)
	if resp := must(409, "DELETE", "/api/v1/namespaces/prod", "", "X-Setpoint-Fence", stale); !strings.Contains(resp, "Fenced") {
		t.Fatalf("namespace delete with a stale fence: %s", resp)
	}
	must(409, "DELETE", "/api/v1/namespaces?fieldSelector=metadata.name%3Dprod", "", "X-Setpoint-Fence", stale)
	if got := s.revision(t); got != rev {
		t.Fatalf("dry runs and fenced deletes wrote: revision %d -> %d", rev, got)
	}
	if st := s.namespace(t, "prod"); st.phase != "Active" || st.deleting {
		t.Fatalf("prod after dry runs: %+v", st)
	}
	must(200, "GET", "/api/v1/namespaces/prod/pods/p1", "")
	// The server's own namespaces are immortal.
	must(403, "DELETE", "/api/v1/namespaces/default", "")

	// The delete marks team Terminating and removes nothing yet: no
	// controller runs.
	s.kubectl(t, false, "delete", "ns", "team", "--wait=false")
	if st := s.namespace(t, "team"); st.phase != "Terminating" || !st.deleting {
		t.Fatalf("team after delete: %+v, want Terminating", st)
	}
	must(200, "GET", "/api/v1/namespaces/team/pods/p1", "")
	resp := must(403, "POST", "/api/v1/namespaces/team/pods", podBody("new"))
	if !strings.Contains(resp, `"reason":"NamespaceTerminating"`) || !strings.Contains(resp, "being terminated") {
		t.Fatalf("create in a terminating namespace: %s", resp)
	}
	if out := s.kubectl(t, true, "-n", "team", "run", "new", "--image=nginx", "--restart=Never"); !strings.Contains(out, "Forbidden") && !strings.Contains(out, "forbidden") {
		t.Fatalf("kubectl run in a terminating namespace: %s", out)
	}
	must(409, "POST", "/api/v1/namespaces", `{"metadata":{"name":"team"}}`)
	// deletecollection marks too.
	must(200, "DELETE", "/api/v1/namespaces?fieldSelector=metadata.name%3Dprod", "")
	if st := s.namespace(t, "prod"); st.phase != "Terminating" {
		t.Fatalf("prod after deletecollection: %+v", st)
	}

	// The controller empties both; the services' finalizer holds them.
	clock := s.runNamespaceController(t)
	tick := func() { clock.Advance(recheck) }
	for _, ns := range []string{"team", "prod"} {
		waitFor(t, ns+"'s conditions", func() bool {
			tick()
			c := s.namespace(t, ns).conditions
			return c[api.NamespaceContentRemaining].Status == "True" && c[api.NamespaceFinalizersRemaining].Status == "True"
		})
		st := s.namespace(t, ns)
		if c := st.conditions[api.NamespaceContentRemaining]; !strings.Contains(c.Message, "services has 1 resource instances") || c.Reason != "SomeResourcesRemain" {
			t.Errorf("%s: %+v", ns, c)
		}
		if c := st.conditions[api.NamespaceFinalizersRemaining]; !strings.Contains(c.Message, "example.com/hold in 1 resource instances") {
			t.Errorf("%s: %+v", ns, c)
		}
		if c := st.conditions[api.NamespaceDeletionContentFailure]; c.Status != "False" {
			t.Errorf("%s: %+v", ns, c)
		}
		if st.phase != "Terminating" {
			t.Fatalf("%s went with content left: %+v", ns, st)
		}
		must(404, "GET", "/api/v1/namespaces/"+ns+"/pods/p1", "")
		must(404, "GET", "/apis/apps/v1/namespaces/"+ns+"/deployments/web", "")
		if svc := must(200, "GET", "/api/v1/namespaces/"+ns+"/services/hold", ""); !strings.Contains(svc, "deletionTimestamp") {
			t.Fatalf("%s: the held service: %s", ns, svc)
		}
		// Its finalizer done, the service goes, and then the namespace.
		if code, body := s.rawType(t, admin, "PATCH", "/api/v1/namespaces/"+ns+"/services/hold", "application/merge-patch+json", `{"metadata":{"finalizers":null}}`); code != 200 {
			t.Fatalf("removing the service's finalizer: %d %s", code, body)
		}
		waitFor(t, ns+" to go", func() bool {
			tick()
			return s.namespace(t, ns).code == 404
		})
	}
	// Re-created, team is empty: nothing of the old one comes back.
	must(201, "POST", "/api/v1/namespaces", `{"metadata":{"name":"team"}}`)
	for _, p := range []string{"/api/v1/namespaces/team/pods", "/api/v1/namespaces/team/services", "/apis/apps/v1/namespaces/team/deployments"} {
		if body := must(200, "GET", p, ""); names(t, body) != "" {
			t.Fatalf("%s in the re-created namespace: %s", p, body)
		}
	}
}

// TestFinalizeAndBindingWritePaths: the special write routes (namespaces
// finalize, pods binding) validate, honour dryRun and fences, and change
// nothing when refused (issue 12 case 18, tenant/12).
func TestFinalizeAndBindingWritePaths(t *testing.T) {
	s := startServer(t)
	admin := s.httpClient(t, true)
	do := func(method, path, ctype, body string, header ...string) (int, string) {
		t.Helper()
		return s.rawType(t, admin, method, path, ctype, body, header...)
	}
	const j = "application/json"
	if code, body := do("POST", "/api/v1/namespaces", j, `{"metadata":{"name":"f"}}`); code != 201 {
		t.Fatalf("namespace: %d %s", code, body)
	}
	if code, body := do("POST", "/api/v1/namespaces/default/pods", j, podBody); code != 201 {
		t.Fatalf("pod: %d %s", code, body)
	}
	_, lease := do("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases", j, `{"metadata":{"name":"scheduler"}}`)
	var l objMeta
	json.Unmarshal([]byte(lease), &l)
	rv, _ := strconv.ParseInt(l.ResourceVersion, 10, 64)
	stale := "/setpoint/leases/kube-system/scheduler=" + strconv.FormatInt(rv-1, 10)
	good := "/setpoint/leases/kube-system/scheduler=" + l.ResourceVersion
	rev := s.revision(t)
	for _, c := range []struct {
		name, method, path, body string
		header                   []string
		code                     int
	}{
		{"finalize: bad finalizer name", "PUT", "/api/v1/namespaces/f/finalize", `{"metadata":{"name":"f"},"spec":{"finalizers":["Bad Name"]}}`, nil, 422},
		{"finalize: another name", "PUT", "/api/v1/namespaces/f/finalize", `{"metadata":{"name":"g"},"spec":{"finalizers":[]}}`, nil, 400},
		{"finalize: stale resourceVersion", "PUT", "/api/v1/namespaces/f/finalize", `{"metadata":{"name":"f","resourceVersion":"1"},"spec":{"finalizers":[]}}`, nil, 409},
		{"finalize: dry run", "PUT", "/api/v1/namespaces/f/finalize?dryRun=All", `{"metadata":{"name":"f"},"spec":{"finalizers":[]}}`, nil, 200},
		{"finalize: stale fence", "PUT", "/api/v1/namespaces/f/finalize", `{"metadata":{"name":"f"},"spec":{"finalizers":[]}}`, []string{"X-Setpoint-Fence", stale}, 409},
		{"finalize: GET", "GET", "/api/v1/namespaces/f/finalize", "", nil, 405},
		{"binding: stale fence", "POST", "/api/v1/namespaces/default/pods/p/binding", `{"target":{"name":"node-a"}}`, []string{"X-Setpoint-Fence", stale}, 409},
		{"binding: dry run", "POST", "/api/v1/namespaces/default/pods/p/binding?dryRun=All", `{"target":{"name":"node-a"}}`, nil, 201},
		{"binding: bad dryRun", "POST", "/api/v1/namespaces/default/pods/p/binding?dryRun=Bogus", `{"target":{"name":"node-a"}}`, nil, 400},
	} {
		if code, body := do(c.method, c.path, j, c.body, c.header...); code != c.code {
			t.Errorf("%s: %d %s, want %d", c.name, code, body, c.code)
		}
	}
	if got := s.revision(t); got != rev {
		t.Fatalf("refused and dry-run writes wrote: revision %d -> %d", rev, got)
	}
	if st := s.namespace(t, "f"); len(st.finalizers) != 1 {
		t.Fatalf("namespace f: %+v", st)
	}
	// With a good fence the binding is made; the finalize empties the
	// finalizers of a live namespace without deleting it.
	if code, body := do("POST", "/api/v1/namespaces/default/pods/p/binding", j, `{"target":{"name":"node-a"}}`, "X-Setpoint-Fence", good); code != 201 {
		t.Fatalf("binding with a good fence: %d %s", code, body)
	}
	if _, body := do("GET", "/api/v1/namespaces/default/pods/p", "", ""); !strings.Contains(body, `"nodeName":"node-a"`) {
		t.Fatalf("pod after binding: %s", body)
	}
	if code, body := do("PUT", "/api/v1/namespaces/f/finalize", j, `{"metadata":{"name":"f"},"spec":{"finalizers":[]}}`); code != 200 {
		t.Fatalf("finalize: %d %s", code, body)
	}
	if st := s.namespace(t, "f"); st.code != 200 || len(st.finalizers) != 0 || st.phase != "Active" {
		t.Fatalf("namespace f after finalize: %+v", st)
	}
}
