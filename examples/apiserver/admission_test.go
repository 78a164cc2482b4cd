package apiserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

var discard = slog.New(slog.DiscardHandler)

// memResources is every served resource on an in-memory backend.
func memResources(t *testing.T) *resources {
	t.Helper()
	b := memory.New()
	t.Cleanup(func() { b.Close() })
	rs, err := newResources(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// runPlugin runs a plugin's informer until the test ends.
func runPlugin(t *testing.T, run func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("plugin Run: %v", err)
		}
	})
}

func createNamespace(t *testing.T, rs *resources, name string, phase api.NamespacePhase) *api.Namespace {
	t.Helper()
	ns := registry.NamespaceKind.New()
	ns.Name, ns.Status.Phase = name, phase
	out, err := rs.namespaces.st.Create(t.Context(), ns)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func podAttrs(ns, name string, cpu string) rest.Attributes {
	p := newPod(ns, name, nil)
	if cpu != "" {
		p.Spec.Containers[0].Resources.Requests = api.ResourceList{"cpu": api.MustParse(cpu)}
	}
	return rest.Attributes{Verb: "create", Resource: api.PodResource, Namespace: ns, Name: name, Object: p}
}

// writeVia returns a write func that records that it ran.
func writeVia(ran *bool, fn func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		*ran = true
		if fn == nil {
			return nil
		}
		return fn(ctx)
	}
}

func statusCode(err error) int {
	var se *watch.StatusError
	if errors.As(err, &se) {
		return int(se.Status.Code)
	}
	return 0
}

func TestNamespaceLifecyclePlugin(t *testing.T) {
	rs := memResources(t)
	l, err := newNamespaceLifecycle(rs.namespaces.st, discard)
	if err != nil {
		t.Fatal(err)
	}
	createNamespace(t, rs, "live", api.NamespaceActive)
	createNamespace(t, rs, "dying", api.NamespaceTerminating)
	check := func(phase string) {
		for _, tc := range []struct {
			ns   string
			code int
		}{{"live", 0}, {"missing", 404}, {"dying", 403}} {
			var ran bool
			err := l.Validate(t.Context(), podAttrs(tc.ns, "p", ""), writeVia(&ran, nil))
			if statusCode(err) != tc.code || ran != (tc.code == 0) || (tc.code == 0) != (err == nil) {
				t.Errorf("%s: create in %s: %v (wrote %v), want code %d", phase, tc.ns, err, ran, tc.code)
			}
		}
		// cluster-scoped kinds, subresources and other verbs pass
		var ran bool
		a := rest.Attributes{Verb: "update", Resource: api.PodResource, Namespace: "missing", Name: "p", Object: newPod("missing", "p", nil)}
		if err := l.Validate(t.Context(), a, writeVia(&ran, nil)); err != nil || !ran {
			t.Errorf("%s: update: %v, wrote %v", phase, err, ran)
		}
	}
	check("before the cache synced (store lookups)")
	runPlugin(t, l.Run)
	if err := l.cache.WaitForSync(t.Context()); err != nil {
		t.Fatal(err)
	}
	check("from the cache")
	// a namespace created a moment ago, not yet in the cache, is found
	createNamespace(t, rs, "fresh", api.NamespaceActive)
	var ran bool
	if err := l.Validate(t.Context(), podAttrs("fresh", "p", ""), writeVia(&ran, nil)); err != nil || !ran {
		t.Fatalf("create in a namespace made a moment ago: %v", err)
	}
}

