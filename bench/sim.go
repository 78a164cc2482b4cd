package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/cluster"
	"github.com/setpoint-dev/setpoint/examples/cluster/sim"
	"github.com/setpoint-dev/setpoint/store"
)

// sim-5000n-150kp: -sim-nodes simulated nodes (default 5,000) and
// -sim-pods pods (default 150,000) in Deployments of 100 across
// -sim-namespaces namespaces (default 100), on a fresh example control
// plane in this process (embedded etcd, apiserver, controller-manager,
// scheduler; the components' clients unthrottled). Figures, each from the
// first Deployment create until a watch has seen every pod Running:
//
//   - sim-5000n-150kp-objects-per-cpu-s: pods brought to Running per
//     CPU-second of this whole process (control plane plus node
//     simulator), ours against the anchor;
//   - sim-5000n-150kp-seconds: seconds until every pod is Running (ours,
//     absolute);
//   - sim-5000n-150kp-mutating-p99: the apiserver's p99 for mutating
//     requests during the run, from its apiserver_request_duration_seconds
//     histogram (Kubernetes' SLO: 1 s; absolute);
//   - sim-5000n-150kp-peak-rss: the process's peak resident memory during
//     our side (VmHWM, reset before it through /proc/self/clear_refs).
//
// Ours: the nodes are examples/cluster/sim's, each a whole kubelet on a
// fake runtime with its own client and credentials, renewing its Lease.
// The anchor: KWOK v0.8.0 (sigs.k8s.io/kwok/pkg/kwok/controllers, the
// kwok controller run in-process as its command does, with its default
// "fast" node and pod stages and node Leases) managing the same number of
// Nodes, created by the bench as kwokctl does, against the same kind of
// control plane. Goal: ratio >= 2.0, p99 under 1 s.
var (
	simNodesFlag      = flag.Int("sim-nodes", 5000, "sim-5000n-150kp: simulated nodes")
	simPodsFlag       = flag.Int("sim-pods", 150000, "sim-5000n-150kp: pods")
	simNamespacesFlag = flag.Int("sim-namespaces", 100, "sim-5000n-150kp: namespaces")
	simTimeoutFlag    = flag.Duration("sim-timeout", 30*time.Minute, "sim-5000n-150kp: give up on a side after this long")
)

func init() { register("sim", benchSim) }

func benchSim(ctx context.Context) ([]Result, error) {
	if *simNodesFlag < 1 || *simPodsFlag < 1 || *simNamespacesFlag < 1 {
		return nil, fmt.Errorf("-sim-nodes, -sim-pods and -sim-namespaces must be positive")
	}
	ours, err := simSide(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("ours: %w", err)
	}
	anchor, err := simSide(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("KWOK anchor: %w", err)
	}
	return []Result{
		{Name: "sim-5000n-150kp-objects-per-cpu-s", Ours: ours.podsPerCPUSecond(), Anchor: anchor.podsPerCPUSecond(), Unit: "pods/cpu-s", HigherIsBetter: true},
		{Name: "sim-5000n-150kp-seconds", Ours: ours.seconds, Unit: "s"},
		{Name: "sim-5000n-150kp-mutating-p99", Ours: ours.p99.Seconds() * 1000, Unit: "ms"},
		{Name: "sim-5000n-150kp-peak-rss", Ours: float64(ours.peakRSS) / (1 << 20), Unit: "MiB"},
	}, nil
}

// simResult is one side's figures.
type simResult struct {
	seconds, cpuSeconds float64
	p99                 time.Duration
	peakRSS             uint64
	pods                int
}

func (r simResult) podsPerCPUSecond() float64 { return float64(r.pods) / r.cpuSeconds }

