package informer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
)

func mustNew(t testing.TB, lw ListerWatcher[*pod], cfg Config[*pod]) *Informer[*pod] {
	t.Helper()
	inf, err := New(lw, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return inf
}

func TestInitialListThenEvents(t *testing.T) {
	src := newSource()
	for i := 0; i < 7; i++ {
		if _, err := src.Create(newPod("ns", fmt.Sprintf("p%d", i), i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := src.Create(newPod("other", "x", 0)); err != nil {
		t.Fatal(err)
	}
	inf := mustNew(t, src, Config[*pod]{Namespace: "ns", PageSize: 3})
	rec := &recorder{}
	reg, err := inf.AddHandler(rec)
	if err != nil {
		t.Fatal(err)
	}
	if inf.HasSynced() || reg.HasSynced() {
		t.Fatal("synced before Run")
	}
	startInformer(t, inf)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	lists, _ := src.Calls()
	if lists != 3 {
		t.Errorf("paged initial list of 7 objects at page size 3 took %d List calls, want 3", lists)
	}
	waitFor(t, "handler synced", reg.HasSynced)
	evs := rec.snapshot()
	if len(evs) != 7 {
		t.Fatalf("got %d initial events, want 7: %v", len(evs), evs)
	}
	for _, e := range evs {
		if e.kind != "add" || !e.initial || !strings.HasPrefix(e.key, "ns/") {
			t.Fatalf("initial event %v: want an initial add in ns", e)
		}
	}
	if got := inf.Cache().Len(); got != 7 {
		t.Fatalf("cache has %d objects, want 7", got)
	}

	p := newPod("ns", "p0", 100)
	rev, err := src.Update(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Delete("ns/p1"); err != nil {
		t.Fatal(err)
	}
	last, err := src.Create(newPod("ns", "new", 5))
	if err != nil {
		t.Fatal(err)
	}
	if err := inf.WaitForRevision(context.Background(), last); err != nil {
		t.Fatal(err)
	}
	got, ok := inf.Get("ns", "p0")
	if !ok || got.Spec.Value != 100 || got.ResourceVersion != store.FormatRevision(rev) {
		t.Fatalf("Get(ns/p0) = %+v, %v; want value 100 at rv %d", got, ok, rev)
	}
	if _, ok := inf.Get("ns", "p1"); ok {
		t.Fatal("deleted object still cached")
	}
	waitFor(t, "10 events", func() bool { return rec.len() == 10 })
	tail := rec.snapshot()[7:]
	want := []string{"update ns/p0", "delete ns/p1", "add ns/new"}
	for i, e := range tail {
		if got := e.kind + " " + e.key; got != want[i] {
			t.Fatalf("event %d = %v, want %s", i, e, want[i])
		}
		if e.initial {
			t.Fatalf("event %v has initial/finalStateUnknown set", e)
		}
	}
	src1, _ := sourceModel(t, src, "ns")
	if d := diffModels(src1, cacheModel(inf.Cache())); d != "" {
		t.Fatalf("cache differs from source: %s", d)
	}
	if d := diffModels(src1, replay(t, rec.snapshot())); d != "" {
		t.Fatalf("handler's view differs from source: %s", d)
	}
}

func TestWaitForSyncReturnsListError(t *testing.T) {
	src := newSource()
	errDenied := errors.New("permission denied on pods")
	src.FailList(errDenied)
	clk := newClock()
	inf := mustNew(t, src, Config[*pod]{Clock: clk})
	startInformer(t, inf)
	waitFor(t, "first list attempt", func() bool { l, _ := src.Calls(); return l >= 1 })
	waitTimers(t, clk, 1) // backoff timer

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := inf.WaitForSync(ctx)
	if !errors.Is(err, errDenied) || !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitForSync = %v; want it to wrap both the list error and the context error", err)
	}
	if !errors.Is(inf.LastError(), errDenied) {
		t.Fatalf("LastError = %v", inf.LastError())
	}
	// The source recovers: after the backoff the informer lists and syncs.
	src.FailList(nil)
	clk.Advance(time.Minute)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if inf.LastError() != nil {
		t.Fatalf("LastError after recovery = %v", inf.LastError())
	}
}

func TestWaitForSyncAfterStopReturnsCause(t *testing.T) {
	src := newSource()
	errDown := errors.New("store unreachable")
	src.FailList(errDown)
	clk := newClock()
	inf := mustNew(t, src, Config[*pod]{Clock: clk})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- inf.Run(ctx) }()
	waitTimers(t, clk, 1) // backoff timer
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	err := inf.WaitForSync(context.Background())
	if !errors.Is(err, ErrStopped) || !errors.Is(err, errDown) {
		t.Fatalf("WaitForSync after stop = %v; want ErrStopped wrapping the list error", err)
	}
	if err := inf.Run(context.Background()); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second Run = %v, want ErrAlreadyRunning", err)
	}
	if _, err := inf.AddHandler(&recorder{}); !errors.Is(err, ErrStopped) {
		t.Fatalf("AddHandler after stop = %v, want ErrStopped", err)
	}
}

func TestWaitForRevisionUnblocksExactlyAtRevision(t *testing.T) {
	src := newSource()
	inf := mustNew(t, src, Config[*pod]{Namespace: "ns"})
	startInformer(t, inf)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	base := inf.Revision()
	if base != src.Revision() {
		t.Fatalf("revision after sync = %d, source at %d", base, src.Revision())
	}
	// Already reached: returns at once.
	if err := inf.WaitForRevision(context.Background(), base); err != nil {
		t.Fatal(err)
	}

	type result struct {
		err     error
		present bool
		rev     int64
	}
	wait := func(rev int64, key string) <-chan result {
		ch := make(chan result, 1)
		go func() {
			err := inf.WaitForRevision(context.Background(), rev)
			_, ok := inf.Cache().GetByKey(key)
			ch <- result{err, ok, inf.Revision()}
		}()
		return ch
	}
	// A write outside the namespace (base+1) does not reach the informer.
	if _, err := src.Create(newPod("other", "a", 1)); err != nil {
		t.Fatal(err)
	}
	w2 := wait(base+2, "ns/b")
	w3 := wait(base+3, "ns/c")
	waitFor(t, "two waiters", func() bool { return inf.nwaiters.Load() == 2 })
	rev, err := src.Create(newPod("ns", "b", 1))
	if err != nil || rev != base+2 {
		t.Fatalf("create: rev %d err %v; want rev %d", rev, err, base+2)
	}
	r := <-w2
	if r.err != nil || !r.present || r.rev < base+2 {
		t.Fatalf("waiter for %d: %+v; want the object present and the cache at or past the revision", base+2, r)
	}
	if inf.Revision() != base+2 {
		t.Fatalf("cache revision %d, want %d", inf.Revision(), base+2)
	}
	select {
	case r := <-w3:
		t.Fatalf("waiter for %d returned %+v while the cache is at %d", base+3, r, inf.Revision())
	default:
	}
	// A write to another resource moves the store on; a bookmark tells the
	// informer so, and releases the waiter without any object change.
	src.Bump()
	src.Bookmark()
	r = <-w3
	if r.err != nil || r.present || r.rev != base+3 {
		t.Fatalf("waiter for %d after bookmark: %+v", base+3, r)
	}
	// A cancelled wait says so and names the revisions.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = inf.WaitForRevision(ctx, base+100)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), fmt.Sprint(base+100)) {
		t.Fatalf("cancelled WaitForRevision = %v", err)
	}
	if n := inf.nwaiters.Load(); n != 0 {
		t.Fatalf("%d waiters left registered", n)
	}
}

func TestConfigValidation(t *testing.T) {
	src := newSource()
	cases := map[string]Config[*pod]{
		"ResyncPeriod": {ResyncPeriod: -time.Second},
		"Jitter":       {Backoff: Backoff{Jitter: 1.5}},
		"exceeds":      {Backoff: Backoff{Initial: time.Minute, Max: time.Second}},
		"Indexers":     {Indexers: map[string]IndexFunc[*pod]{"byNode": nil}},
		"negative":     {Backoff: Backoff{Max: -time.Second}},
	}
	for want, cfg := range cases {
		_, err := New(src, cfg)
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), want) {
			t.Errorf("config %s: New = %v; want ErrInvalidConfig naming %q", want, err, want)
		}
	}
	if _, err := New[*pod](nil, Config[*pod]{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("nil source: %v", err)
	}
	inf := mustNew(t, src, Config[*pod]{})
	if _, err := inf.AddHandler(nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("nil handler: %v", err)
	}
}

