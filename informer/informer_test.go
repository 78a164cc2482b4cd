package informer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/informer/internal/fakeclock"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
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
	clk := fakeclock.New(time.Unix(0, 0))
	inf := mustNew(t, src, Config[*pod]{Clock: clk})
	startInformer(t, inf)
	waitFor(t, "first list attempt", func() bool { l, _ := src.Calls(); return l >= 1 })
	waitFor(t, "backoff timer", func() bool { return len(clk.Pending()) == 1 })

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
	clk := fakeclock.New(time.Unix(0, 0))
	inf := mustNew(t, src, Config[*pod]{Clock: clk})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- inf.Run(ctx) }()
	waitFor(t, "backoff timer", func() bool { return len(clk.Pending()) == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	err := inf.WaitForSync(context.Background())
	if !errors.Is(err, ErrStopped) || !errors.Is(err, errDown) {
		t.Fatalf("WaitForSync after stop = %v; want ErrStopped wrapping the list error", err)
	}
	if err := inf.Run(context.Background()); !errors.Is(err, ErrAlreadyStarted) {
		t.Fatalf("second Run = %v, want ErrAlreadyStarted", err)
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

func TestRelistAfterGoneEmitsWhatChanged(t *testing.T) {
	src := newSource()
	for _, n := range []string{"keep", "change", "gone"} {
		if _, err := src.Create(newPod("ns", n, 0)); err != nil {
			t.Fatal(err)
		}
	}
	clk := fakeclock.New(time.Unix(0, 0))
	inf := mustNew(t, src, Config[*pod]{Clock: clk})
	rec := &recorder{}
	if _, err := inf.AddHandler(rec); err != nil {
		t.Fatal(err)
	}
	startInformer(t, inf)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	keepBefore, _ := inf.Get("ns", "keep")
	waitFor(t, "watch open", func() bool { return src.Watchers() == 1 })
	// The informer loses its watch and cannot get it back while the store
	// changes and compacts.
	src.FailWatch(errors.New("connection refused"))
	src.Break(errors.New("connection reset"))
	waitFor(t, "backoff after broken watch", func() bool { return len(clk.Pending()) == 1 })
	if _, err := src.Update(newPod("ns", "change", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Delete("ns/gone"); err != nil {
		t.Fatal(err)
	}
	last, err := src.Create(newPod("ns", "born", 2))
	if err != nil {
		t.Fatal(err)
	}
	src.Compact()
	src.FailWatch(nil)
	// Resume: the watch from the old revision is gone, so the informer relists.
	advanceUntil(t, clk, "relist", func() bool { return inf.Revision() >= last })
	waitFor(t, "relist events", func() bool { return rec.len() == 6 })
	got := map[string]event{}
	for _, e := range rec.snapshot()[3:] {
		got[e.kind+" "+e.key] = e
	}
	if e, ok := got["update ns/change"]; !ok || e.value != 1 {
		t.Errorf("missing update of ns/change: %v", got)
	}
	if e, ok := got["delete ns/gone"]; !ok || !e.initial {
		t.Errorf("missing delete of ns/gone with finalStateUnknown: %v", got)
	}
	if e, ok := got["add ns/born"]; !ok || e.initial {
		t.Errorf("missing non-initial add of ns/born: %v", got)
	}
	if keepAfter, _ := inf.Get("ns", "keep"); keepAfter != keepBefore {
		t.Error("an unchanged object was replaced by a new instance on relist")
	}
	if n := inf.stats.relists.Load(); n != 1 {
		t.Errorf("relists = %d, want 1", n)
	}
	src1, _ := sourceModel(t, src, "")
	if d := diffModels(src1, replay(t, rec.snapshot())); d != "" {
		t.Fatalf("handler view differs from source: %s", d)
	}
}

func TestBrokenWatchResumesWithoutRelist(t *testing.T) {
	src := newSource()
	clk := fakeclock.New(time.Unix(0, 0))
	inf := mustNew(t, src, Config[*pod]{Clock: clk})
	rec := &recorder{}
	if _, err := inf.AddHandler(rec); err != nil {
		t.Fatal(err)
	}
	startInformer(t, inf)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "watch open", func() bool { return src.Watchers() == 1 })
	src.Break(errors.New("stream reset"))
	waitFor(t, "backoff", func() bool { return len(clk.Pending()) == 1 })
	rev, _ := src.Create(newPod("ns", "a", 1))
	clk.Advance(time.Minute)
	if err := inf.WaitForRevision(context.Background(), rev); err != nil {
		t.Fatal(err)
	}
	lists, watches := src.Calls()
	if lists != 1 || watches != 2 {
		t.Fatalf("lists=%d watches=%d; want the watch resumed (2) without a relist (1)", lists, watches)
	}
	waitFor(t, "add event", func() bool { return rec.len() == 1 })
}

func TestBackoffGrowsAndResets(t *testing.T) {
	b := backoff{cfg: Backoff{Jitter: -1}.withDefaults()}
	var got []time.Duration
	for i := 0; i < 8; i++ {
		got = append(got, b.next())
	}
	want := []time.Duration{800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond, 6400 * time.Millisecond,
		12800 * time.Millisecond, 25600 * time.Millisecond, 30 * time.Second, 30 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays = %v, want %v", got, want)
		}
	}
	b.reset()
	if d := b.next(); d != 800*time.Millisecond {
		t.Fatalf("after reset: %v", d)
	}
	// Jitter stays within ±20% and under the cap.
	for _, r := range []float64{0, 0.5, 0.999} {
		j := backoff{cfg: Backoff{}.withDefaults(), rand: func() float64 { return r }}
		d := j.next()
		if d < 640*time.Millisecond || d > 960*time.Millisecond {
			t.Fatalf("jittered first delay %v with r=%v outside [640ms, 960ms]", d, r)
		}
		j.failures = 20
		if d := j.next(); d > 30*time.Second || d < 24*time.Second {
			t.Fatalf("jittered capped delay %v with r=%v", d, r)
		}
	}
}

func TestReflectorBacksOffThenResetsAfterHealthyWatch(t *testing.T) {
	src := newSource()
	src.FailList(errors.New("boom"))
	clk := fakeclock.New(time.Unix(0, 0))
	inf := mustNew(t, src, Config[*pod]{Clock: clk, Backoff: Backoff{Jitter: -1}})
	startInformer(t, inf)
	// Each failed list waits twice as long as the one before.
	for _, want := range []time.Duration{800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond} {
		waitFor(t, "backoff timer "+want.String(), func() bool { return len(clk.Pending()) == 1 })
		if got := clk.Pending()[0]; got != want {
			t.Fatalf("backoff = %v, want %v", got, want)
		}
		if want == 3200*time.Millisecond {
			src.FailList(nil)
		}
		clk.Advance(want)
	}
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "watch open", func() bool { return src.Watchers() == 1 })
	// A watch that breaks at once keeps growing the backoff...
	src.Break(errors.New("reset"))
	waitFor(t, "backoff timer", func() bool { return len(clk.Pending()) == 1 })
	if got := clk.Pending()[0]; got != 6400*time.Millisecond {
		t.Fatalf("backoff after quick watch failure = %v, want 6.4s", got)
	}
	clk.Advance(6400 * time.Millisecond)
	waitFor(t, "watch reopened", func() bool { _, w := src.Calls(); return w == 2 && src.Watchers() == 1 })
	// ...but one that stayed healthy for ResetAfter starts again at 800ms.
	clk.Advance(2 * time.Minute)
	src.Break(errors.New("reset"))
	waitFor(t, "backoff timer", func() bool { return len(clk.Pending()) == 1 })
	if got := clk.Pending()[0]; got != 800*time.Millisecond {
		t.Fatalf("backoff after healthy watch = %v, want 800ms", got)
	}
}

func TestWatchErrorEventAndGoneMidStream(t *testing.T) {
	src := newSource()
	clk := fakeclock.New(time.Unix(0, 0))
	inf := mustNew(t, src, Config[*pod]{Clock: clk})
	startInformer(t, inf)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "watch open", func() bool { return src.Watchers() == 1 })
	src.Break(&watch.GoneError{Requested: 1, Oldest: 5})
	waitFor(t, "backoff", func() bool { return len(clk.Pending()) == 1 })
	clk.Advance(time.Minute)
	waitFor(t, "relist", func() bool { l, _ := src.Calls(); return l == 2 })
	if !errors.Is(inf.LastError(), watch.ErrGone) && inf.LastError() != nil {
		t.Fatalf("LastError = %v", inf.LastError())
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
	clk := fakeclock.New(time.Unix(0, 0))
	inf := mustNew(t, src, Config[*pod]{Clock: clk, ResyncPeriod: time.Minute})
	rec := &recorder{}
	if _, err := inf.AddHandler(rec); err != nil {
		t.Fatal(err)
	}
	startInformer(t, inf)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "resync timer", func() bool { return len(clk.Pending()) == 1 })
	clk.Advance(59 * time.Second)
	clk.Advance(time.Second)
	waitFor(t, "resync events", func() bool { return rec.len() == 6 })
	for _, e := range rec.snapshot()[3:] {
		if e.kind != "update" || e.rv != e.oldRV {
			t.Fatalf("resync event %v: want update with old == new", e)
		}
	}
	replay(t, rec.snapshot())
}

func TestPagedListExpiredFallsBackToOneRequest(t *testing.T) {
	src := newSource()
	for i := 0; i < 5; i++ {
		src.Create(newPod("ns", fmt.Sprint("p", i), i))
	}
	// Between the first and second page the store writes and compacts, so
	// the continue token's revision is gone.
	src.OnList(func(call int) {
		if call == 2 {
			src.Create(newPod("ns", "late", 9))
			src.Compact()
		}
	})
	clk := fakeclock.New(time.Unix(0, 0))
	inf := mustNew(t, src, Config[*pod]{PageSize: 2, Clock: clk})
	startInformer(t, inf)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if lists, _ := src.Calls(); lists != 3 {
		t.Fatalf("List calls = %d; want page 1, the expired page 2, then one full list", lists)
	}
	if n := inf.Cache().Len(); n != 6 {
		t.Fatalf("cache has %d objects, want 6", n)
	}
	if inf.Revision() != src.Revision() {
		t.Fatalf("cache at %d, source at %d", inf.Revision(), src.Revision())
	}
	if got := inf.stats.lists.Load(); got != 1 {
		t.Fatalf("lists metric = %d, want 1 (the fallback is part of the same list)", got)
	}
}
