package storetest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/store"
)

// StoreOptions tune RunStore.
type StoreOptions struct {
	// Workers and Increments size the no-lost-update test: Workers
	// goroutines each make Increments GuaranteedUpdate increments of one
	// counter. Defaults 16 and 200.
	Workers, Increments int
	// Options are passed to every store.New of the suite, for example
	// store.WithWatchCache to run the suite through a watch cache.
	Options []store.Option
}

// fixedNow is the fake clock's time in the suite.
var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type storeEnv struct {
	b      store.Backend
	prefix string
	s      *store.Store[*Widget] // namespaced
	c      *store.Store[*Widget] // cluster-scoped
	opts   StoreOptions
}

// RunStore runs the typed-store suite over backends from newBackend:
// validation (and that invalid input writes nothing), create/update/delete
// semantics, finalizers, GuaranteedUpdate (including a no-lost-update stress
// test), selectors, paging with continue tokens, watches and fences.
// newBackend is called once per subtest and may return backends sharing
// one server; each subtest uses its own key prefix.
func RunStore(t *testing.T, newBackend func(t *testing.T) store.Backend, opts ...StoreOptions) {
	var o StoreOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Workers <= 0 {
		o.Workers = 16
	}
	if o.Increments <= 0 {
		o.Increments = 200
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, e *storeEnv)
	}{
		{"Create", testStoreCreate},
		{"CreateInvalidWritesNothing", testStoreCreateInvalid},
		{"Update", testStoreUpdate},
		{"UpdateInvalidWritesNothing", testStoreUpdateInvalid},
		{"Generation", testStoreGeneration},
		{"DeletePreconditions", testStoreDeletePreconditions},
		{"Finalizers", testStoreFinalizers},
		{"GuaranteedUpdate", testStoreGuaranteedUpdate},
		{"NoLostUpdate", testStoreNoLostUpdate},
		{"ClusterScoped", testStoreClusterScoped},
		{"ListSelectors", testStoreListSelectors},
		{"ListPaging", testStoreListPaging},
		{"ListBadContinue", testStoreListBadContinue},
		{"Watch", testStoreWatch},
		{"WatchSelector", testStoreWatchSelector},
		{"Fences", testStoreFences},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t)
			if b == nil {
				t.Fatal("newBackend returned nil")
			}
			p := strings.TrimSuffix(uniquePrefix(t), "/")
			s, err := store.New[*Widget](b, WidgetResource, append([]store.Option{store.WithKeyPrefix(p), store.WithClock(clockwork.NewFakeClockAt(fixedNow)), store.WithMaxObjectBytes(4096)}, o.Options...)...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			c, err := store.New[*Widget](b, GizmoResource, append([]store.Option{store.WithKeyPrefix(p)}, o.Options...)...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			tc.fn(t, &storeEnv{b: b, prefix: p, s: s, c: c, opts: o})
		})
	}
}

func (e *storeEnv) create(t *testing.T, w *Widget) *Widget {
	t.Helper()
	out, err := e.s.Create(testCtx(t), w)
	if err != nil {
		t.Fatalf("Create %s/%s: %v", w.Namespace, w.Name, err)
	}
	return out
}