func TestResyncRedeliversEveryObject(t *testing.T) {
	src := newSource()
	for i := 0; i < 3; i++ {
		if _, err := src.Create(newPod("ns", fmt.Sprint("p", i), i)); err != nil {
			t.Fatal(err)
		}
	}
	clk := newClock()
	inf := mustNew(t, src, Config[*pod]{Clock: clk, ResyncPeriod: time.Minute})
	rec := &recorder{}
	if _, err := inf.AddHandler(rec); err != nil {
		t.Fatal(err)
	}
	startInformer(t, inf)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	fireAfter(t, clk, time.Minute) // the resync timer
	waitFor(t, "resync events", func() bool { return rec.len() == 6 })
	for _, e := range rec.snapshot()[3:] {
		if e.kind != "update" || e.rv != e.oldRV {
			t.Fatalf("resync event %v: want update with old == new", e)
		}
	}
	replay(t, rec.snapshot())
}

// TestHandlersSeeTheChangeInCacheAndRevision: when a handler is told of a
// change, the cache and Revision already hold it, so a handler may read
// them (rebuild a view from the cache and record its revision, as a DNS
// server does) without missing the change it was told of. Checked for
// the initial list's adds (every object cached, Revision at the list's)
// and for watch events under load.
func TestHandlersSeeTheChangeInCacheAndRevision(t *testing.T) {
	const initial, writes = 300, 2000
	src := newSource()
	for i := range initial {
		if _, err := src.Create(newPod("ns", fmt.Sprintf("p%03d", i), i)); err != nil {
			t.Fatal(err)
		}
	}
	inf := mustNew(t, src, Config[*pod]{})
	var mu sync.Mutex
	var bad []string
	var calls int
	check := func(what string, obj *pod, initialAdd bool) {
		rv, _ := store.ParseRevision(obj.ResourceVersion)
		mu.Lock()
		defer mu.Unlock()
		calls++
		if got := inf.Revision(); got < rv {
			bad = append(bad, fmt.Sprintf("%s %s at revision %d: Revision() is %d", what, obj.Name, rv, got))
		}
		if initialAdd {
			if n := inf.Cache().Len(); n != initial {
				bad = append(bad, fmt.Sprintf("initial add of %s: the cache holds %d objects, want %d", obj.Name, n, initial))
			}
		}
	}
	if _, err := inf.AddHandler(HandlerFuncs[*pod]{
		AddFunc:    func(p *pod, isInitial bool) { check("add", p, isInitial) },
		UpdateFunc: func(_, p *pod) { check("update", p, false) },
	}); err != nil {
		t.Fatal(err)
	}
	startInformer(t, inf)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range writes {
		if _, err := src.Update(newPod("ns", fmt.Sprintf("p%03d", i%initial), initial+i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every handler call", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return calls == initial+writes
	})
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		t.Fatalf("%d of %d handler calls ran ahead of the cache, the first: %s", len(bad), calls, bad[0])
	}
}
