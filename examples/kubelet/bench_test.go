package kubelet

import (
	"context"
	"fmt"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// BenchmarkSimulatedNodes measures what simulated nodes cost: kubelets on
// the fake runtime in one process, each running pods; it reports heap
// bytes per node (registered, idle) and per running pod.
func BenchmarkSimulatedNodes(b *testing.B) {
	const nodes, podsPerNode = 10, 5
	for range b.N {
		c := startClusterTB(b)
		heap := func() uint64 {
			goruntime.GC()
			var m goruntime.MemStats
			goruntime.ReadMemStats(&m)
			return m.HeapAlloc
		}
		base := heap()
		for i := range nodes {
			runKubeletTB(b, Config{Client: c.cs, Runtime: fakeRuntimeTB(b), NodeName: fmt.Sprintf("node-%d", i), SyncPeriod: time.Second})
		}
		for i := range nodes {
			if _, err := pollNode(c, fmt.Sprintf("node-%d", i)); err != nil {
				b.Fatal(err)
			}
		}
		withNodes := heap()
		ctx := context.Background()
		start := time.Now()
		for i := range nodes {
			for j := range podsPerNode {
				if _, err := c.cs.Pods().Create(ctx, newPod(fmt.Sprintf("p-%d-%d", i, j), fmt.Sprintf("node-%d", i), testContainer("main", "wait"))); err != nil {
					b.Fatal(err)
				}
			}
		}
		for i := range nodes {
			for j := range podsPerNode {
				if _, err := pollPod(c.cs, "default", fmt.Sprintf("p-%d-%d", i, j), "Running", func(p *api.Pod) bool { return p != nil && p.Status.Phase == api.PodRunning }); err != nil {
					b.Fatal(err)
				}
			}
		}
		elapsed := time.Since(start)
		withPods := heap()
		b.ReportMetric(float64(int64(withNodes)-int64(base))/nodes, "heap-B/node")
		b.ReportMetric(float64(int64(withPods)-int64(withNodes))/(nodes*podsPerNode), "heap-B/pod")
		b.ReportMetric(float64(nodes*podsPerNode)/elapsed.Seconds(), "pods/s")
	}
}
