package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/kubelet"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// kubelet-fake-pods-per-s: kfNodes simulated nodes in one process — our
// kubelet (examples/kubelet) on the fake runtime (runtime/fake), each with
// its own client at the kubelet's default limits — registered and Ready
// on a fresh example apiserver (embedded etcd, in process). Then kfPods
// pods, already bound round-robin to the nodes (spec.nodeName), are
// created kfWorkers at a time; the figure is pods per second from the
// first create until a watch has seen every pod Running.
//
// The anchor is the raw pod-status-write rate of the same kind of
// apiserver in the same run: the same pods created by the same workers,
// each worker writing the pod's Running status (phase, conditions, IPs,
// a running container status: what a kubelet writes) through pods/status
// right after its create, with no kubelet at all, measured the same way.
// Goal: ratio >= 0.5.
//
// Why not Kubernetes' hollow kubelet (k8s.io/kubernetes/pkg/kubemark) as
// the anchor: it is the real kubelet (pkg/kubelet, with fake CRI and
// cAdvisor), and it cannot run against the example apiserver, which does
// not serve storage.k8s.io CSINodes. At start the kubelet's CSI volume
// plugin (pkg/volume/csi, Init) must create the node's CSINode; it
// retries for about 140 s and then calls klog.Fatalf, which exits the
// whole process (this benchmark with it), and until then the node reports
// NotReady. Building it here also pulls cAdvisor, the CRI client and the
// whole kubelet tree into this module.
//
// kubelet-fake-mem-per-pod: the Go heap (after a GC) that the kubelets
// hold per running pod: the heap growth from before the pods were created
// to when all ran, less the same growth in the anchor run (the
// apiserver's own share: the stored pods and its watch cache), divided by
// the pods. An absolute figure (no anchor).
const (
	kfNodes       = 100
	kfPodsPerNode = 10
	kfPods        = kfNodes * kfPodsPerNode
	kfWorkers     = 64
)

func init() { register("kubelet-fake", benchKubeletFake) }

func benchKubeletFake(ctx context.Context) ([]Result, error) {
	ours, oursHeap, err := kfRun(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("kubelets: %w", err)
	}
	anchor, anchorHeap, err := kfRun(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("status-write anchor: %w", err)
	}
	return []Result{
		{Name: "kubelet-fake-pods-per-s", Ours: ours, Anchor: anchor, Unit: "pods/s", HigherIsBetter: true},
		{Name: "kubelet-fake-mem-per-pod", Ours: float64(oursHeap-anchorHeap) / kfPods, Unit: "B"},
	}, nil
}

// kfRun runs one side: with kubelets (ours) or with status writes (the
// anchor). It returns pods Running per second and the heap growth.
func kfRun(ctx context.Context, withKubelets bool) (rate float64, heapGrowth int64, err error) {
	kc, cs, cleanup, err := freshAPIServer(ctx, "setpoint-bench-kubelet-fake-", 2000)
	if err != nil {
		return 0, 0, err
	}
	defer cleanup()
	dir, err := os.MkdirTemp("", "setpoint-bench-kubelet-nodes-") // the kubelets' root dirs
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	runCtx, cancel := context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(runCtx)
	defer func() {
		cancel()
		if werr := g.Wait(); werr != nil && err == nil && ctx.Err() == nil {
			err = werr
		}
	}()
	if withKubelets {
		if err := kfStartKubelets(gctx, g, kc, dir); err != nil {
			return 0, 0, err
		}
	} else if err := kfCreateNodes(ctx, cs); err != nil {
		return 0, 0, err
	}
	if err := kfNodesReady(gctx, cs); err != nil {
		return 0, 0, err
	}
	before := kfHeap()
	l, err := cs.Pods().List(ctx, "default", store.ListOptions{Limit: 1})
	if err != nil {
		return 0, 0, err
	}
	w, err := cs.Pods().Watch(ctx, "default", store.WatchOptions{AfterRevision: l.Revision})
	if err != nil {
		return 0, 0, err
	}
	defer w.Stop()
	start := time.Now()
	created := make(chan error, 1)
	go func() { created <- kfCreatePods(gctx, cs, !withKubelets) }()
	running := make(map[string]bool, kfPods)
	timeout := time.NewTimer(10 * time.Minute)
	defer timeout.Stop()
	for len(running) < kfPods {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				return 0, 0, fmt.Errorf("pod watch ended: %v", w.Err())
			}
			if ev.Type != watch.Deleted && ev.Object.Status.Phase == api.PodRunning {
				running[ev.Object.Name] = true
			}
		case err := <-created:
			if err != nil {
				return 0, 0, err
			}
			created = nil
		case <-gctx.Done():
			return 0, 0, fmt.Errorf("%d of %d pods Running: %w", len(running), kfPods, context.Cause(gctx))
		case <-timeout.C:
			return 0, 0, fmt.Errorf("only %d of %d pods Running in 10 minutes", len(running), kfPods)
		}
	}
	rate = kfPods / time.Since(start).Seconds()
	return rate, int64(kfHeap()) - int64(before), nil
}

