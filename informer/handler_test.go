package informer

import (
	"context"
	"fmt"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
)

func TestHandlerFuncsSkipsNil(t *testing.T) {
	var adds, updates, deletes int
	var h Handler[*pod] = HandlerFuncs[*pod]{}
	h.OnAdd(newPod("a", "b", 0), true) // nil funcs: no panic
	h.OnUpdate(nil, nil)
	h.OnDelete(nil, false)
	h = HandlerFuncs[*pod]{
		AddFunc:    func(*pod, bool) { adds++ },
		UpdateFunc: func(_, _ *pod) { updates++ },
		DeleteFunc: func(*pod, bool) { deletes++ },
	}
	h.OnAdd(nil, false)
	h.OnUpdate(nil, nil)
	h.OnUpdate(nil, nil)
	h.OnDelete(nil, true)
	if adds != 1 || updates != 2 || deletes != 1 {
		t.Fatalf("calls: %d %d %d", adds, updates, deletes)
	}
}

func TestLateHandlerGetsCurrentContentsThenChanges(t *testing.T) {
	src := newSource()
	for i := 0; i < 5; i++ {
		if _, err := src.Create(newPod("ns", fmt.Sprint("p", i), i)); err != nil {
			t.Fatal(err)
		}
	}
	inf := mustNew(t, src, Config[*pod]{})
	startInformer(t, inf)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	src.Delete("ns/p0")
	rev, _ := src.Update(newPod("ns", "p1", 11))
	if err := inf.WaitForRevision(context.Background(), rev); err != nil {
		t.Fatal(err)
	}
	late := &recorder{}
	reg, err := inf.AddHandler(late)
	if err != nil {
		t.Fatal(err)
	}
	rev, _ = src.Create(newPod("ns", "p9", 9))
	if err := inf.WaitForRevision(context.Background(), rev); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "late handler synced", reg.HasSynced)
	waitFor(t, "5 events", func() bool { return late.len() == 5 })
	evs := late.snapshot()
	for i, e := range evs[:4] {
		if e.kind != "add" || !e.initial {
			t.Fatalf("event %d = %v; want initial add of the current contents", i, e)
		}
		if e.key == "ns/p1" && e.value != 11 {
			t.Fatalf("late handler got stale p1: %v", e)
		}
	}
	if e := evs[4]; e.kind != "add" || e.key != "ns/p9" || e.initial {
		t.Fatalf("last event %v; want a live add of ns/p9", e)
	}
	all, _ := sourceModel(t, src, "")
	if d := diffModels(all, replay(t, evs)); d != "" {
		t.Fatalf("late handler's view differs: %s", d)
	}
}

func TestHandlerRemovedMidStream(t *testing.T) {
	src := newSource()
	inf := mustNew(t, src, Config[*pod]{})
	stay, leave := &recorder{}, &recorder{}
	if _, err := inf.AddHandler(stay); err != nil {
		t.Fatal(err)
	}
	var reg *Registration
	removeAt := 50
	count := 0
	h := HandlerFuncs[*pod]{AddFunc: func(p *pod, initial bool) {
		leave.OnAdd(p, initial)
		count++
		if count == removeAt {
			reg.Remove() // from inside the handler
			reg.Remove() // and twice
		}
	}}
	var err error
	reg, err = inf.AddHandler(h)
	if err != nil {
		t.Fatal(err)
	}
	startInformer(t, inf)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	var last int64
	for i := 0; i < 200; i++ {
		last, _ = src.Create(newPod("ns", fmt.Sprint("p", i), i))
	}
	<-reg.Done()
	if err := inf.WaitForRevision(context.Background(), last); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "remaining handler gets all", func() bool { return stay.len() == 200 })
	if n := leave.len(); n != removeAt {
		t.Fatalf("removed handler got %d calls, want exactly %d", n, removeAt)
	}
	inf.dmu.Lock()
	n := len(inf.listeners)
	inf.dmu.Unlock()
	if n != 1 {
		t.Fatalf("%d listeners registered after removal, want 1", n)
	}
	// Removal from outside, after the fact, is harmless.
	reg.Remove()
}

func TestSlowHandlerDoesNotBlockFastOne(t *testing.T) {
	src := newSource()
	inf := mustNew(t, src, Config[*pod]{})
	slow := &recorder{block: make(chan struct{})}
	fast := &recorder{}
	if _, err := inf.AddHandler(slow); err != nil {
		t.Fatal(err)
	}
	if _, err := inf.AddHandler(fast); err != nil {
		t.Fatal(err)
	}
	startInformer(t, inf)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	const n = 2000
	for i := 0; i < n; i++ {
		if _, err := src.Create(newPod("ns", fmt.Sprint("p", i), i)); err != nil {
			t.Fatal(err)
		}
	}
	// The slow handler is stuck in its first call; the fast one gets everything.
	waitFor(t, "fast handler gets all events", func() bool { return fast.len() == n })
	if got := slow.len(); got != 0 {
		t.Fatalf("slow handler recorded %d events while blocked", got)
	}
	s := inf.metricSample()
	if s.queueDepth < n-1-batchSize {
		t.Fatalf("queue depth %d while the slow handler holds %d events", s.queueDepth, n)
	}
	close(slow.block)
	waitFor(t, "slow handler catches up", func() bool { return slow.len() == n })
	for i, e := range slow.snapshot() {
		if e.key != fmt.Sprintf("ns/p%d", i) {
			t.Fatalf("slow handler event %d = %v: out of order", i, e)
		}
	}
	waitFor(t, "queues drained", func() bool { return inf.metricSample().queueDepth == 0 })
}

func TestRegistrationHasSyncedWaitsForHandler(t *testing.T) {
	src := newSource()
	for i := 0; i < 10; i++ {
		src.Create(newPod("ns", fmt.Sprint("p", i), i))
	}
	inf := mustNew(t, src, Config[*pod]{})
	slow := &recorder{block: make(chan struct{})}
	reg, err := inf.AddHandler(slow)
	if err != nil {
		t.Fatal(err)
	}
	startInformer(t, inf)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if reg.HasSynced() {
		t.Fatal("registration synced while its handler has processed nothing")
	}
	for i := 0; i < 9; i++ {
		slow.block <- struct{}{}
	}
	waitFor(t, "9 processed", func() bool { return reg.processed.Load() == 9 })
	if reg.HasSynced() {
		t.Fatal("registration synced with one initial object unprocessed")
	}
	close(slow.block)
	waitFor(t, "registration synced", reg.HasSynced)
}

func TestTransformAndReadOnlySharing(t *testing.T) {
	src := newSource()
	p := newPod("ns", "a", 1)
	p.Annotations = map[string]string{"big": "xxxxxxxxxxxxxxxx"}
	src.Create(p)
	inf := mustNew(t, src, Config[*pod]{Transform: func(p *pod) *pod {
		p.Annotations = nil
		return p
	}})
	var fromHandler *pod
	got := make(chan struct{})
	inf.AddHandler(HandlerFuncs[*pod]{AddFunc: func(p *pod, _ bool) { fromHandler = p; close(got) }})
	startInformer(t, inf)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-got
	cached, _ := inf.Get("ns", "a")
	if cached.Annotations != nil {
		t.Fatalf("transform not applied: %v", cached.Annotations)
	}
	if cached != fromHandler {
		t.Fatal("handler and cache hold different instances: objects should be shared")
	}
	own := store.Clone(cached)
	own.Spec.Value = 99
	if again, _ := inf.Get("ns", "a"); again.Spec.Value != 1 {
		t.Fatal("changing a private copy changed the cache")
	}
}
