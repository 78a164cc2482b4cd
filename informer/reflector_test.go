package informer

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

func TestRelistAfterGoneEmitsWhatChanged(t *testing.T) {
	src := newSource()
	for _, n := range []string{"keep", "change", "gone"} {
		if _, err := src.Create(newPod("ns", n, 0)); err != nil {
			t.Fatal(err)
		}
	}
	clk := newClock()
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
	waitTimers(t, clk, 1) // backoff after broken watch
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
	clk := newClock()
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
	waitTimers(t, clk, 1) // backoff
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

func TestReflectorBacksOffThenResetsAfterHealthyWatch(t *testing.T) {
	src := newSource()
	src.FailList(errors.New("boom"))
	clk := newClock()
	inf := mustNew(t, src, Config[*pod]{Clock: clk, Backoff: Backoff{Jitter: -1}})
	startInformer(t, inf)
	// Each failed list waits twice as long as the one before.
	for i, want := range []time.Duration{800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond} {
		waitFor(t, fmt.Sprintf("list %d", i+1), func() bool { l, _ := src.Calls(); return l == i+1 })
		if want == 3200*time.Millisecond {
			src.FailList(nil)
		}
		fireAfter(t, clk, want)
	}
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "watch open", func() bool { return src.Watchers() == 1 })
	// A watch that breaks at once keeps growing the backoff...
	src.Break(errors.New("reset"))
	fireAfter(t, clk, 6400*time.Millisecond)
	waitFor(t, "watch reopened", func() bool { _, w := src.Calls(); return w == 2 && src.Watchers() == 1 })
	// ...but one that stayed healthy for ResetAfter starts again at 800ms.
	clk.Advance(2 * time.Minute)
	src.Break(errors.New("reset"))
	fireAfter(t, clk, 800*time.Millisecond)
	waitFor(t, "watch reopened after 800ms", func() bool { _, w := src.Calls(); return w == 3 && src.Watchers() == 1 })
}

func TestWatchErrorEventAndGoneMidStream(t *testing.T) {
	src := newSource()
	clk := newClock()
	inf := mustNew(t, src, Config[*pod]{Clock: clk})
	startInformer(t, inf)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "watch open", func() bool { return src.Watchers() == 1 })
	src.Break(&watch.GoneError{Requested: 1, Oldest: 5})
	waitTimers(t, clk, 1) // backoff
	clk.Advance(time.Minute)
	waitFor(t, "relist", func() bool { l, _ := src.Calls(); return l == 2 })
	if !errors.Is(inf.LastError(), watch.ErrGone) && inf.LastError() != nil {
		t.Fatalf("LastError = %v", inf.LastError())
	}
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
	clk := newClock()
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

// revisionless hides event revisions, as a source that only sets each
// object's resourceVersion would.
type revisionless struct {
	ListerWatcher[*pod]
}

func (r revisionless) Watch(ctx context.Context, ns string, opts store.WatchOptions) (watch.Watcher[*pod], error) {
	in, err := r.ListerWatcher.Watch(ctx, ns, opts)
	if err != nil {
		return nil, err
	}
	out := watch.NewStream[*pod](1)
	go func() {
		defer in.Stop()
		for ev := range in.Events() {
			ev.Revision = 0
			if !out.Send(ctx, ev) {
				out.Close(ctx.Err())
				return
			}
		}
		out.Close(in.Err())
	}()
	return out, nil
}

func TestEventsWithoutRevisionUseResourceVersion(t *testing.T) {
	src := newSource()
	inf := mustNew(t, revisionless{src}, Config[*pod]{})
	startInformer(t, inf)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	src.Create(newPod("ns", "a", 1))
	rev, _ := src.Update(newPod("ns", "a", 2))
	if err := inf.WaitForRevision(context.Background(), rev); err != nil {
		t.Fatal(err)
	}
	if p, ok := inf.Get("ns", "a"); !ok || p.Spec.Value != 2 {
		t.Fatalf("Get = %+v, %v", p, ok)
	}
}