// kfStartKubelets runs kfNodes kubelets on fake runtimes in g.
func kfStartKubelets(ctx context.Context, g *errgroup.Group, kc []byte, dir string) error {
	archive, err := runtimetest.TestImageArchive()
	if err != nil {
		return err
	}
	for i := range kfNodes {
		rt := fake.New(fake.WithProgram(runtimetest.TestBinary, runtimetest.FakeTestBinary), fake.WithNodeIP(fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)))
		if _, err := rt.ImportImage(ctx, bytes.NewReader(archive)); err != nil {
			return err
		}
		kcs, err := client.New(client.Config{Kubeconfig: kc})
		if err != nil {
			return err
		}
		k, err := kubelet.New(kubelet.Config{Client: kcs, Runtime: rt, NodeName: kfNodeName(i),
			RootDir: filepath.Join(dir, "nodes", kfNodeName(i)), Logger: slog.New(slog.DiscardHandler),
			Capacity: api.ResourceList{"cpu": api.MustParse("32"), "memory": api.MustParse("128Gi"), "pods": api.MustParse("110")}})
		if err != nil {
			return err
		}
		g.Go(func() error { return k.Run(ctx) })
	}
	return nil
}

// kfCreateNodes registers kfNodes Ready nodes for the anchor run.
func kfCreateNodes(ctx context.Context, cs *client.Clientset) error {
	for i := range kfNodes {
		n := &api.Node{ObjectMeta: store.ObjectMeta{Name: kfNodeName(i)}}
		rl := api.ResourceList{"cpu": api.MustParse("32"), "memory": api.MustParse("128Gi"), "pods": api.MustParse("110")}
		n.Status.Capacity, n.Status.Allocatable = rl, rl
		n.Status.Conditions = []api.NodeCondition{{Type: api.NodeReady, Status: api.ConditionTrue}}
		if _, err := cs.Nodes().Create(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// kfNodesReady waits until every node is registered and Ready.
func kfNodesReady(ctx context.Context, cs *client.Clientset) error {
	return benchPoll(ctx, 2*time.Minute, func() (bool, error) {
		nodes, err := cs.Nodes().List(ctx, "", store.ListOptions{})
		if err != nil {
			return false, err
		}
		ready := 0
		for _, n := range nodes.Items {
			for _, c := range n.Status.Conditions {
				if c.Type == api.NodeReady && c.Status == api.ConditionTrue {
					ready++
				}
			}
		}
		return ready == kfNodes, nil
	})
}

// kfCreatePods creates the bound pods, kfWorkers at a time; with
// writeStatus each worker then writes its pod's Running status itself.
func kfCreatePods(ctx context.Context, cs *client.Clientset, writeStatus bool) error {
	g, gctx := errgroup.WithContext(ctx)
	var next atomic.Int64
	for range kfWorkers {
		g.Go(func() error {
			for {
				i := int(next.Add(1) - 1)
				if i >= kfPods {
					return nil
				}
				p := &api.Pod{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("pod-%05d", i)}}
				p.Spec.NodeName = kfNodeName(i % kfNodes)
				p.Spec.Containers = []api.Container{{Name: "c", Image: runtimetest.TestImageName, ImagePullPolicy: api.PullNever, Args: []string{"wait"}}}
				out, err := cs.Pods().Create(gctx, p)
				if err != nil {
					return err
				}
				if !writeStatus {
					continue
				}
				kfRunningStatus(out, i)
				if _, err := cs.Pods().UpdateStatus(gctx, out); err != nil {
					return err
				}
			}
		})
	}
	return g.Wait()
}

// kfRunningStatus fills in what a kubelet reports for a running pod.
func kfRunningStatus(p *api.Pod, i int) {
	now := store.Time{Time: time.Now().UTC().Truncate(time.Second)}
	ip := fmt.Sprintf("10.2.%d.%d", i/250, i%250+1)
	s := &p.Status
	s.Phase, s.QOSClass = api.PodRunning, "BestEffort"
	s.HostIP, s.PodIP, s.StartTime = "10.1.0.1", ip, &now
	s.HostIPs, s.PodIPs = []api.HostIP{{IP: s.HostIP}}, []api.PodIP{{IP: ip}}
	for _, t := range []api.PodConditionType{"PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready"} {
		s.Conditions = append(s.Conditions, api.PodCondition{Type: t, Status: api.ConditionTrue, LastTransitionTime: now})
	}
	started := true
	s.ContainerStatuses = []api.ContainerStatus{{Name: "c", Ready: true, Started: &started, Image: runtimetest.TestImageName,
		ImageID: "sha256:0000", ContainerID: fmt.Sprintf("containerd://%064d", i), State: api.ContainerState{Running: &api.ContainerStateRunning{StartedAt: now}}}}
}

func kfNodeName(i int) string { return fmt.Sprintf("node-%03d", i) }

// kfHeap is the live heap after a GC.
func kfHeap() uint64 {
	goruntime.GC()
	var m goruntime.MemStats
	goruntime.ReadMemStats(&m)
	return m.HeapAlloc
}
