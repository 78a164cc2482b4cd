package kubelet

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/fake"
)

// gatedRuntime holds every RunSandbox until gate is closed, counting the
// calls in flight and the sandboxes run per pod UID.
type gatedRuntime struct {
	*fake.Runtime
	gate chan struct{}

	mu       sync.Mutex
	inFlight int
	peak     int
	reached  chan struct{} // closed when inFlight first reaches want
	want     int
	perUID   map[string]int
}

func (g *gatedRuntime) RunSandbox(ctx context.Context, cfg runtime.SandboxConfig) (string, error) {
	g.mu.Lock()
	g.inFlight++
	g.peak = max(g.peak, g.inFlight)
	if g.inFlight == g.want {
		close(g.reached)
	}
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inFlight--
		g.mu.Unlock()
	}()
	select {
	case <-g.gate:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	id, err := g.Runtime.RunSandbox(ctx, cfg)
	if err == nil {
		g.mu.Lock()
		g.perUID[cfg.UID]++
		g.mu.Unlock()
	}
	return id, err
}

// TestPodsStartInParallel (-race): with the default Workers, pods bound
// at once start their sandboxes at once (Kubernetes runs one pod worker
// per pod), instead of queueing behind a few slow starts. Invariants: all
// of them are in RunSandbox together before any returns; every pod gets
// exactly one sandbox (no pod is synced by two workers at once); all run.
func TestPodsStartInParallel(t *testing.T) {
	const pods = 40 // well above the old default of 8 workers
	c := startCluster(t)
	rt := &gatedRuntime{Runtime: fakeRuntime(t), gate: make(chan struct{}), reached: make(chan struct{}), want: pods, perUID: map[string]int{}}
	runKubelet(t, Config{Client: c.cs, Runtime: rt, NodeName: "node-1", SyncPeriod: 100 * time.Millisecond})
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range pods {
		wg.Go(func() {
			if _, err := c.cs.Pods().Create(ctx, newPod(fmt.Sprintf("p-%d", i), "node-1", testContainer("main", "wait"))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	select {
	case <-rt.reached:
	case <-time.After(time.Minute): // a guard, not a timing goal
		rt.mu.Lock()
		peak := rt.peak
		rt.mu.Unlock()
		close(rt.gate)
		t.Fatalf("at most %d of %d pods were starting their sandbox at once; want all of them", peak, pods)
	}
	close(rt.gate)
	for i := range pods {
		waitPod(t, c.cs, "default", fmt.Sprintf("p-%d", i), "Running", func(p *api.Pod) bool { return p != nil && p.Status.Phase == api.PodRunning })
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if len(rt.perUID) != pods {
		t.Errorf("%d pods got a sandbox, want %d", len(rt.perUID), pods)
	}
	for uid, n := range rt.perUID {
		if n != 1 {
			t.Errorf("pod %s got %d sandboxes, want 1", uid, n)
		}
	}
}

// TestDefaultWorkers: one worker per pod the node can hold.
func TestDefaultWorkers(t *testing.T) {
	if got := (Config{}).withDefaults().Workers; got != DefaultMaxPods {
		t.Errorf("default Workers = %d, want DefaultMaxPods (%d)", got, DefaultMaxPods)
	}
	cfg := Config{Capacity: api.ResourceList{api.ResourcePods: api.NewQuantity(30, api.DecimalSI)}}
	if got := cfg.withDefaults().Workers; got != 30 {
		t.Errorf("Workers with a pods capacity of 30 = %d, want 30", got)
	}
	cfg.Workers = 3
	if got := cfg.withDefaults().Workers; got != 3 {
		t.Errorf("Workers set to 3 became %d", got)
	}
}