func (e *storeEnv) get(t *testing.T, ns, name string) *Widget {
	t.Helper()
	out, err := e.s.Get(testCtx(t), ns, name)
	if err != nil {
		t.Fatalf("Get %s/%s: %v", ns, name, err)
	}
	return out
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func testStoreCreate(t *testing.T, e *storeEnv) {
	ctx := testCtx(t)
	in := NewWidget("ns1", "w1", map[string]string{"app": "web"})
	in.Spec.Size = 3
	in.Generation = 7                                              // ignored
	in.CreationTimestamp = store.NewTime(fixedNow.Add(-time.Hour)) // ignored
	out := e.create(t, in)
	if in.UID != "" || in.ResourceVersion != "" || in.Kind != "" || in.Generation != 7 {
		t.Fatalf("Create modified its input: %+v", in.ObjectMeta)
	}
	if !uuidV4.MatchString(out.UID) {
		t.Fatalf("UID %q is not a version 4 UUID", out.UID)
	}
	if out.Generation != 1 || !out.CreationTimestamp.Equal(fixedNow) || out.DeletionTimestamp != nil {
		t.Fatalf("Create set generation %d, creationTimestamp %v; want 1, %v", out.Generation, out.CreationTimestamp, fixedNow)
	}
	if out.APIVersion != WidgetResource.APIVersion || out.Kind != WidgetResource.Kind {
		t.Fatalf("TypeMeta = %+v", out.TypeMeta)
	}
	rv, err := store.ParseRevision(out.ResourceVersion)
	if err != nil || rv == 0 {
		t.Fatalf("ResourceVersion %q: %v", out.ResourceVersion, err)
	}
	kv, err := e.b.Get(ctx, e.s.Key("ns1", "w1"))
	if err != nil || kv.ModRevision != rv {
		t.Fatalf("backend Get(%s) = %+v, %v; want revision %d", e.s.Key("ns1", "w1"), kv, err, rv)
	}
	if want := e.prefix + "/widgets/ns1/w1"; e.s.Key("ns1", "w1") != want {
		t.Fatalf("Key = %q, want %q", e.s.Key("ns1", "w1"), want)
	}
	got := e.get(t, "ns1", "w1")
	if got.UID != out.UID || got.ResourceVersion != out.ResourceVersion || got.Spec.Size != 3 || got.Labels["app"] != "web" || got.Kind != "Widget" {
		t.Fatalf("Get = %+v, want %+v", got, out)
	}
	// The caller owns returned objects.
	got.Labels["app"] = "changed"
	if again := e.get(t, "ns1", "w1"); again.Labels["app"] != "web" {
		t.Fatal("a returned object shares state with the store")
	}
	if _, err := e.s.Create(ctx, NewWidget("ns1", "w1", nil)); !errors.Is(err, store.ErrAlreadyExists) || !strings.Contains(err.Error(), "w1") {
		t.Fatalf("Create existing: err = %v, want ErrAlreadyExists naming the key", err)
	}
	gen := &Widget{ObjectMeta: store.ObjectMeta{Namespace: "ns1", GenerateName: "web-"}}
	g := e.create(t, gen)
	if !regexp.MustCompile(`^web-[a-z0-9]{5}$`).MatchString(g.Name) || gen.Name != "" {
		t.Fatalf("generated name %q (input name %q), want web- and 5 characters", g.Name, gen.Name)
	}
	if _, err := e.s.Get(ctx, "ns1", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get missing: err = %v, want ErrNotFound", err)
	}
	if _, err := e.s.Get(ctx, "ns1", "Bad_Name"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("Get bad name: err = %v, want ErrInvalid", err)
	}
}

// expectNoWrite runs fn, which must fail with an error wrapping want and
// naming field, and checks that the backend revision did not move.
func (e *storeEnv) expectNoWrite(t *testing.T, what string, want error, field string, fn func() error) {
	t.Helper()
	before := mustRevision(t, e.b)
	err := fn()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	} else if field != "" && !strings.Contains(err.Error(), field) {
		t.Errorf("%s: error %q does not name %q", what, err, field)
	}
	if after := mustRevision(t, e.b); after != before {
		t.Errorf("%s: the backend revision moved from %d to %d: something was written", what, before, after)
	}
}

func testStoreCreateInvalid(t *testing.T, e *storeEnv) {
	ctx := testCtx(t)
	long := strings.Repeat("a", 254)
	cases := []struct {
		name  string
		w     *Widget
		want  error
		field string
	}{
		{"uppercase name", NewWidget("ns", "Bad", nil), store.ErrInvalid, "metadata.name"},
		{"name too long", NewWidget("ns", long, nil), store.ErrInvalid, "metadata.name"},
		{"no name", NewWidget("ns", "", nil), store.ErrInvalid, "metadata.name"},
		{"bad generateName", &Widget{ObjectMeta: store.ObjectMeta{Namespace: "ns", GenerateName: "Web_"}}, store.ErrInvalid, "metadata.generateName"},
		{"no namespace", NewWidget("", "w", nil), store.ErrInvalid, "metadata.namespace"},
		{"bad namespace", NewWidget("a.b", "w", nil), store.ErrInvalid, "metadata.namespace"},
		{"bad label key", NewWidget("ns", "w", map[string]string{"-x": "y"}), store.ErrInvalid, "metadata.labels"},
		{"bad label value", NewWidget("ns", "w", map[string]string{"x": "a b"}), store.ErrInvalid, "metadata.labels"},
		{"resourceVersion set", &Widget{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "w", ResourceVersion: "5"}}, store.ErrInvalid, "metadata.resourceVersion"},
		{"bad finalizer", &Widget{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "w", Finalizers: []string{"a/b/c"}}}, store.ErrInvalid, "metadata.finalizers"},
		{"owner without uid", &Widget{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "w", OwnerReferences: []store.OwnerReference{{APIVersion: "v1", Kind: "X", Name: "x"}}}}, store.ErrInvalid, "ownerReferences[0].uid"},
		{"too large", &Widget{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "w"}, Spec: WidgetSpec{Data: strings.Repeat("x", 5000)}}, store.ErrTooLarge, "limit"},
	}
	for _, tc := range cases {
		e.expectNoWrite(t, "Create "+tc.name, tc.want, tc.field, func() error {
			_, err := e.s.Create(ctx, tc.w)
			return err
		})
	}
	_, err := e.s.Create(ctx, cases[len(cases)-1].w)
	if !errors.Is(err, store.ErrInvalid) {
		t.Errorf("too large: err = %v, want it to wrap ErrInvalid too", err)
	}
	e.expectNoWrite(t, "Create nil", store.ErrInvalid, "nil", func() error {
		_, err := e.s.Create(ctx, nil)
		return err
	})
	if _, err := e.s.Get(ctx, "ns", "w"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an invalid Create left an object: err = %v", err)
	}
}

