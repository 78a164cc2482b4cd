package informer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
)

func nodeIndex(p *pod) []string {
	if p.Spec.NodeName == "" {
		return nil
	}
	return []string{p.Spec.NodeName}
}

func keysOf(ps []*pod) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Namespace+"/"+p.Name)
	}
	sort.Strings(out)
	return out
}

func TestIndexesFollowChanges(t *testing.T) {
	src := newSource()
	mk := func(ns, name, node, app string) *pod {
		p := newPod(ns, name, 0)
		p.Spec.NodeName = node
		if app != "" {
			p.Labels = map[string]string{"app": app}
		}
		return p
	}
	src.Create(mk("a", "p1", "n1", "web"))
	src.Create(mk("a", "p2", "n1", "db"))
	src.Create(mk("b", "p3", "n2", "web"))
	src.Create(mk("b", "p4", "", ""))
	inf := mustNew(t, src, Config[*pod]{Indexers: map[string]IndexFunc[*pod]{
		"node":         nodeIndex,
		"app":          IndexByLabel[*pod]("app"),
		NamespaceIndex: IndexByNamespace[*pod],
	}})
	startInformer(t, inf)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	check := func(index, value string, want ...string) {
		t.Helper()
		got, err := inf.ByIndex(index, value)
		if err != nil {
			t.Fatal(err)
		}
		if k := keysOf(got); !slices.Equal(k, want) && !(len(k) == 0 && len(want) == 0) {
			t.Fatalf("ByIndex(%s, %s) = %v, want %v", index, value, k, want)
		}
	}
	check("node", "n1", "a/p1", "a/p2")
	check("node", "n2", "b/p3")
	check("app", "web", "a/p1", "b/p3")
	check(NamespaceIndex, "b", "b/p3", "b/p4")
	if v, _ := inf.Cache().IndexValues("node"); !slices.Equal(v, []string{"n1", "n2"}) {
		t.Fatalf("IndexValues(node) = %v", v)
	}

	// Move p1 to n2, delete p3, label p4.
	src.Update(mk("a", "p1", "n2", "web"))
	src.Delete("b/p3")
	rev, _ := src.Update(mk("b", "p4", "n3", "db"))
	if err := inf.WaitForRevision(context.Background(), rev); err != nil {
		t.Fatal(err)
	}
	check("node", "n1", "a/p2")
	check("node", "n2", "a/p1")
	check("node", "n3", "b/p4")
	check("app", "web", "a/p1")
	check("app", "db", "a/p2", "b/p4")
	if v, _ := inf.Cache().IndexValues("node"); !slices.Equal(v, []string{"n1", "n2", "n3"}) {
		t.Fatalf("IndexValues(node) after changes = %v (empty values must be dropped)", v)
	}

	// An index added late is filled from the current contents.
	if err := inf.AddIndexer("value", func(p *pod) []string { return []string{fmt.Sprint(p.Spec.Value)} }); err != nil {
		t.Fatal(err)
	}
	check("value", "0", "a/p1", "a/p2", "b/p4")
	if err := inf.AddIndexer("node", nodeIndex); !errors.Is(err, ErrIndexExists) {
		t.Fatalf("duplicate AddIndexer = %v", err)
	}
	if _, err := inf.ByIndex("nope", "x"); !errors.Is(err, ErrUnknownIndex) {
		t.Fatalf("unknown index = %v", err)
	}
	if _, err := inf.Cache().IndexValues("nope"); !errors.Is(err, ErrUnknownIndex) {
		t.Fatalf("unknown index values = %v", err)
	}
	if got := inf.Cache().Keys(); !slices.Equal(got, []string{"a/p1", "a/p2", "b/p4"}) {
		t.Fatalf("Keys = %v", got)
	}
}

func TestCacheGetClusterScoped(t *testing.T) {
	c := newCache[*pod]()
	p := newPod("", "node-1", 3)
	c.upsert("node-1", p)
	if got, ok := c.Get("", "node-1"); !ok || got != p {
		t.Fatal("cluster-scoped Get failed")
	}
	if _, ok := c.remove("node-1"); !ok {
		t.Fatal("remove failed")
	}
	if _, ok := c.remove("node-1"); ok {
		t.Fatal("second remove reported an object")
	}
}
