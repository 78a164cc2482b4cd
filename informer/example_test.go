package informer_test

import (
	"context"
	"fmt"
	"sort"

	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/informer/internal/fakelw"
	"github.com/setpoint-dev/setpoint/store"
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
	// Any ListerWatcher works; *store.Store[*Pod] is the usual one.
	pods := fakelw.New[*Pod](nil)
	pods.Create(newPod("a", "node-1"))
	pods.Create(newPod("b", "node-2"))

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
		DeleteFunc: func(p *Pod, unknown bool) {
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

	// Read your own write: wait until the cache has seen it.
	rev, _ := pods.Create(newPod("c", "node-1"))
	if err := inf.WaitForRevision(ctx, rev); err != nil {
		panic(err)
	}
	fmt.Println(<-events)
	onNode1, _ := inf.ByIndex("node", "node-1")
	names := []string{}
	for _, p := range onNode1 {
		names = append(names, p.Name) // cached objects are read-only
	}
	sort.Strings(names)
	fmt.Println("on node-1:", names)

	pods.Delete("default/a")
	fmt.Println(<-events)
	// Output:
	// [add a initial=true add b initial=true]
	// add c initial=false
	// on node-1: [a c]
	// delete a
}
