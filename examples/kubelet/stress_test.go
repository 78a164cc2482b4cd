package kubelet

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime/fake"
)

// TestStressManyPods (-race): simulated nodes in one process, pods created
// and deleted from many goroutines at once. Invariant: every pod runs on
// its node, every deletion completes, and no runtime holds anything after.
func TestStressManyPods(t *testing.T) {
	c := startCluster(t)
	const nodes, podsPerNode = 2, 10
	rts := make([]*fake.Runtime, nodes)
	for i := range rts {
		rts[i] = fakeRuntime(t)
		runKubelet(t, Config{Client: c.cs, Runtime: rts[i], NodeName: fmt.Sprintf("node-%d", i), SyncPeriod: 100 * time.Millisecond})
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for n := range nodes {
		for i := range podsPerNode {
			wg.Go(func() {
				name := fmt.Sprintf("p-%d-%d", n, i)
				if _, err := c.cs.Pods().Create(ctx, newPod(name, fmt.Sprintf("node-%d", n), testContainer("main", "on-term 1ms", "wait"))); err != nil {
					t.Error(err)
					return
				}
				p, err := pollPod(c.cs, "default", name, "Running", func(p *api.Pod) bool { return p != nil && p.Status.Phase == api.PodRunning })
				if err != nil {
					t.Error(err)
					return
				}
				if p.Status.PodIP == "" {
					t.Errorf("%s running without a pod IP", name)
				}
				if err := c.cs.Pods().Call(ctx, http.MethodDelete, "default", name, "", nil, nil, nil); err != nil {
					t.Error(err)
					return
				}
				if _, err := pollPod(c.cs, "default", name, "deletion", func(p *api.Pod) bool { return p == nil }); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	for i, rt := range rts {
		if left := rt.Leftovers(); len(left) != 0 {
			t.Errorf("node-%d runtime holds %v after every pod was deleted", i, left)
		}
	}
}