func testStoreUpdate(t *testing.T, e *storeEnv) {
	ctx := testCtx(t)
	orig := e.create(t, NewWidget("ns", "w", nil))
	in := store.Clone(orig)
	in.Spec.Color = "red"
	in.UID = "not-the-uid"
	in.CreationTimestamp = store.NewTime(fixedNow.Add(time.Hour))
	in.Generation = 99
	out, err := e.s.Update(ctx, in)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if in.ResourceVersion != orig.ResourceVersion || in.UID != "not-the-uid" {
		t.Fatal("Update modified its input")
	}
	if out.UID != orig.UID || !out.CreationTimestamp.Equal(orig.CreationTimestamp.Time) || out.Generation != 2 || out.Spec.Color != "red" {
		t.Fatalf("Update result %+v: system fields not kept or spec not applied", out.ObjectMeta)
	}
	if out.ResourceVersion == orig.ResourceVersion || out.Kind != "Widget" {
		t.Fatalf("Update result RV %q (was %q), kind %q", out.ResourceVersion, orig.ResourceVersion, out.Kind)
	}
	// A stale resourceVersion conflicts and writes nothing.
	stale := store.Clone(orig)
	stale.Spec.Color = "blue"
	var ce *store.ConflictError
	e.expectNoWrite(t, "Update stale", store.ErrConflict, "", func() error {
		_, err := e.s.Update(ctx, stale)
		if !errors.As(err, &ce) {
			t.Errorf("Update stale: err = %v is not a *ConflictError", err)
		} else if store.FormatRevision(ce.Current) != out.ResourceVersion {
			t.Errorf("ConflictError.Current = %d, want %s", ce.Current, out.ResourceVersion)
		}
		return err
	})
	// An empty resourceVersion updates unconditionally.
	stale.ResourceVersion = ""
	out2, err := e.s.Update(ctx, stale)
	if err != nil || out2.Spec.Color != "blue" || out2.Generation != 3 {
		t.Fatalf("unconditional Update = %+v, %v", out2, err)
	}
	// An update that changes nothing writes nothing.
	e.expectNoWrite(t, "no-op Update", nil, "", func() error {
		got, err := e.s.Update(ctx, out2)
		if err == nil && got.ResourceVersion != out2.ResourceVersion {
			t.Errorf("no-op Update returned RV %s, want %s", got.ResourceVersion, out2.ResourceVersion)
		}
		return err
	})
	missing := NewWidget("ns", "missing", nil)
	if _, err := e.s.Update(ctx, missing); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Update missing: err = %v, want ErrNotFound", err)
	}
}

func testStoreUpdateInvalid(t *testing.T, e *storeEnv) {
	ctx := testCtx(t)
	orig := e.create(t, NewWidget("ns", "w", nil))
	bad := func(mut func(w *Widget)) *Widget {
		w := store.Clone(orig)
		mut(w)
		return w
	}
	cases := []struct {
		name  string
		w     *Widget
		want  error
		field string
	}{
		{"bad label", bad(func(w *Widget) { w.Labels = map[string]string{"a": "-"} }), store.ErrInvalid, "metadata.labels"},
		{"bad resourceVersion", bad(func(w *Widget) { w.ResourceVersion = "x1" }), store.ErrInvalid, "metadata.resourceVersion"},
		{"bad name", bad(func(w *Widget) { w.Name = "a b" }), store.ErrInvalid, "metadata.name"},
		{"too large", bad(func(w *Widget) { w.Spec.Data = strings.Repeat("y", 5000) }), store.ErrTooLarge, "limit"},
	}
	for _, tc := range cases {
		e.expectNoWrite(t, "Update "+tc.name, tc.want, tc.field, func() error {
			_, err := e.s.Update(ctx, tc.w)
			return err
		})
	}
	if got := e.get(t, "ns", "w"); got.ResourceVersion != orig.ResourceVersion {
		t.Fatalf("invalid updates changed the object: RV %s, was %s", got.ResourceVersion, orig.ResourceVersion)
	}
}

