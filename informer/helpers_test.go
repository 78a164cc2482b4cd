package informer

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/informer/internal/fakelw"
	"github.com/setpoint-dev/setpoint/store"
)

// pod is the test object type.
type pod struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             podSpec `json:"spec"`
}

type podSpec struct {
	NodeName string `json:"nodeName,omitempty"`
	Value    int    `json:"value"`
}

func copyPod(p *pod) *pod {
	c := *p
	c.Labels = maps.Clone(p.Labels)
	c.Annotations = maps.Clone(p.Annotations)
	return &c
}

func newPod(ns, name string, value int) *pod {
	return &pod{ObjectMeta: store.ObjectMeta{Namespace: ns, Name: name}, Spec: podSpec{Value: value}}
}

func newSource() *fakelw.Source[*pod] { return fakelw.New(copyPod) }

// waitFor polls cond until it holds or a generous deadline passes. It is
// for what other goroutines make true without time passing on a fake clock
// (handler calls, source calls); waits for fake time go through waitTimers.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	poll := time.NewTicker(time.Millisecond)
	defer poll.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-poll.C:
		}
	}
}

// newClock returns a fake clock at a fixed start.
func newClock() *clockwork.FakeClock { return clockwork.NewFakeClockAt(time.Unix(0, 0)) }

// waitTimers waits until at least n timers are armed on clk.
func waitTimers(t testing.TB, clk *clockwork.FakeClock, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := clk.BlockUntilContext(ctx, n); err != nil {
		t.Fatalf("waiting for %d armed timers: %v", n, err)
	}
}

// armed reports whether at least n timers are armed on clk right now.
func armed(clk *clockwork.FakeClock, n int) bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return clk.BlockUntilContext(ctx, n) == nil
}

// fireAfter waits for the one timer the informer arms, checks that it is
// still armed just before d, and advances the clock to d.
func fireAfter(t testing.TB, clk *clockwork.FakeClock, d time.Duration) {
	t.Helper()
	waitTimers(t, clk, 1)
	if armed(clk, 2) {
		t.Fatal("more than one timer armed")
	}
	clk.Advance(d - time.Nanosecond)
	if !armed(clk, 1) {
		t.Fatalf("timer fired before %v", d)
	}
	clk.Advance(time.Nanosecond)
}

// advanceUntil keeps firing the fake clock's timers until cond holds.
func advanceUntil(t testing.TB, clk *clockwork.FakeClock, what string, cond func() bool) {
	t.Helper()
	waitFor(t, what, func() bool {
		if cond() {
			return true
		}
		clk.Advance(time.Hour)
		return false
	})
}

// event is one recorded handler call.
type event struct {
	kind    string // add, update, delete
	key     string
	rv      string // new (or deleted) object's resourceVersion
	oldRV   string
	value   int
	initial bool // add: initial; delete: finalStateUnknown
}

func (e event) String() string {
	return fmt.Sprintf("%s %s rv=%s old=%s v=%d flag=%v", e.kind, e.key, e.rv, e.oldRV, e.value, e.initial)
}

// recorder is a Handler that records every call.
type recorder struct {
	mu     sync.Mutex
	events []event
	block  chan struct{} // if set, every call first waits on it
}

func (r *recorder) record(e event) {
	if r.block != nil {
		<-r.block
	}
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) OnAdd(obj *pod, initial bool) {
	r.record(event{kind: "add", key: store.KeyOf(obj), rv: obj.ResourceVersion, value: obj.Spec.Value, initial: initial})
}

func (r *recorder) OnUpdate(old, obj *pod) {
	r.record(event{kind: "update", key: store.KeyOf(obj), rv: obj.ResourceVersion, oldRV: old.ResourceVersion, value: obj.Spec.Value})
}

func (r *recorder) OnDelete(obj *pod, unknown bool) {
	r.record(event{kind: "delete", key: store.KeyOf(obj), rv: obj.ResourceVersion, value: obj.Spec.Value, initial: unknown})
}

func (r *recorder) snapshot() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event(nil), r.events...)
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// replay applies a handler's events to an empty model and fails on any
// inconsistency: an add for a key already present (duplicate add), an
// update or delete for an absent key, an update whose old state is not the
// state last seen. It returns key -> resourceVersion.
func replay(t testing.TB, events []event) map[string]string {
	t.Helper()
	model := map[string]string{}
	for i, e := range events {
		cur, ok := model[e.key]
		switch e.kind {
		case "add":
			if ok {
				t.Fatalf("event %d %v: duplicate add (already at rv %s)", i, e, cur)
			}
			model[e.key] = e.rv
		case "update":
			if !ok {
				t.Fatalf("event %d %v: update of unknown key", i, e)
			}
			if e.oldRV != cur {
				t.Fatalf("event %d %v: old rv %s, last seen %s", i, e, e.oldRV, cur)
			}
			model[e.key] = e.rv
		case "delete":
			if !ok {
				t.Fatalf("event %d %v: delete of unknown key", i, e)
			}
			delete(model, e.key)
		}
	}
	return model
}

// cacheModel returns key -> resourceVersion of the cache.
func cacheModel[T store.Object](c *Cache[T]) map[string]string {
	out := map[string]string{}
	for _, o := range c.List() {
		out[store.KeyOf(o)] = o.GetObjectMeta().ResourceVersion
	}
	return out
}

// sourceModel lists the source and returns key -> resourceVersion and the
// list revision.
func sourceModel(t testing.TB, lw ListerWatcher[*pod], ns string) (map[string]string, int64) {
	t.Helper()
	l, err := lw.List(context.Background(), ns, store.ListOptions{})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	out := map[string]string{}
	for _, o := range l.Items {
		out[store.KeyOf(o)] = o.ResourceVersion
	}
	return out, l.Revision
}

func diffModels(a, b map[string]string) string {
	var d []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			d = append(d, fmt.Sprintf("-%s@%s", k, v))
		} else if w != v {
			d = append(d, fmt.Sprintf("~%s@%s->%s", k, v, w))
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			d = append(d, fmt.Sprintf("+%s@%s", k, v))
		}
	}
	sort.Strings(d)
	return strings.Join(d, " ")
}

// startInformer runs inf until the test ends and fails the test if Run
// returns an error.
func startInformer[T store.Object](t testing.TB, inf *Informer[T]) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- inf.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return cancel
}
