package store_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

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
			// No PrevValue: the previous state counts as not matching, as in
			// Kubernetes' watch cache, so a change that does not match now
			// is not sent, and one that does is Added.
			{Type: watch.Modified, Revision: 7, Object: store.KV{Key: key, Value: podValue(t, "a", back), ModRevision: 7}},
			{Type: watch.Modified, Revision: 8, Object: store.KV{Key: key, Value: podValue(t, "a", front), ModRevision: 8}},
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
	if len(evs) != 3 || evs[0].Type != watch.Added || evs[1].Type != watch.Bookmark || evs[1].Revision != 6 || evs[2].Type != watch.Added || evs[2].Revision != 8 {
		t.Fatalf("events = %+v", evs)
	}
	if evs[2].Object.ResourceVersion != "8" || evs[0].Object.Kind != "Pod" {
		t.Fatalf("event objects: %+v", evs)
	}
	if w.Err() == nil || !strings.Contains(w.Err().Error(), "backend went away") {
		t.Fatalf("Err = %v, want the backend's reason", w.Err())
	}

	// Without a selector, a change is sent as it is, whatever is known of
	// the previous state; without Bookmarks, none are delivered.
	w, err = pods.Watch(context.Background(), "ns", store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	evs = drain(t, w)
	if len(evs) != 3 || evs[0].Type != watch.Added || evs[1].Type != watch.Modified || evs[2].Type != watch.Modified {
		t.Fatalf("unfiltered events = %+v", evs)
	}
}

func TestWatchSkipsUndecodableValue(t *testing.T) {
	front := map[string]string{"tier": "front"}
	b := &scripted{
		Backend: memory.New(),
		events: []watch.Event[store.KV]{
			{Type: watch.Added, Revision: 5, Object: store.KV{Key: "/setpoint/pods/ns/a", Value: []byte("{"), ModRevision: 5}},
			{Type: watch.Added, Revision: 6, Object: store.KV{Key: "/setpoint/pods/ns/b", Value: podValue(t, "b", front), ModRevision: 6}},
			// b becomes unreadable: it leaves the watch, with its last
			// readable state; then readable again: it comes back.
			{Type: watch.Modified, Revision: 7, Object: store.KV{Key: "/setpoint/pods/ns/b", Value: []byte(`{"metadata":{"creationTimestamp":"10000-01-01T00:00:00Z"}}`), PrevValue: podValue(t, "b", front), ModRevision: 7}},
			{Type: watch.Modified, Revision: 8, Object: store.KV{Key: "/setpoint/pods/ns/b", Value: podValue(t, "b", front), PrevValue: []byte("{"), ModRevision: 8}},
			{Type: watch.Deleted, Revision: 9, Object: store.KV{Key: "/setpoint/pods/ns/a", Value: []byte("{"), ModRevision: 9}},
		},
		end: errors.New("end of script"),
	}
	var logs strings.Builder
	pods, _ := store.New[*Pod](b, podResource, store.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	w, err := pods.Watch(context.Background(), "ns", store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	evs := drain(t, w)
	var got []string
	for _, ev := range evs {
		got = append(got, fmt.Sprintf("%s %s %d", ev.Type, ev.Object.Name, ev.Revision))
	}
	want := []string{"ADDED b 6", "DELETED b 7", "ADDED b 8"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("events around undecodable values: %q, want %q", got, want)
	}
	if evs[1].Object.ResourceVersion != "7" || evs[1].Object.Labels["tier"] != "front" {
		t.Fatalf("DELETED carries %+v, want the last readable state at revision 7", evs[1].Object)
	}
	if !strings.Contains(w.Err().Error(), "end of script") {
		t.Fatalf("Err = %v, want the backend's end", w.Err())
	}
	if got := testutil.ToFloat64(pods.UndecodableCounter()); got != 4 {
		t.Fatalf("undecodable values reported %v times, want 4 (two objects, one previous value, one deletion)", got)
	}
	if !strings.Contains(logs.String(), "revision=5") {
		t.Fatalf("log does not name the bad event: %s", logs.String())
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
