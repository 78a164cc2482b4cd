package informer

import (
	"context"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
)

// TestOverTypedStoreWithSelector runs an informer on the typed store (memory
// backend) with a label selector: an object that stops matching leaves the
// cache with a delete, one that starts matching enters with an add, and
// WaitForRevision follows the store's write revisions.
func TestOverTypedStoreWithSelector(t *testing.T) {
	ctx := context.Background()
	st, err := store.New[*pod](memory.New(), podResource)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name, app string) *pod {
		p := newPod("ns", name, 0)
		p.Labels = map[string]string{"app": app}
		return p
	}
	if _, err := st.Create(ctx, mk("w1", "web")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Create(ctx, mk("d1", "db")); err != nil {
		t.Fatal(err)
	}
	sel, err := store.ParseSelector("app=web")
	if err != nil {
		t.Fatal(err)
	}
	inf := mustNew(t, st, Config[*pod]{Namespace: "ns", Selector: sel, PageSize: 1})
	rec := &recorder{}
	if _, err := inf.AddHandler(rec); err != nil {
		t.Fatal(err)
	}
	startInformer(t, inf)
	if err := inf.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	if keys := inf.Cache().Keys(); len(keys) != 1 || keys[0] != "ns/w1" {
		t.Fatalf("cache keys %v, want [ns/w1]", keys)
	}
	write := func(fn func() (*pod, error)) int64 {
		t.Helper()
		p, err := fn()
		if err != nil {
			t.Fatal(err)
		}
		rev, err := store.ParseRevision(p.ResourceVersion)
		if err != nil {
			t.Fatal(err)
		}
		return rev
	}
	relabel := func(name, app string) func() (*pod, error) {
		return func() (*pod, error) {
			return st.GuaranteedUpdate(ctx, "ns", name, func(p *pod) (*pod, error) {
				p.Labels["app"] = app
				return p, nil
			})
		}
	}
	write(relabel("w1", "db"))         // leaves the selector
	rev := write(relabel("d1", "web")) // enters it
	if err := inf.WaitForRevision(ctx, rev); err != nil {
		t.Fatal(err)
	}
	if keys := inf.Cache().Keys(); len(keys) != 1 || keys[0] != "ns/d1" {
		t.Fatalf("cache keys %v, want [ns/d1]", keys)
	}
	waitFor(t, "3 events", func() bool { return rec.len() == 3 })
	evs := rec.snapshot()
	if evs[1].kind != "delete" || evs[1].key != "ns/w1" || evs[2].kind != "add" || evs[2].key != "ns/d1" {
		t.Fatalf("events %v; want the initial add, then delete w1 and add d1", evs)
	}
	l, err := st.List(ctx, "ns", store.ListOptions{Selector: sel})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, o := range l.Items {
		want[store.KeyOf(o)] = o.ResourceVersion
	}
	if d := diffModels(want, replay(t, evs)); d != "" {
		t.Fatalf("handler view differs from the store: %s", d)
	}
}
