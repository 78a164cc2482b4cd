package informer_test

import (
	"context"
	"fmt"
	"sort"

	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
)

// Pod is a minimal stored object.
type Pod struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             struct {
		NodeName string `json:"nodeName,omitempty"`
	} `json:"spec"`
}

func newPod(name, node string) *Pod {
	p := &Pod{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: name}}
	p.Spec.NodeName = node
	return p
}

func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The typed store is the informer's source (here on the in-memory
	// backend; store/etcd in production).
	pods, err := store.New[*Pod](memory.New(), store.Resource{Name: "pods", APIVersion: "v1", Kind: "Pod", Namespaced: true})
	if err != nil {
		panic(err)
	}
	pods.Create(ctx, newPod("a", "node-1"))
	pods.Create(ctx, newPod("b", "node-2"))

	inf, err := informer.New(pods, informer.Config[*Pod]{
		Name: "pods",
		Indexers: map[string]informer.IndexFunc[*Pod]{
			"node": func(p *Pod) []string { return []string{p.Spec.NodeName} },
		},
	})
	if err != nil {
		panic(err)
	}
	events := make(chan string, 10)
	_, err = inf.AddHandler(informer.HandlerFuncs[*Pod]{
		AddFunc: func(p *Pod, initial bool) { events <- fmt.Sprintf("add %s initial=%v", p.Name, initial) },
		DeleteFunc: func(p *Pod, finalStateUnknown bool) {
			events <- fmt.Sprintf("delete %s", p.Name)
		},
	})
	if err != nil {
		panic(err)
	}
	go inf.Run(ctx)
	if err := inf.WaitForSync(ctx); err != nil {
		panic(err)
	}
	initial := []string{<-events, <-events}
	sort.Strings(initial)
	fmt.Println(initial)

	// Read your own write: wait until the cache has seen its revision.
	c, err := pods.Create(ctx, newPod("c", "node-1"))
	if err != nil {
		panic(err)
	}
	rev, _ := store.ParseRevision(c.ResourceVersion)
	if err := inf.WaitForRevision(ctx, rev); err != nil {
		panic(err)
	}
	fmt.Println(<-events)
	onNode1, _ := inf.ByIndex("node", "node-1")
	var names []string
	for _, p := range onNode1 {
		names = append(names, p.Name) // cached objects are shared: read only
	}
	sort.Strings(names)
	fmt.Println("on node-1:", names)

	// To change a cached object, modify a private copy.
	cached, _ := inf.Get("default", "a")
	mine := store.Clone(cached)
	mine.Spec.NodeName = "node-3"
	if _, err := pods.Update(ctx, mine); err != nil {
		panic(err)
	}

	if _, err := pods.Delete(ctx, "default", "b"); err != nil {
		panic(err)
	}
	fmt.Println(<-events)
	// Output:
	// [add a initial=true add b initial=true]
	// add c initial=false
	// on node-1: [a c]
	// delete b
}
