package informer

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/informer/internal/fakelw"
	"github.com/setpoint-dev/setpoint/store"
)

// namedSource gives a fake source a Resource, as *store.Store has.
type namedSource struct {
	*fakelw.Source[*pod]
}

func (namedSource) Resource() store.Resource {
	return store.Resource{Name: "pods", Kind: "Pod", Namespaced: true}
}

// node is a second object type for the type-mismatch check.
type node struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
}

func TestFactorySharesAndRefcounts(t *testing.T) {
	src := namedSource{newSource()}
	src.Create(newPod("a", "p1", 1))
	src.Create(newPod("b", "p2", 2))
	reg := prometheus.NewRegistry()
	f, err := NewFactory(WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}

	all1, rel1, err := Shared[*pod](f, src, Config[*pod]{})
	if err != nil {
		t.Fatal(err)
	}
	all2, rel2, err := Shared[*pod](f, src, Config[*pod]{Indexers: map[string]IndexFunc[*pod]{"node": nodeIndex}})
	if err != nil {
		t.Fatal(err)
	}
	if all1 != all2 {
		t.Fatal("same resource, namespace and selector gave two informers")
	}
	if _, err := all1.ByIndex("node", "x"); err != nil {
		t.Fatalf("second user's indexer was not added to the shared informer: %v", err)
	}
	nsA, relA, err := Shared[*pod](f, src, Config[*pod]{Namespace: "a"})
	if err != nil {
		t.Fatal(err)
	}
	sel, _ := store.ParseSelector("app=web")
	web, relWeb, err := Shared[*pod](f, src, Config[*pod]{Selector: sel})
	if err != nil {
		t.Fatal(err)
	}
	if nsA == all1 || web == all1 || web == nsA {
		t.Fatal("different namespace or selector shared an informer")
	}
	if f.Len() != 3 {
		t.Fatalf("factory holds %d informers, want 3", f.Len())
	}
	if all1.HasSynced() {
		t.Fatal("informer ran before Run")
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- f.Run(ctx) }()
	if err := f.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if all1.Cache().Len() != 2 || nsA.Cache().Len() != 1 || web.Cache().Len() != 0 {
		t.Fatalf("cache sizes %d %d %d, want 2 1 0", all1.Cache().Len(), nsA.Cache().Len(), web.Cache().Len())
	}
	if err := f.Run(ctx); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second Run while running = %v, want ErrAlreadyRunning", err)
	}
	// An informer requested while the factory runs starts at once.
	nsB, relB, err := Shared[*pod](f, src, Config[*pod]{Namespace: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if err := nsB.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Metrics for every informer, labelled by key.
	if m := gather(t, reg, "pods/b"); m["setpoint_informer_objects"] != 1 {
		t.Fatalf("factory metrics for pods/b: %v", m)
	}

	// The informer stops when its last user releases it, not before.
	rel1()
	rel1() // idempotent
	select {
	case <-all1.Stopped():
		t.Fatal("informer stopped while still held")
	default:
	}
	rel2()
	<-all1.Stopped()
	if f.Len() != 3 {
		t.Fatalf("factory holds %d informers after release, want 3", f.Len())
	}
	// Asking again creates a fresh informer.
	all3, rel3, err := Shared[*pod](f, src, Config[*pod]{})
	if err != nil {
		t.Fatal(err)
	}
	defer rel3()
	if all3 == all1 {
		t.Fatal("a stopped informer was handed out again")
	}
	if err := all3.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	relA()
	relWeb()
	relB()

	stop()
	if err := <-ran; err != nil {
		t.Fatalf("Run = %v, want nil after its context ended", err)
	}
	// Run returned only after every informer it ran had stopped.
	select {
	case <-all3.Stopped():
	default:
		t.Fatal("Run returned before a running informer stopped")
	}
	if _, _, err := Shared[*pod](f, src, Config[*pod]{}); !errors.Is(err, ErrStopped) {
		t.Fatalf("Shared after Run returned = %v", err)
	}
	if err := f.Run(context.Background()); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("Run after Run returned = %v, want ErrAlreadyRunning", err)
	}
}

func TestFactoryRejects(t *testing.T) {
	f, err := NewFactory()
	if err != nil {
		t.Fatal(err)
	}
	src := newSource()
	if _, _, err := Shared[*pod](f, src, Config[*pod]{}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("no resource name: %v", err)
	}
	if _, _, err := Shared[*pod](f, src, Config[*pod]{Name: "pods", Filter: func(store.Object) bool { return true }}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("filter: %v", err)
	}
	if _, _, err := Shared[*pod](f, src, Config[*pod]{Name: "pods", ResyncPeriod: -1}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("bad config: %v", err)
	}
	_, rel, err := Shared[*pod](f, src, Config[*pod]{Name: "things"})
	if err != nil {
		t.Fatal(err)
	}
	defer rel()
	nodes := fakelw.New[*node](nil)
	if _, _, err := Shared[*node](f, nodes, Config[*node]{Name: "things"}); !errors.Is(err, ErrTypeMismatch) {
		t.Fatalf("type mismatch: %v", err)
	}
	if _, err := NewFactory(WithDefaultResync(-1)); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("negative resync: %v", err)
	}
}

func TestFactoryStopsWithContext(t *testing.T) {
	f, err := NewFactory()
	if err != nil {
		t.Fatal(err)
	}
	src := newSource()
	infs := make([]*Informer[*pod], 3)
	for i := range infs {
		infs[i], _, err = Shared[*pod](f, src, Config[*pod]{Name: "pods", Namespace: fmt.Sprint("ns", i)})
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- f.Run(ctx) }()
	if err := f.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-ran; err != nil {
		t.Fatalf("Run = %v", err)
	}
	for i, inf := range infs {
		select {
		case <-inf.Stopped():
		default:
			t.Fatalf("informer %d still running after Run returned", i)
		}
	}
}