func testStoreGeneration(t *testing.T, e *storeEnv) {
	ctx := testCtx(t)
	w := e.create(t, NewWidget("ns", "g", nil))
	steps := []struct {
		what string
		mut  func(*Widget)
		gen  int64
	}{
		{"status change", func(w *Widget) { w.Status.Phase = "Running" }, 1},
		{"label change", func(w *Widget) { w.Labels = map[string]string{"a": "b"} }, 1},
		{"annotation change", func(w *Widget) { w.Annotations = map[string]string{"x.io/y": "z"} }, 1},
		{"spec change", func(w *Widget) { w.Spec.Size = 5 }, 2},
		{"another spec change", func(w *Widget) { w.Spec.Color = "green" }, 3},
	}
	for _, st := range steps {
		st.mut(w)
		var err error
		if w, err = e.s.Update(ctx, w); err != nil {
			t.Fatalf("%s: %v", st.what, err)
		}
		if w.Generation != st.gen {
			t.Fatalf("after %s: generation %d, want %d", st.what, w.Generation, st.gen)
		}
	}
}

func testStoreDeletePreconditions(t *testing.T, e *storeEnv) {
	ctx := testCtx(t)
	w := e.create(t, NewWidget("ns", "d", nil))
	e.expectNoWrite(t, "Delete wrong uid", store.ErrConflict, "UID in precondition: other", func() error {
		_, err := e.s.Delete(ctx, "ns", "d", store.WithPreconditionUID("other"))
		return err
	})
	e.expectNoWrite(t, "Delete wrong resourceVersion", store.ErrConflict, "", func() error {
		_, err := e.s.Delete(ctx, "ns", "d", store.WithPreconditionResourceVersion("1"))
		return err
	})
	e.expectNoWrite(t, "Delete malformed resourceVersion", store.ErrInvalid, "resourceVersion", func() error {
		_, err := e.s.Delete(ctx, "ns", "d", store.WithPreconditionResourceVersion("abc"))
		return err
	})
	e.expectNoWrite(t, "Delete bad name", store.ErrInvalid, "metadata.name", func() error {
		_, err := e.s.Delete(ctx, "ns", "D")
		return err
	})
	last, err := e.s.Delete(ctx, "ns", "d", store.WithPreconditionUID(w.UID), store.WithPreconditionResourceVersion(w.ResourceVersion))
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	delRev, _ := store.ParseRevision(last.ResourceVersion)
	wRev, _ := store.ParseRevision(w.ResourceVersion)
	if last.UID != w.UID || delRev <= wRev || last.Kind != "Widget" {
		t.Fatalf("Delete returned %+v; want the last state with the deletion revision", last.ObjectMeta)
	}
	if _, err := e.s.Get(ctx, "ns", "d"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get after Delete: err = %v", err)
	}
	if _, err := e.s.Delete(ctx, "ns", "d"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Delete missing: err = %v, want ErrNotFound", err)
	}
}

