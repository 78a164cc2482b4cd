// Command storedemo is the smallest complete setpoint program: it starts an
// embedded etcd, opens a typed store of Widgets on it, watches the store, and
// creates, updates (with a conflict and a GuaranteedUpdate), gracefully deletes
// (with a finalizer) and deletes an object, printing what happens.
//
//	go run ./examples/storedemo
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/embedetcd"
	"github.com/setpoint-dev/setpoint/watch"
)

// Widget is a small Kubernetes-shaped object.
type Widget struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             WidgetSpec   `json:"spec,omitempty"`
	Status           WidgetStatus `json:"status,omitempty"`
}

// WidgetSpec is the desired state.
type WidgetSpec struct {
	Size int `json:"size"`
}

// WidgetStatus is the observed state.
type WidgetStatus struct {
	Phase string `json:"phase,omitempty"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "storedemo:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	start := time.Now()
	srv, err := embedetcd.Start(ctx, embedetcd.Config{})
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Printf("embedded etcd ready at %s in %v\n", srv.Endpoints()[0], time.Since(start).Round(time.Millisecond))

	widgets, err := store.New[*Widget](srv.Backend(), store.Resource{
		Name: "widgets", APIVersion: "demo.setpoint.dev/v1", Kind: "Widget", Namespaced: true,
	})
	if err != nil {
		return err
	}

	w, err := widgets.Watch(ctx, "default", store.WatchOptions{})
	if err != nil {
		return err
	}
	defer w.Stop()
	events := make(chan string, 64)
	go func() {
		defer close(events)
		for e := range w.Events() {
			events <- fmt.Sprintf("  watch: %-8s %s rv=%d size=%d deleting=%v", e.Type, e.Object.Name, e.Revision, e.Object.Spec.Size, e.Object.DeletionTimestamp != nil)
		}
	}()
	drain := func(n int) {
		for range n {
			select {
			case line := <-events:
				fmt.Println(line)
			case <-time.After(10 * time.Second):
				fmt.Println("  watch: (no event within 10s)")
				return
			}
		}
	}

	step := func(format string, args ...any) { fmt.Printf("\n"+format+"\n", args...) }

	step("create widget default/demo with size 1 and a finalizer")
	created, err := widgets.Create(ctx, &Widget{
		ObjectMeta: store.ObjectMeta{Name: "demo", Namespace: "default", Labels: map[string]string{"app": "demo"}, Finalizers: []string{"demo.setpoint.dev/cleanup"}},
		Spec:       WidgetSpec{Size: 1},
	})
	if err != nil {
		return err
	}
	fmt.Printf("  created: uid=%s resourceVersion=%s generation=%d\n", created.UID, created.ResourceVersion, created.Generation)
	drain(1)

	step("update with the current resourceVersion: size 2")
	created.Spec.Size = 2
	updated, err := widgets.Update(ctx, created)
	if err != nil {
		return err
	}
	fmt.Printf("  updated: resourceVersion=%s generation=%d\n", updated.ResourceVersion, updated.Generation)
	drain(1)

	step("update again with the old resourceVersion %s: compare-and-swap refuses", created.ResourceVersion)
	created.Spec.Size = 99
	if _, err := widgets.Update(ctx, created); errors.Is(err, store.ErrConflict) {
		fmt.Printf("  refused: %v\n", err)
	} else {
		return fmt.Errorf("stale update: got %v, want a conflict", err)
	}

	step("GuaranteedUpdate: read, modify, retry on conflict")
	if _, err := widgets.GuaranteedUpdate(ctx, "default", "demo", func(w *Widget) (*Widget, error) {
		w.Spec.Size *= 10
		return w, nil
	}); err != nil {
		return err
	}
	drain(1)

	step("list with selector app=demo")
	sel, err := store.ParseSelector("app=demo")
	if err != nil {
		return err
	}
	list, err := widgets.List(ctx, "default", store.ListOptions{Selector: sel})
	if err != nil {
		return err
	}
	for _, it := range list.Items {
		fmt.Printf("  %s/%s size=%d (list revision %d)\n", it.Namespace, it.Name, it.Spec.Size, list.Revision)
	}

	step("a bad name is rejected and nothing is written")
	if _, err := widgets.Create(ctx, &Widget{ObjectMeta: store.ObjectMeta{Name: "Not_A_DNS_Name", Namespace: "default"}}); err != nil {
		fmt.Printf("  rejected: %v\n", err)
	}

	step("delete: the finalizer holds it, so deletionTimestamp is set")
	pending, err := widgets.Delete(ctx, "default", "demo")
	if err != nil {
		return err
	}
	fmt.Printf("  still present: deletionTimestamp=%s\n", pending.DeletionTimestamp.Format(time.RFC3339))
	drain(1)

	step("remove the finalizer: the store deletes the object")
	if _, err := widgets.GuaranteedUpdate(ctx, "default", "demo", func(w *Widget) (*Widget, error) {
		w.Finalizers = nil
		return w, nil
	}); err != nil {
		return err
	}
	drain(1)
	if _, err := widgets.Get(ctx, "default", "demo"); errors.Is(err, store.ErrNotFound) {
		fmt.Printf("  get: %v\n", err)
	} else {
		return fmt.Errorf("get after delete: got %v, want not found", err)
	}
	w.Stop()
	for range events {
	}
	if err := w.Err(); !errors.Is(err, watch.ErrStopped) {
		return fmt.Errorf("watch ended with %v, want stopped", err)
	}
	fmt.Println("\ndone")
	return nil
}
