package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/store/storetest"
	"github.com/setpoint-dev/setpoint/watch"
)

// collectSelectorEvents reads w until the event of the script's last step
// and formats each event with storetest.FormatSelectorEvent.
func collectSelectorEvents[O any](t *testing.T, w watch.Watcher[O], revs []int64, obj func(O) *storetest.Widget) []string {
	t.Helper()
	defer w.Stop()
	last := revs[len(revs)-1]
	var got []string
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				t.Fatalf("watch ended after %q: %v", got, w.Err())
			}
			o := obj(ev.Object)
			if o.ResourceVersion != store.FormatRevision(ev.Revision) {
				t.Fatalf("%s %s at %d carries resourceVersion %s", ev.Type, o.Name, ev.Revision, o.ResourceVersion)
			}
			got = append(got, storetest.FormatSelectorEvent(string(ev.Type), o, ev.Revision, revs))
			if ev.Revision == last {
				return got
			}
		case <-timeout:
			t.Fatalf("no event within 20s after %q", got)
		}
	}
}

// TestWatchSelectorTransitions pins the selector rules (see store.WatchCache)
// for every watch path: straight from the backend, and through the watch
// cache as typed objects and as shared encoded ones; including changes whose
// previous state the backend did not send, and values that do not decode.
func TestWatchSelectorTransitions(t *testing.T) {
	for _, cached := range []bool{false, true} {
		t.Run(fmt.Sprintf("cached=%v", cached), func(t *testing.T) {
			ctx := context.Background()
			script := storetest.NewSelectorScript()
			b := storetest.NewFaulty(memory.New())
			b.DropPrevValues(script.Dropped)
			var opts []store.Option
			if cached {
				opts = append(opts, store.WithWatchCache(store.WatchCacheConfig{}))
			}
			st, err := store.New[*storetest.Widget](b, storetest.WidgetResource, opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			start, _ := b.Revision(ctx)
			cases := storetest.SelectorCases()
			typed := make([]watch.Watcher[*storetest.Widget], len(cases))
			encoded := make([]watch.Watcher[*watch.Encoded[*storetest.Widget]], len(cases))
			for i, c := range cases {
				if typed[i], err = st.Watch(ctx, c.Namespace, c.Options(t, start)); err != nil {
					t.Fatal(err)
				}
				if encoded[i], err = st.WatchEncoded(ctx, c.Namespace, c.Options(t, start)); err != nil {
					t.Fatal(err)
				}
			}
			revs := script.Run(t, b, st)
			for i, c := range cases {
				got := collectSelectorEvents(t, typed[i], revs, func(w *storetest.Widget) *storetest.Widget { return w })
				if d := cmp.Diff(c.Want, got); d != "" {
					t.Errorf("%s (Watch): events differ (-want +got):\n%s", c.Name, d)
				}
				got = collectSelectorEvents(t, encoded[i], revs, func(e *watch.Encoded[*storetest.Widget]) *storetest.Widget { return e.Object })
				if d := cmp.Diff(c.Want, got); d != "" {
					t.Errorf("%s (WatchEncoded): events differ (-want +got):\n%s", c.Name, d)
				}
			}
		})
	}
}

// TestWatchObjectsAreOwnedOrShared: Watch hands every watcher its own copy
// (it may modify it); WatchEncoded, through the cache, hands every watcher
// the same read-only object and encoding, marshalled once.
func TestWatchObjectsAreOwnedOrShared(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	pods, err := store.New[*Pod](b, podResource, store.WithWatchCache(store.WatchCacheConfig{}))
	if err != nil {
		t.Fatal(err)
	}
	defer pods.Close()
	start, _ := b.Revision(ctx)
	w1, _ := pods.Watch(ctx, "", store.WatchOptions{AfterRevision: start})
	w2, _ := pods.Watch(ctx, "", store.WatchOptions{AfterRevision: start})
	e1, _ := pods.WatchEncoded(ctx, "", store.WatchOptions{AfterRevision: start})
	e2, _ := pods.WatchEncoded(ctx, "", store.WatchOptions{AfterRevision: start})
	if _, err := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "a"}}); err != nil {
		t.Fatal(err)
	}
	o1, o2 := nextEvent(t, w1).Object, nextEvent(t, w2).Object
	if o1 == o2 {
		t.Fatal("two watchers got the same object from Watch; each must own its copy")
	}
	o1.Labels = map[string]string{"mine": "yes"}
	if o2.Labels != nil {
		t.Fatal("a watcher's change to its object reached another watcher")
	}
	x1, x2 := (<-e1.Events()).Object, (<-e2.Events()).Object
	if x1 != x2 {
		t.Fatal("WatchEncoded through the cache gave two watchers two objects; they share one")
	}
	j1, _ := x1.EncodedJSON()
	j2, _ := x2.EncodedJSON()
	if &j1[0] != &j2[0] {
		t.Fatal("the shared encoding was marshalled twice")
	}
	if !strings.Contains(string(j1), `"name":"a"`) || strings.Contains(string(j1), "mine") {
		t.Fatalf("shared encoding %s", j1)
	}
}
