package replicaset_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/replicaset"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// TestStress: several replica sets grow in small bursts (4 workers) while
// chaos goroutines delete their pods; at no pod event does a replica set
// have more active pods than its replicas, and each ends with exactly its
// replicas. (On loopback the pod cache rarely lags enough to need the
// expectations: this test also passes without them. It checks the
// invariant under concurrency, not the expectations themselves; those
// are tested in controllerutil.)
func TestStress(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	c, err := replicaset.New(replicaset.Config{Client: cs, BurstReplicas: 3, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "replicaset controller", c.Run)
	(&controllertest.NodeStandIn{Client: cs, Nodes: []string{"n1"}}).Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	const sets, replicas = 4, 12
	start, err := cs.Pods().List(ctx, "default", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cs.Pods().Watch(ctx, "default", store.WatchOptions{AfterRevision: start.Revision})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var over []string
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		live := map[string]map[string]bool{}
		for ev := range w.Events() {
			app := ev.Object.Labels["app"]
			if live[app] == nil {
				live[app] = map[string]bool{}
			}
			if ev.Type == watch.Deleted || ev.Object.DeletionTimestamp != nil {
				delete(live[app], ev.Object.Name)
			} else {
				live[app][ev.Object.Name] = true
			}
			if len(live[app]) > replicas {
				mu.Lock()
				over = append(over, fmt.Sprintf("%s: %d pods", app, len(live[app])))
				mu.Unlock()
			}
		}
	}()
	var wg sync.WaitGroup
	for i := range sets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := cs.ReplicaSets().Create(ctx, newRS(fmt.Sprintf("s%d", i), replicas, map[string]string{"app": fmt.Sprintf("s%d", i)})); err != nil {
				t.Error(err)
			}
		}()
	}
	// Chaos: delete random pods while the sets grow.
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				l, err := cs.Pods().List(ctx, "default", store.ListOptions{})
				if err != nil {
					t.Error(err)
					return
				}
				if len(l.Items) == 0 {
					continue
				}
				p := l.Items[rand.IntN(len(l.Items))]
				if _, err := cs.Pods().Delete(ctx, p.Namespace, p.Name, store.WithPreconditionUID(p.UID)); err != nil && !isGone(err) {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	for i := range sets {
		rs, err := cs.ReplicaSets().Get(ctx, "default", fmt.Sprintf("s%d", i))
		if err != nil {
			t.Fatal(err)
		}
		settled(t, cs, rs, replicas)
	}
	w.Stop()
	<-watched
	mu.Lock()
	defer mu.Unlock()
	if len(over) > 0 {
		t.Fatalf("more pods than replicas: %v", over)
	}
}

func isGone(err error) bool {
	return err != nil && (errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict))
}
