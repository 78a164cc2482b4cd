package watch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// ConfigMap is a small Kubernetes-style object.
type ConfigMap struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Data             map[string]string `json:"data,omitempty"`
}

// upstream is a Source that replays a fixed history, as a backend watch would.
func upstream(history []watch.Event[string]) watch.Source[string] {
	return func(ctx context.Context, afterRev int64) (watch.Watcher[string], error) {
		s := watch.NewStream[string](len(history))
		for _, e := range history {
			if e.Revision > afterRev {
				s.Send(ctx, e)
			}
		}
		go func() {
			select { // stay open until the broadcaster stops
			case <-s.Done():
			case <-ctx.Done():
			}
			s.Close(nil)
		}()
		return s, nil
	}
}

func ExampleBroadcaster() {
	history := []watch.Event[string]{
		{Type: watch.Added, Object: "a", Revision: 3},
		{Type: watch.Added, Object: "b", Revision: 7},
		{Type: watch.Modified, Object: "a", Revision: 8},
		{Type: watch.Deleted, Object: "b", Revision: 12},
	}
	b, err := watch.NewBroadcaster(upstream(history), 0, watch.BroadcasterConfig{Window: 100})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.Run(ctx)

	// Two subscribers share the one upstream watch; the second starts later.
	all, _ := b.Subscribe(ctx, 0)
	late, _ := b.Subscribe(ctx, 7)
	defer all.Stop()
	defer late.Stop()
	for range 4 {
		e := <-all.Events()
		fmt.Println("all: ", e.Type, e.Object, e.Revision)
	}
	for range 2 {
		e := <-late.Events()
		fmt.Println("late:", e.Type, e.Object, e.Revision)
	}
	// Output:
	// all:  ADDED a 3
	// all:  ADDED b 7
	// all:  MODIFIED a 8
	// all:  DELETED b 12
	// late: MODIFIED a 8
	// late: DELETED b 12
}

func ExampleEncoder() {
	enc := watch.NewEncoder(os.Stdout)
	cm := &ConfigMap{
		TypeMeta:   store.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: store.ObjectMeta{Name: "settings", Namespace: "default", ResourceVersion: "42"},
		Data:       map[string]string{"mode": "fast"},
	}
	_ = watch.EncodeEvent(enc, watch.Event[*ConfigMap]{Type: watch.Added, Object: cm, Revision: 42})
	_ = watch.EncodeEvent(enc, watch.Event[*ConfigMap]{Type: watch.Bookmark, Revision: 50})
	_ = watch.EncodeEvent(enc, watch.Event[*ConfigMap]{Type: watch.Error, Err: &watch.GoneError{Requested: 10, Oldest: 30}})
	// Output:
	// {"type":"ADDED","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings","namespace":"default","resourceVersion":"42"},"data":{"mode":"fast"}}}
	// {"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"50"}}}
	// {"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"watch: requested revision is no longer available: asked for revision 10, oldest available is 30","reason":"Expired","code":410}}
}

func ExampleDecoder() {
	stream := `{"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"settings","resourceVersion":"42"},"data":{"mode":"fast"}}}
{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version","reason":"Expired","code":410}}
{"type":"SURPRISE","object":{}}
`
	dec := watch.NewDecoder(strings.NewReader(stream), 0)
	for {
		we, err := dec.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		e, err := watch.DecodeEvent[*ConfigMap](we)
		if err != nil {
			fmt.Println(err)
			return
		}
		if e.Type == watch.Error {
			fmt.Println("relist needed:", errors.Is(e.Err, watch.ErrGone))
			continue
		}
		fmt.Println(e.Type, e.Object.Name, e.Object.Data["mode"], e.Revision)
	}
	// Output:
	// ADDED settings fast 42
	// relist needed: true
	// watch: malformed event on line 3: unknown event type "SURPRISE"
}