// TestNamespaceDeleteMarksTerminating: a delete of a namespace through
// the REST handler (single or collection) only marks it Terminating (its
// content stays for the namespace controller), the immortal namespaces
// cannot be deleted, and creates in it are refused at once with the
// NamespaceTerminating cause, even before the plugin's cache sees it.
func TestNamespaceDeleteMarksTerminating(t *testing.T) {
	rs := memResources(t)
	l, err := newNamespaceLifecycle(rs.namespaces.st, discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs.all {
		if err := r.start([]rest.AdmissionPlugin{l}, 1<<20, discard); err != nil {
			t.Fatal(err)
		}
	}
	runPlugin(t, l.Run)
	if err := l.cache.WaitForSync(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"team", "other", "default"} {
		ns := registry.NamespaceKind.New()
		ns.Name = n
		ns.Spec.Finalizers = []api.FinalizerName{api.FinalizerKubernetes}
		registry.NamespaceKind.Default(ns)
		if _, err := rs.namespaces.st.Create(t.Context(), ns); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rs.pods.st.Create(t.Context(), newPod("team", "p", nil)); err != nil {
		t.Fatal(err)
	}
	h := withRequestInfo(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, _ := infoOf(r)
		rs.namespaces.serve(w, r, info)
	}))
	if rec := serveOne(h, request("DELETE", "/api/v1/namespaces/default", "")); rec.Code != 403 {
		t.Fatalf("delete of namespace default: %d %s, want 403", rec.Code, rec.Body)
	}
	if rec := serveOne(h, request("DELETE", "/api/v1/namespaces/team", "")); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"phase":"Terminating"`) {
		t.Fatalf("delete: %d %s, want 200 and phase Terminating", rec.Code, rec.Body)
	}
	if rec := serveOne(h, request("DELETE", "/api/v1/namespaces?fieldSelector=metadata.name%3Dother", "")); rec.Code != 200 {
		t.Fatalf("deletecollection: %d %s", rec.Code, rec.Body)
	}
	for _, n := range []string{"team", "other"} {
		ns, err := rs.namespaces.st.Get(t.Context(), "", n)
		if err != nil || ns.Status.Phase != api.NamespaceTerminating || ns.DeletionTimestamp == nil {
			t.Fatalf("namespace %s after delete: %+v, %v; want it kept, Terminating", n, ns, err)
		}
	}
	if _, err := rs.pods.st.Get(t.Context(), "team", "p"); err != nil {
		t.Fatalf("the namespace's pod: %v, want it kept for the controller", err)
	}
	var ran bool
	err = l.Validate(t.Context(), podAttrs("team", "late", ""), writeVia(&ran, nil))
	var se *watch.StatusError
	if !errors.As(err, &se) || se.Status.Code != 403 || ran || se.Status.Details == nil || len(se.Status.Details.Causes) != 1 ||
		se.Status.Details.Causes[0].Type != NamespaceTerminatingCause {
		t.Fatalf("create in the terminating namespace: %v", err)
	}
}

func createQuota(t *testing.T, rs *resources, ns string, hard api.ResourceList) {
	t.Helper()
	q := registry.ResourceQuotaKind.New()
	q.Namespace, q.Name, q.Spec.Hard = ns, "compute", hard
	if _, err := rs.quotas.st.Create(t.Context(), q); err != nil {
		t.Fatal(err)
	}
}

func TestResourceQuotaPlugin(t *testing.T) {
	rs := memResources(t)
	q, err := newResourceQuota(rs.quotas.st, rs.usage, discard)
	if err != nil {
		t.Fatal(err)
	}
	createQuota(t, rs, "q", api.ResourceList{"pods": api.MustParse("2"), "requests.cpu": api.MustParse("300m")})
	runPlugin(t, q.Run)
	if err := q.cache.WaitForSync(t.Context()); err != nil {
		t.Fatal(err)
	}
	create := func(a rest.Attributes) (bool, error) {
		var ran bool
		err := q.Validate(t.Context(), a, writeVia(&ran, func(ctx context.Context) error {
			_, err := rs.pods.st.Create(ctx, a.Object.(*api.Pod))
			return err
		}))
		return ran, err
	}
	for _, tc := range []struct {
		a    rest.Attributes
		want string // "" admitted, else part of the refusal
	}{
		{podAttrs("q", "a", "100m"), ""},
		{podAttrs("q", "big", "250m"), "exceeded quota: compute, requested: requests.cpu=250m, used: requests.cpu=100m, limited: requests.cpu=300m"},
		{podAttrs("q", "nocpu", ""), "must specify requests.cpu"},
		{podAttrs("q", "b", "100m"), ""},
		{podAttrs("q", "c", "10m"), "exceeded quota: compute, requested: pods=1"},
		{podAttrs("other", "free", ""), ""}, // no quota there
	} {
		ran, err := create(tc.a)
		if tc.want == "" {
			if err != nil || !ran {
				t.Fatalf("%s/%s: %v, want admitted", tc.a.Namespace, tc.a.Name, err)
			}
			continue
		}
		if statusCode(err) != http.StatusForbidden || !strings.Contains(err.Error(), tc.want) || ran {
			t.Fatalf("%s/%s: %v (wrote %v), want 403 mentioning %q", tc.a.Namespace, tc.a.Name, err, ran, tc.want)
		}
	}
	// a quota written through the server applies at once, before the
	// cache has seen it
	var ran bool
	qa := rest.Attributes{Verb: "create", Resource: api.ResourceQuotaResource, Namespace: "new", Name: "compute"}
	if err := q.Validate(t.Context(), qa, writeVia(&ran, func(ctx context.Context) error {
		createQuota(t, rs, "new", api.ResourceList{"pods": api.MustParse("0")})
		return nil
	})); err != nil || !ran {
		t.Fatalf("quota create: %v", err)
	}
	if ran, err := create(podAttrs("new", "p", "")); ran || statusCode(err) != 403 {
		t.Fatalf("pod under a quota written a moment ago: %v (wrote %v), want 403", err, ran)
	}
}

// TestResourceQuotaPluginStress: concurrent pod creates under a quota of
// 5 pods admit exactly 5: the plugin's lock covers check and write.
func TestResourceQuotaPluginStress(t *testing.T) {
	rs := memResources(t)
	q, err := newResourceQuota(rs.quotas.st, rs.usage, discard)
	if err != nil {
		t.Fatal(err)
	}
	createQuota(t, rs, "q", api.ResourceList{"pods": api.MustParse("5")})
	runPlugin(t, q.Run)
	var admitted, refused atomic.Int32
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			a := podAttrs("q", fmt.Sprintf("p%d", i), "")
			err := q.Validate(context.Background(), a, func(ctx context.Context) error {
				_, err := rs.pods.st.Create(ctx, a.Object.(*api.Pod))
				return err
			})
			switch {
			case err == nil:
				admitted.Add(1)
			case statusCode(err) == 403:
				refused.Add(1)
			default:
				t.Errorf("create p%d: %v", i, err)
			}
		})
	}
	wg.Wait()
	l, err := rs.pods.st.List(t.Context(), "q", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 5 || admitted.Load() != 5 || refused.Load() != 27 {
		t.Fatalf("%d pods stored, %d admitted, %d refused; want 5, 5, 27", len(l.Items), admitted.Load(), refused.Load())
	}
}
