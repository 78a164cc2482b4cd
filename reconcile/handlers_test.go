package reconcile_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
)

type widget struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             int `json:"spec"`
	Status           int `json:"status"`
}

func newWidget(ns, name string) *widget {
	return &widget{TypeMeta: store.TypeMeta{APIVersion: "v1", Kind: "Widget"}, ObjectMeta: store.ObjectMeta{Namespace: ns, Name: name, Generation: 1, ResourceVersion: "10"}}
}

// The wiring helpers satisfy the informer's handler interface (structurally:
// package reconcile does not import informer).
var (
	_ informer.Handler[*widget] = reconcile.EnqueueKey[*widget](nil)
	_ informer.Handler[*widget] = reconcile.EnqueueOwner[*widget](nil, reconcile.OwnerKind{})
	_ informer.Handler[*widget] = reconcile.EnqueueMapped[*widget, string](nil, nil)
)

// recordQueue is an Enqueuer that records what it is given.
type recordQueue[K comparable] struct {
	adds []string
}

func (r *recordQueue[K]) AddWithPriority(k K, prio int) {
	r.adds = append(r.adds, strings.TrimSpace(strings.Join([]string{fmtKey(k), prioName(prio)}, "@")))
}

func fmtKey(k any) string {
	if s, ok := k.(interface{ String() string }); ok {
		return s.String()
	}
	return k.(string)
}

func prioName(p int) string {
	switch p {
	case reconcile.PriorityLow:
		return "low"
	case reconcile.PriorityNormal:
		return "normal"
	}
	return "?"
}

func expectAdds(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("adds %q, want %q", got, want)
	}
}

func TestRequest(t *testing.T) {
	if s := (reconcile.Request{Namespace: "ns", Name: "a"}).String(); s != "ns/a" {
		t.Fatalf("String = %q", s)
	}
	if s := (reconcile.Request{Name: "node1"}).String(); s != "node1" {
		t.Fatalf("cluster-scoped String = %q", s)
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "key", reconcile.Request{Namespace: "ns", Name: "a"})
	if !strings.Contains(b.String(), "key=ns/a") {
		t.Fatalf("logged as %q", b.String())
	}
	if r := reconcile.RequestFor(newWidget("ns", "w")); r != (reconcile.Request{Namespace: "ns", Name: "w"}) {
		t.Fatalf("RequestFor = %v", r)
	}
}

func TestEnqueueKey(t *testing.T) {
	q := &recordQueue[reconcile.Request]{}
	h := reconcile.EnqueueKey[*widget](q)
	w := newWidget("ns", "w")
	h.OnAdd(w, true)
	h.OnAdd(w, false)
	h.OnUpdate(w, w)
	h.OnDelete(w, true)
	expectAdds(t, q.adds, "ns/w@low", "ns/w@normal", "ns/w@normal", "ns/w@normal")
}

func TestEnqueueKeyIntoRealQueue(t *testing.T) {
	q := newQueue[reconcile.Request](nil)
	h := reconcile.EnqueueKey[*widget](q)
	h.OnAdd(newWidget("ns", "old"), true)
	h.OnAdd(newWidget("ns", "fresh"), false)
	if k := mustGet(t, q); k.Name != "fresh" {
		t.Fatalf("Get = %v; a fresh change must go before the initial list", k)
	}
}

func TestEnqueueOwner(t *testing.T) {
	yes, no := true, false
	owned := func(name, kind, ownerName string, controller *bool) *widget {
		w := newWidget("ns", name)
		w.OwnerReferences = []store.OwnerReference{
			{APIVersion: "v1", Kind: "Other", Name: "ignored", Controller: &no},
			{APIVersion: "apps/v1", Kind: kind, Name: ownerName, Controller: controller},
		}
		return w
	}
	q := &recordQueue[reconcile.Request]{}
	h := reconcile.EnqueueOwner[*widget](q, reconcile.OwnerKind{Kind: "Set"})
	h.OnAdd(owned("a", "Set", "set1", &yes), false)
	h.OnAdd(owned("b", "Set", "set1", nil), false)       // not the controller
	h.OnAdd(owned("c", "Elsewise", "set1", &yes), false) // other kind
	h.OnAdd(newWidget("ns", "d"), false)                 // no owner
	// An update that moves the object to another owner reconciles both.
	h.OnUpdate(owned("a", "Set", "set1", &yes), owned("a", "Set", "set2", &yes))
	h.OnDelete(owned("a", "Set", "set2", &yes), false)
	expectAdds(t, q.adds, "ns/set1@normal", "ns/set2@normal", "ns/set1@normal", "ns/set2@normal")

	q = &recordQueue[reconcile.Request]{}
	h = reconcile.EnqueueOwner[*widget](q, reconcile.OwnerKind{APIVersion: "v2", Kind: "Set"})
	h.OnAdd(owned("a", "Set", "set1", &yes), false)
	expectAdds(t, q.adds) // apiVersion does not match
	h = reconcile.EnqueueOwner[*widget](q, reconcile.OwnerKind{APIVersion: "apps/v1", Kind: "Set", ClusterScoped: true})
	h.OnAdd(owned("a", "Set", "set1", &yes), false)
	expectAdds(t, q.adds, "set1@normal")
}

