package clustertest_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/cluster"
	"github.com/setpoint-dev/setpoint/examples/cluster/clustertest"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/store"
)

// TestChaos: while a 30-replica Deployment converges on 3 simulated
// nodes, the apiserver, the controller-manager, the scheduler and a
// kubelet are killed in turn (and restarted by the server's supervisor,
// as systemd would); meanwhile a writer keeps creating ConfigMaps. The
// cluster converges to exactly 30 Running pods, each run by exactly one
// sandbox on its node, and every ConfigMap whose create was acknowledged
// is still there.
func TestChaos(t *testing.T) {
	logs := &lastLines{max: 3000}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the cluster's last %d log lines:\n%s", logs.max, logs)
		}
	})
	c := clustertest.Start(t, clustertest.Options{Nodes: 3,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	ctx := context.Background()
	if _, err := c.Client.Deployments().Create(ctx, deployment("chaos", 30)); err != nil {
		t.Fatal(err)
	}
	// The writer: every create that returned without error is
	// acknowledged and must survive.
	wctx, stopWriter := context.WithCancel(ctx)
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; wctx.Err() == nil; i++ {
			cm := &api.ConfigMap{Data: map[string]string{"i": fmt.Sprint(i)}}
			cm.Namespace, cm.Name = "default", fmt.Sprintf("acked-%d", i)
			if _, err := c.Client.ConfigMaps().Create(wctx, cm); err == nil {
				mu.Lock()
				acked = append(acked, cm.Name)
				mu.Unlock()
			}
			select {
			case <-wctx.Done():
			case <-tick.C:
			}
		}
	}()
	for _, comp := range []string{cluster.ComponentAPIServer, cluster.ComponentControllerManager, cluster.ComponentScheduler,
		cluster.NodeComponent("node-2")} {
		// Each kill lands while the Deployment is still converging or
		// just after: wait for some progress since the last one.
		before := runningCount(ctx, c)
		_ = c.Poll(ctx, 10*time.Second, "progress", func(ctx context.Context) (bool, error) {
			return runningCount(ctx, c) > before || before >= 30, nil
		})
		if err := c.Server.Kill(ctx, comp); err != nil {
			t.Fatalf("kill %s: %v", comp, err)
		}
		t.Logf("killed %s with %d pods Running", comp, before)
	}
	err := c.Poll(ctx, 2*time.Minute, "30 Running and Ready pods", func(ctx context.Context) (bool, error) {
		_, n, err := runningReady(ctx, c, "chaos")
		return err == nil && n == 30, err
	})
	stopWriter()
	wg.Wait()
	if err != nil {
		logChaosState(t, c)
		t.Fatal(err)
	}
	// Exactly 30 pods exist (none duplicated, none left over)...
	sel, _ := store.ParseSelector("app=chaos")
	var pods *store.List[*api.Pod]
	err = c.Poll(ctx, time.Minute, "exactly 30 pods, each with one sandbox", func(ctx context.Context) (bool, error) {
		var err error
		if pods, err = c.Client.Pods().List(ctx, "default", store.ListOptions{Selector: sel}); err != nil {
			return false, err
		}
		if len(pods.Items) != 30 {
			return false, nil
		}
		// ...and each has exactly one ready sandbox, on its own node,
		// and no node runs a sandbox of any other pod.
		want := map[string]string{}
		for _, p := range pods.Items {
			want[string(p.UID)] = p.Spec.NodeName
		}
		seen := map[string]int{}
		for node, rt := range c.Runtimes {
			sbs, err := rt.ListSandboxes(ctx, runtime.SandboxFilter{State: runtime.SandboxReady})
			if err != nil {
				return false, err
			}
			for _, sb := range sbs {
				if want[sb.UID] != node {
					return false, nil
				}
				seen[sb.UID]++
			}
		}
		for uid := range want {
			if seen[uid] != 1 {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		for node, rt := range c.Runtimes {
			sbs, _ := rt.ListSandboxes(ctx, runtime.SandboxFilter{State: runtime.SandboxReady})
			t.Logf("node %s: %d ready sandboxes", node, len(sbs))
		}
		if pods != nil {
			t.Logf("%d pods", len(pods.Items))
		}
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range pods.Items {
		if names[p.Name] || p.Status.Phase != api.PodRunning {
			t.Errorf("pod %s: duplicate or not Running (%s)", p.Name, p.Status.Phase)
		}
		names[p.Name] = true
	}
	mu.Lock()
	defer mu.Unlock()
	if len(acked) == 0 {
		t.Fatal("no ConfigMap create was acknowledged during the kills")
	}
	for _, name := range acked {
		if _, err := c.Client.ConfigMaps().Get(ctx, "default", name); err != nil {
			t.Errorf("acknowledged ConfigMap %s: %v", name, err)
		}
	}
	t.Logf("%d acknowledged ConfigMaps all present", len(acked))
	if err := c.Server.Kill(ctx, "no-such"); !errors.Is(err, cluster.ErrUnknownComponent) {
		t.Errorf("Kill(no-such): %v, want ErrUnknownComponent", err)
	}
}

// runningCount returns how many pods of the chaos Deployment are Running
// and Ready (0 while the apiserver does not answer).
func runningCount(ctx context.Context, c *clustertest.Cluster) int {
	_, n, _ := runningReady(ctx, c, "chaos")
	return n
}

// logChaosState logs what a failed wait saw: the Deployment's and its
// ReplicaSets' status, and the pods by node, phase and readiness.
func logChaosState(t *testing.T, c *clustertest.Cluster) {
	t.Helper()
	ctx := context.Background()
	if d, err := c.Client.Deployments().Get(ctx, "default", "chaos"); err == nil {
		t.Logf("deployment: %+v", d.Status)
	}
	if rss, err := c.Client.ReplicaSets().List(ctx, "default", store.ListOptions{}); err == nil {
		for _, rs := range rss.Items {
			spec := "unset"
			if rs.Spec.Replicas != nil {
				spec = fmt.Sprint(*rs.Spec.Replicas)
			}
			t.Logf("replicaset %s: spec %s, status %+v", rs.Name, spec, rs.Status)
		}
	}
	pods, err := c.Client.Pods().List(ctx, "default", store.ListOptions{})
	if err != nil {
		t.Logf("listing pods: %v", err)
		return
	}
	counts := map[string]int{}
	for _, p := range pods.Items {
		ready := false
		for _, cond := range p.Status.Conditions {
			ready = ready || cond.Type == api.PodReady && cond.Status == api.ConditionTrue
		}
		counts[fmt.Sprintf("node=%q phase=%s ready=%v deleting=%v", p.Spec.NodeName, p.Status.Phase, ready, p.DeletionTimestamp != nil)]++
	}
	for k, n := range counts {
		t.Logf("%d pods with %s", n, k)
	}
	if nodes, err := c.Client.Nodes().List(ctx, "", store.ListOptions{}); err == nil {
		for _, n := range nodes.Items {
			for _, cond := range n.Status.Conditions {
				if cond.Type == api.NodeReady {
					t.Logf("node %s Ready=%s (%s)", n.Name, cond.Status, cond.Reason)
				}
			}
		}
	}
}

// lastLines is an io.Writer that keeps the last max lines written to it
// (each Write is one slog record), for a failing test to show.
type lastLines struct {
	max   int
	mu    sync.Mutex
	lines []string
}

func (l *lastLines) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == l.max {
		l.lines = l.lines[1:]
	}
	l.lines = append(l.lines, strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

func (l *lastLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