func testStoreGuaranteedUpdate(t *testing.T, e *storeEnv) {
	ctx := testCtx(t)
	w := e.create(t, NewWidget("ns", "gu", nil))
	errBoom := errors.New("boom")
	e.expectNoWrite(t, "GuaranteedUpdate fn error", errBoom, "gu", func() error {
		_, err := e.s.GuaranteedUpdate(ctx, "ns", "gu", func(w *Widget) (*Widget, error) {
			w.Spec.Size = 100
			return w, errBoom
		})
		return err
	})
	e.expectNoWrite(t, "GuaranteedUpdate no-op", nil, "", func() error {
		got, err := e.s.GuaranteedUpdate(ctx, "ns", "gu", func(w *Widget) (*Widget, error) { return w, nil })
		if err == nil && got.ResourceVersion != w.ResourceVersion {
			t.Errorf("no-op GuaranteedUpdate returned RV %s, want %s", got.ResourceVersion, w.ResourceVersion)
		}
		return err
	})
	// A conflicting write between read and write is retried.
	calls := 0
	out, err := e.s.GuaranteedUpdate(ctx, "ns", "gu", func(cur *Widget) (*Widget, error) {
		calls++
		if calls == 1 {
			other := store.Clone(cur)
			other.Status.Phase = "racing"
			if _, err := e.s.Update(ctx, other); err != nil {
				t.Errorf("racing Update: %v", err)
			}
		}
		cur.Spec.Size++
		return cur, nil
	})
	if err != nil || calls != 2 || out.Spec.Size != 1 || out.Status.Phase != "racing" {
		t.Fatalf("GuaranteedUpdate with a race: calls %d, result %+v, %v; want 2 calls keeping the racing write", calls, out, err)
	}
	if _, err := e.s.GuaranteedUpdate(ctx, "ns", "missing", func(w *Widget) (*Widget, error) { return w, nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GuaranteedUpdate missing: err = %v, want ErrNotFound", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.s.GuaranteedUpdate(cctx, "ns", "gu", func(w *Widget) (*Widget, error) { return w, nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("GuaranteedUpdate with a canceled context: err = %v", err)
	}
}

func testStoreNoLostUpdate(t *testing.T, e *storeEnv) {
	// Every increment is one compare-and-swap that must commit after the
	// previous one, so the test takes Workers*Increments round trips; allow
	// for a slow (race-instrumented, loaded) machine.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e.create(t, NewWidget("ns", "counter", nil))
	// Four stores on one backend stand for four processes: a store lets its
	// own goroutines take turns, but the stores race each other's
	// compare-and-swap.
	stores := []*store.Store[*Widget]{e.s}
	for len(stores) < 4 {
		s, err := store.New[*Widget](e.b, WidgetResource, append([]store.Option{store.WithKeyPrefix(e.prefix)}, e.opts.Options...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		stores = append(stores, s)
	}
	var wg sync.WaitGroup
	var done, attempts atomic.Int64
	start := time.Now()
	defer func() { t.Logf("%d increments in %d attempts, %v", done.Load(), attempts.Load(), time.Since(start)) }()
	for i := range e.opts.Workers {
		s := stores[i%len(stores)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range e.opts.Increments {
				if _, err := s.GuaranteedUpdate(ctx, "ns", "counter", func(w *Widget) (*Widget, error) {
					attempts.Add(1)
					w.Status.Count++
					return w, nil
				}); err != nil {
					t.Errorf("GuaranteedUpdate: %v", err)
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	want := e.opts.Workers * e.opts.Increments
	got := e.get(t, "ns", "counter").Status.Count
	if int64(got) != done.Load() {
		t.Fatalf("counter = %d after %d successful increments: lost updates", got, done.Load())
	}
	if got != want {
		t.Fatalf("counter = %d, want %d: only %d increments succeeded", got, want, done.Load())
	}
}

func testStoreClusterScoped(t *testing.T, e *storeEnv) {
	ctx := testCtx(t)
	g, err := e.c.Create(ctx, NewWidget("", "node-1", nil))
	if err != nil {
		t.Fatalf("Create cluster-scoped: %v", err)
	}
	if want := e.prefix + "/gizmos/node-1"; e.c.Key("", "node-1") != want {
		t.Fatalf("Key = %q, want %q", e.c.Key("", "node-1"), want)
	}
	if g.Kind != "Gizmo" || g.Namespace != "" {
		t.Fatalf("created %+v", g)
	}
	e.expectNoWrite(t, "Create cluster-scoped with a namespace", store.ErrInvalid, "metadata.namespace", func() error {
		_, err := e.c.Create(ctx, NewWidget("ns", "node-2", nil))
		return err
	})
	l, err := e.c.List(ctx, "", store.ListOptions{})
	if err != nil || len(l.Items) != 1 || l.Items[0].Name != "node-1" {
		t.Fatalf("List cluster-scoped = %v, %v", l, err)
	}
	if _, err := e.c.Delete(ctx, "", "node-1"); err != nil {
		t.Fatalf("Delete cluster-scoped: %v", err)
	}
}

func names(ws []*Widget) string {
	s := make([]string, len(ws))
	for i, w := range ws {
		s[i] = store.KeyOf(w)
	}
	return strings.Join(s, " ")
}

func itoa(i int) string { return fmt.Sprint(i) }
