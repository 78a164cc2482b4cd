package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/etcdtest"
)

// counter is a stored object whose reconciler drives status.value up to
// spec.target, one step per reconcile.
type counter struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             counterSpec   `json:"spec"`
	Status           counterStatus `json:"status"`
}

type counterSpec struct {
	Target int `json:"target"`
	// Broken makes the reconciler fail with a terminal error.
	Broken bool `json:"broken,omitempty"`
}

type counterStatus struct {
	Value int `json:"value"`
}

var counters = store.Resource{Name: "counters", APIVersion: "test.setpoint.dev/v1", Kind: "Counter", Namespaced: true}

// TestControllerAgainstEtcd runs a controller against a real embedded etcd
// and a real informer: the reconciler reads counters from the informer's
// cache and drives them to their targets through the store, while errors,
// conflicts (stale cache reads and stale writes), panics and terminal errors
// are injected.
func TestControllerAgainstEtcd(t *testing.T) {
	srv := etcdtest.Start(t)
	s, err := store.New[*counter](srv.Backend(), counters, store.WithKeyPrefix("/reconcile-etcd-test"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	var (
		calls     atomic.Int64
		mu        sync.Mutex
		perKey    = map[reconcile.Request]int{}
		inflight  = map[reconcile.Request]bool{}
		overlaps  atomic.Int64
		conflicts atomic.Int64
	)
	inf, err := informer.New(s, informer.Config[*counter]{Name: "counters"})
	if err != nil {
		t.Fatal(err)
	}
	rec := reconcile.Func[reconcile.Request](func(ctx context.Context, key reconcile.Request) (reconcile.Result, error) {
		n := calls.Add(1)
		mu.Lock()
		if inflight[key] {
			overlaps.Add(1)
		}
		inflight[key] = true
		perKey[key]++
		mu.Unlock()
		defer func() {
			mu.Lock()
			inflight[key] = false
			mu.Unlock()
		}()
		switch {
		case n%7 == 3:
			return reconcile.Result{}, fmt.Errorf("injected error on call %d", n)
		case n%11 == 5:
			panic(fmt.Sprintf("injected panic on call %d", n))
		}
		cached, ok := inf.Get(key.Namespace, key.Name)
		if !ok {
			return reconcile.Result{}, nil // deleted: nothing to do
		}
		c := store.Clone(cached) // cached objects are shared and read-only
		if c.Spec.Broken {
			return reconcile.Result{}, reconcile.TerminalError(fmt.Errorf("counter %s is broken", key))
		}
		if c.Status.Value == c.Spec.Target {
			return reconcile.Result{}, nil
		}
		if c.Status.Value < c.Spec.Target {
			c.Status.Value++
		} else {
			c.Status.Value--
		}
		if n%5 == 0 {
			// Write from a stale copy now and then: the store refuses it
			// with a conflict and the retry reads afresh.
			c.ResourceVersion = "1"
		}
		if _, err := s.Update(ctx, c); err != nil {
			if errors.Is(err, store.ErrConflict) {
				conflicts.Add(1)
			}
			return reconcile.Result{}, err
		}
		// The update's watch event brings the key back for the next step.
		return reconcile.Result{}, nil
	})
	exp, err := reconcile.NewExponentialBackoff[reconcile.Request](time.Millisecond, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	ctrl, err := reconcile.New(reconcile.Config[reconcile.Request]{
		Name: "counters", Reconciler: rec, Workers: 4, RateLimiter: exp, Registerer: reg,
	})
	if err != nil {
		t.Fatal(err)
	}

	// Objects that exist before the controller starts arrive in the
	// initial list.
	create := func(name string, spec counterSpec) {
		t.Helper()
		c := &counter{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: name}, Spec: spec}
		if _, err := s.Create(ctx, c); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	create("a", counterSpec{Target: 10})
	create("b", counterSpec{Target: 5})
	create("broken", counterSpec{Target: 3, Broken: true})

	// The wiring helper is registered with the informer directly.
	if _, err := inf.AddHandler(reconcile.EnqueueKey[*counter](ctrl.Queue())); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := inf.Run(ctx); err != nil && ctx.Err() == nil {
			t.Errorf("informer Run: %v", err)
		}
	}()
	if err := inf.WaitForSync(ctx); err != nil {
		t.Fatalf("informer sync: %v", err)
	}
	go func() {
		defer wg.Done()
		if err := ctrl.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	defer func() { cancel(); wg.Wait() }()

	create("c", counterSpec{Target: 7}) // a fresh add while running

	// The broken counter fails terminally and is then left alone.
	brokenKey := reconcile.Request{Namespace: "ns", Name: "broken"}
	eventually(t, "the terminal error", func() bool {
		return metricValue(t, reg, "setpoint_reconcile_reconciles_total", "result", "terminal_error") >= 1
	})
	mu.Lock()
	brokenCalls := perKey[brokenKey]
	mu.Unlock()

	waitValue := func(name string, want int) {
		t.Helper()
		eventually(t, fmt.Sprintf("counter %s to reach %d", name, want), func() bool {
			c, err := s.Get(ctx, "ns", name)
			return err == nil && c.Status.Value == want
		})
	}
	waitValue("a", 10)
	waitValue("b", 5)
	waitValue("c", 7)

	// A new desired value is reached too, down as well as up.
	if _, err := s.GuaranteedUpdate(ctx, "ns", "a", func(c *counter) (*counter, error) {
		c.Spec.Target = 4
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	waitValue("a", 4)

	// The broken counter was not retried after its terminal error while the
	// others worked, and its status was never touched.
	if c, err := s.Get(ctx, "ns", "broken"); err != nil || c.Status.Value != 0 {
		t.Fatalf("broken counter: %+v, %v", c, err)
	}
	mu.Lock()
	after := perKey[brokenKey]
	mu.Unlock()
	if after != brokenCalls {
		t.Fatalf("broken was reconciled %d more times after its terminal error", after-brokenCalls)
	}
	if v := metricValue(t, reg, "setpoint_reconcile_reconciles_total", "result", "terminal_error"); v != 1 {
		t.Fatalf("terminal errors = %v, want 1", v)
	}

	for _, r := range []string{"error", "panic"} {
		if v := metricValue(t, reg, "setpoint_reconcile_reconciles_total", "result", r); v < 1 {
			t.Errorf("no %s results: the injected failures did not happen", r)
		}
	}
	if conflicts.Load() == 0 {
		t.Error("no conflicts were injected")
	}
	if n := overlaps.Load(); n != 0 {
		t.Fatalf("a key was reconciled by two workers at once %d times", n)
	}

	// Deleting an object reconciles its key once more (and finds it gone).
	before := calls.Load()
	if _, err := s.Delete(ctx, "ns", "b"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the delete to be reconciled", func() bool { return calls.Load() > before })
}
