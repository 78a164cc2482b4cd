package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/watch"
)

// scripted is a backend whose watches replay a fixed script of events.
type scripted struct {
	*memory.Backend
	events []watch.Event[store.KV]
	end    error
}

func (s *scripted) Watch(ctx context.Context, prefix string, afterRev int64) (watch.Watcher[store.KV], error) {
	st := watch.NewStream[store.KV](len(s.events))
	for _, e := range s.events {
		st.TrySend(e)
	}
	st.Close(s.end)
	return st, nil
}

func podValue(t *testing.T, name string, labels map[string]string) []byte {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"metadata":{"namespace":"ns","name":"` + name + `","labels":{`)
	first := true
	for k, v := range labels {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(`"` + k + `":"` + v + `"`)
	}
	b.WriteString(`}}}`)
	return []byte(b.String())
}

func drain(t *testing.T, w watch.Watcher[*Pod]) []watch.Event[*Pod] {
	t.Helper()
	var out []watch.Event[*Pod]
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				return out
			}
			out = append(out, ev)
		case <-timeout:
			t.Fatal("watch did not end")
		}
	}
}

func TestWatchBookmarksAndUnknownPrev(t *testing.T) {
	front := map[string]string{"tier": "front"}
	back := map[string]string{"tier": "back"}
	key := "/setpoint/pods/ns/a"
	b := &scripted{
		Backend: memory.New(),
		events: []watch.Event[store.KV]{
			{Type: watch.Added, Revision: 5, Object: store.KV{Key: key, Value: podValue(t, "a", front), ModRevision: 5}},
			{Type: watch.Bookmark, Revision: 6},
			// No PrevValue: the store assumes it matched before.
			{Type: watch.Modified, Revision: 7, Object: store.KV{Key: key, Value: podValue(t, "a", back), ModRevision: 7}},
		},
		end: errors.New("backend went away"),
	}
	pods, _ := store.New[*Pod](b, podResource)
	sel, _ := store.ParseSelector("tier=front")

	w, err := pods.Watch(context.Background(), "ns", store.WatchOptions{Selector: sel, Bookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	evs := drain(t, w)
	if len(evs) != 3 || evs[0].Type != watch.Added || evs[1].Type != watch.Bookmark || evs[1].Revision != 6 || evs[2].Type != watch.Deleted || evs[2].Revision != 7 {
		t.Fatalf("events = %+v", evs)
	}
	if evs[2].Object.ResourceVersion != "7" || evs[0].Object.Kind != "Pod" {
		t.Fatalf("event objects: %+v", evs)
	}
	if w.Err() == nil || !strings.Contains(w.Err().Error(), "backend went away") {
		t.Fatalf("Err = %v, want the backend's reason", w.Err())
	}

	// Without Bookmarks, none are delivered.
	w, err = pods.Watch(context.Background(), "ns", store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range drain(t, w) {
		if ev.Type == watch.Bookmark {
			t.Fatal("bookmark delivered without WatchOptions.Bookmarks")
		}
	}
}

func TestWatchCorruptValueEndsStream(t *testing.T) {
	b := &scripted{
		Backend: memory.New(),
		events: []watch.Event[store.KV]{
			{Type: watch.Added, Revision: 5, Object: store.KV{Key: "/setpoint/pods/ns/a", Value: []byte("{"), ModRevision: 5}},
			{Type: watch.Added, Revision: 6, Object: store.KV{Key: "/setpoint/pods/ns/b", Value: podValue(t, "b", nil), ModRevision: 6}},
		},
	}
	pods, _ := store.New[*Pod](b, podResource)
	w, err := pods.Watch(context.Background(), "ns", store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if evs := drain(t, w); len(evs) != 0 {
		t.Fatalf("events after a corrupt value: %+v (a watch must not skip)", evs)
	}
	if err := w.Err(); err == nil || !strings.Contains(err.Error(), "revision 5") {
		t.Fatalf("Err = %v, want a decode error at revision 5", err)
	}
}

func TestWatchContextCancel(t *testing.T) {
	pods, _ := store.New[*Pod](memory.New(), podResource)
	ctx, cancel := context.WithCancel(context.Background())
	w, err := pods.Watch(ctx, "", store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	drain(t, w)
	if !errors.Is(w.Err(), context.Canceled) {
		t.Fatalf("Err = %v, want context.Canceled", w.Err())
	}
	if _, err := pods.Watch(context.Background(), "", store.WatchOptions{AfterRevision: -1}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("negative AfterRevision: err = %v", err)
	}
}
