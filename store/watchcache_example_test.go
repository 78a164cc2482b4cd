package store_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
)

// A server runs one watch cache per resource; each watcher gets the events
// its selector lets through, with the object's JSON encoded once and shared
// (watch.Encoder writes it as is). A relabel that makes the object start
// matching is Added; one that makes it stop matching is Deleted, with the
// last matching state.
func ExampleWatchCache() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := memory.New()
	pods, _ := store.New[*Pod](b, podResource)
	cache, err := store.NewWatchCache(pods, store.WatchCacheConfig{})
	if err != nil {
		panic(err)
	}
	go cache.Run(ctx)

	start, _ := b.Revision(ctx)
	sel, _ := store.ParseSelector("app=web")
	w, err := cache.WatchEncoded(ctx, "default", store.WatchOptions{Selector: sel, AfterRevision: start})
	if err != nil {
		panic(err)
	}
	defer w.Stop()

	p, _ := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: "a", Labels: map[string]string{"app": "db"}}})
	p.Labels["app"] = "web"
	p, _ = pods.Update(ctx, p) // starts matching: ADDED
	p.Labels["app"] = "db"
	_, _ = pods.Update(ctx, p) // stops matching: DELETED, with the last matching state

	for range 2 {
		ev := <-w.Events()
		raw, _ := ev.Object.EncodedJSON()
		var wire Pod
		_ = json.Unmarshal(raw, &wire)
		fmt.Println(ev.Type, wire.Kind, wire.Name, wire.Labels["app"], wire.ResourceVersion == store.FormatRevision(ev.Revision))
	}
	// Output:
	// ADDED Pod a web true
	// DELETED Pod a web true
}

// Lists come from the cache's current state: a consistent list (no
// freshness option) waits until the cache has seen the backend's current
// revision, so it shows every write acknowledged before it started; pages
// continue at the first page's revision.
func ExampleWatchCache_List() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pods, _ := store.New[*Pod](memory.New(), podResource)
	cache, err := store.NewWatchCache(pods, store.WatchCacheConfig{})
	if err != nil {
		panic(err)
	}
	go cache.Run(ctx)
	for _, name := range []string{"a", "b", "c"} {
		_, _ = pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: name}})
	}

	opts := store.CachedListOptions{ListOptions: store.ListOptions{Limit: 2}}
	for {
		page, err := cache.List(ctx, "default", opts)
		if err != nil {
			panic(err)
		}
		for _, it := range page.Items {
			fmt.Print(it.Object.Name, " ")
		}
		fmt.Println("- more:", page.Continue != "")
		if page.Continue == "" {
			break
		}
		opts.Continue = page.Continue
	}
	// Output:
	// a b - more: true
	// c - more: false
}