func TestEnqueueMapped(t *testing.T) {
	q := &recordQueue[string]{}
	h := reconcile.EnqueueMapped[*widget](q, func(w *widget) []string {
		return []string{w.Labels["team"]}
	})
	a := newWidget("ns", "a")
	a.Labels = map[string]string{"team": "x"}
	b := newWidget("ns", "a")
	b.Labels = map[string]string{"team": "y"}
	h.OnAdd(a, true)
	h.OnUpdate(a, b)
	h.OnUpdate(a, a)
	expectAdds(t, q.adds, "x@low", "y@normal", "x@normal", "x@normal")
}

func TestPredicates(t *testing.T) {
	base := newWidget("ns", "w")
	statusOnly := newWidget("ns", "w")
	statusOnly.Status = 5
	statusOnly.ResourceVersion = "11"
	specChange := newWidget("ns", "w")
	specChange.Generation = 2
	specChange.ResourceVersion = "12"
	relabel := newWidget("ns", "w")
	relabel.Labels = map[string]string{"a": "b"}
	relabel.ResourceVersion = "13"
	annotated := newWidget("ns", "w")
	annotated.Annotations = map[string]string{"a": "b"}

	upd := func(old, new *widget) reconcile.Change[*widget] {
		return reconcile.Change[*widget]{Type: reconcile.Updated, Old: old, Object: new}
	}
	add := reconcile.Change[*widget]{Type: reconcile.Created, Object: base}
	del := reconcile.Change[*widget]{Type: reconcile.Deleted, Object: base}
	gen := reconcile.GenerationChanged[*widget]()
	labels := reconcile.LabelsChanged[*widget]()
	rv := reconcile.ResourceVersionChanged[*widget]()
	ann := reconcile.AnnotationsChanged[*widget]()
	inNS := reconcile.Matching(func(w *widget) bool { return w.Namespace == "ns" })
	cases := []struct {
		name string
		p    reconcile.Predicate[*widget]
		c    reconcile.Change[*widget]
		want bool
	}{
		{"gen: status only", gen, upd(base, statusOnly), false},
		{"gen: spec", gen, upd(base, specChange), true},
		{"gen: add", gen, add, true},
		{"gen: delete", gen, del, true},
		{"labels: same", labels, upd(base, statusOnly), false},
		{"labels: changed", labels, upd(base, relabel), true},
		{"annotations: changed", ann, upd(base, annotated), true},
		{"annotations: same", ann, upd(base, relabel), false},
		{"rv: resync", rv, upd(base, base), false},
		{"rv: real update", rv, upd(base, statusOnly), true},
		{"or: labels or gen", reconcile.Or(gen, labels), upd(base, relabel), true},
		{"or: neither", reconcile.Or(gen, labels), upd(base, statusOnly), false},
		{"or: empty", reconcile.Or[*widget](), add, false},
		{"and: rv and not gen", reconcile.And(rv, reconcile.Not(gen)), upd(base, statusOnly), true},
		{"and: gen fails", reconcile.And(rv, gen), upd(base, statusOnly), false},
		{"and: empty", reconcile.And[*widget](), add, true},
		{"matching", inNS, add, true},
		{"not matching", reconcile.Not(inNS), add, false},
	}
	for _, c := range cases {
		if got := c.p(c.c); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestHandlerWithPredicates(t *testing.T) {
	q := &recordQueue[reconcile.Request]{}
	base := reconcile.EnqueueKey[*widget](q)
	h := base.With(reconcile.GenerationChanged[*widget]())
	h2 := h.With(reconcile.Matching(func(w *widget) bool { return w.Name != "skip" }))
	w := newWidget("ns", "w")
	statusOnly := newWidget("ns", "w")
	statusOnly.Status = 1
	specChange := newWidget("ns", "w")
	specChange.Generation = 2
	h.OnUpdate(w, statusOnly) // dropped
	h.OnUpdate(w, specChange) // passes
	h2.OnAdd(newWidget("ns", "skip"), false)
	h2.OnAdd(newWidget("ns", "keep"), false)
	base.OnUpdate(w, statusOnly) // With must not change base
	expectAdds(t, q.adds, "ns/w@normal", "ns/keep@normal", "ns/w@normal")
}