// simSide runs one side on a fresh control plane: our simulated nodes,
// or Nodes managed by KWOK.
func simSide(ctx context.Context, kwok bool) (res simResult, err error) {
	dir, err := os.MkdirTemp("", "setpoint-bench-sim-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	nodes, pods := *simNodesFlag, *simPodsFlag
	cfg := cluster.Config{DataDir: filepath.Join(dir, "server"), Listen: "127.0.0.1:0", DNSListen: "127.0.0.1:0",
		ClusterCIDR: "10.128.0.0/9", ComponentQPS: -1, EtcdNoFsync: true, EtcdLogLevel: "off"}
	var s *sim.Sim
	var extra []cluster.ComponentFunc
	if !kwok {
		extra = append(extra, func(ctx context.Context, _ *cluster.Server) error { return s.Run(ctx) })
	}
	srv, err := cluster.New(cfg, extra...)
	if err != nil {
		return res, err
	}
	if !kwok {
		if s, err = sim.New(sim.Config{Nodes: nodes, Kubeconfig: srv.NodeKubeconfig, Dir: filepath.Join(dir, "nodes"),
			StartLatency: sim.Latency{Median: 500 * time.Millisecond, P99: 2 * time.Second}}); err != nil {
			return res, err
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(runCtx)
	defer func() {
		cancel()
		if werr := g.Wait(); werr != nil && err == nil {
			err = werr
		}
	}()
	g.Go(func() error { return srv.Run(gctx) })
	select {
	case <-srv.Ready():
	case <-gctx.Done():
		return res, context.Cause(gctx)
	}
	admin, err := client.New(client.Config{KubeconfigPath: srv.KubeconfigPath(), QPS: -1})
	if err != nil {
		return res, err
	}
	wctx, wcancel := context.WithTimeout(gctx, *simTimeoutFlag)
	defer wcancel()
	if kwok {
		if err := kwokCreateNodes(wctx, admin, nodes); err != nil {
			return res, err
		}
		kc, err := srv.Kubeconfig()
		if err != nil {
			return res, err
		}
		if err := startKWOK(gctx, g, kc, dir); err != nil {
			return res, err
		}
	}
	if err := benchPoll(wctx, *simTimeoutFlag, func() (bool, error) {
		c, err := kwokOrSimReady(wctx, admin, kwok)
		return c >= nodes, err
	}); err != nil {
		return res, fmt.Errorf("waiting for %d nodes Ready: %w", nodes, err)
	}
	_, before, err := sim.MutatingP99(wctx, admin, nil)
	if err != nil {
		return res, err
	}
	resetPeakRSS()
	cpu0 := processCPUSeconds()
	start := time.Now()
	created := make(chan error, 1)
	go func() {
		created <- sim.CreateWorkload(wctx, admin, sim.Workload{Pods: pods, Namespaces: *simNamespacesFlag, Replicas: 100})
	}()
	p, err := sim.WaitRunning(wctx, admin, pods, nil)
	if err != nil {
		return res, err
	}
	if err := <-created; err != nil {
		return res, err
	}
	res = simResult{seconds: time.Since(start).Seconds(), cpuSeconds: processCPUSeconds() - cpu0, peakRSS: peakRSS(), pods: p.Running}
	if res.p99, _, err = sim.MutatingP99(wctx, admin, before); err != nil {
		return res, err
	}
	fmt.Fprintf(os.Stderr, "sim (kwok=%v): %d nodes, %d pods Running in %.1f s, %.1f CPU-s, p99 mutating %v, peak RSS %d MiB\n",
		kwok, nodes, res.pods, res.seconds, res.cpuSeconds, res.p99, res.peakRSS>>20)
	return res, nil
}

// kwokNodeLabel marks the Nodes KWOK manages.
const kwokNodeLabel = "setpoint.dev/kwok"

// kwokCreateNodes creates n Nodes for KWOK to manage, as `kwokctl scale
// node` does: no status, KWOK fills it in.
func kwokCreateNodes(ctx context.Context, cs *client.Clientset, n int) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	for i := range n {
		g.Go(func() error {
			node := &api.Node{ObjectMeta: store.ObjectMeta{Name: fmt.Sprintf("kwok-%05d", i),
				Labels:      map[string]string{kwokNodeLabel: "true", "kubernetes.io/hostname": fmt.Sprintf("kwok-%05d", i), "type": "kwok"},
				Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"}}}
			rl := sim.DefaultCapacity()
			node.Status.Capacity, node.Status.Allocatable = rl, rl
			_, err := cs.Nodes().Create(gctx, node)
			return err
		})
	}
	return g.Wait()
}

// kwokOrSimReady counts the Ready nodes of the side.
func kwokOrSimReady(ctx context.Context, cs *client.Clientset, kwok bool) (int, error) {
	if !kwok {
		c, err := sim.CountNodes(ctx, cs)
		return c.Ready, err
	}
	sel, _ := store.ParseSelector(kwokNodeLabel + "=true")
	nodes, err := cs.Nodes().List(ctx, "", store.ListOptions{Selector: sel})
	if err != nil {
		return 0, err
	}
	ready := 0
	for _, n := range nodes.Items {
		for _, c := range n.Status.Conditions {
			if c.Type == api.NodeReady && c.Status == api.ConditionTrue {
				ready++
			}
		}
	}
	return ready, nil
}

// processCPUSeconds is this process's user and system CPU time.
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// resetPeakRSS resets the kernel's peak RSS of this process (VmHWM).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS reads VmHWM from /proc/self/status.
func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
