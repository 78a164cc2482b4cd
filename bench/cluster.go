package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/cluster"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/containerdtest"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
	"github.com/setpoint-dev/setpoint/store"
)

func init() { register("cluster", benchCluster) }

const (
	clusterNodes = 3
	e2ePods      = 100
)

// benchCluster measures, on a private containerd daemon:
//   - cluster-up (s, absolute): from cluster.New to every one of 3 real
//     nodes Ready with its pod CIDR from node IPAM and the DNS serving (the
//     server: embedded etcd, apiserver, controller-manager, scheduler,
//     service LB, DNS; the nodes: kubelet and proxy);
//   - cluster-up-rss (MiB, absolute): this process's resident memory after
//     5 s idle with the cluster up, after a GC (the control plane and the 3
//     kubelets; nothing else runs in the process then);
//   - pod-e2e-100 and pod-e2e-100-p50 (ms): 100 pods created at once,
//     creation to the first time the apiserver reports them Running, p99 and
//     p50, against the runtime's own container start (CreateContainer +
//     StartContainer, median of 10) on the same daemon in the same run.
func benchCluster(ctx context.Context) ([]Result, error) {
	d, err := containerdtest.Start(ctx)
	if err != nil {
		return nil, err
	}
	defer d.Stop()
	dir, err := os.MkdirTemp("", "bench-cluster-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if fwd, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); err == nil {
		defer os.WriteFile("/proc/sys/net/ipv4/ip_forward", fwd, 0o644)
	}
	cfg := cluster.Config{DataDir: filepath.Join(dir, "data"), Listen: "127.0.0.1:0", EtcdLogLevel: "off", ClusterCIDR: "10.213.0.0/16",
		Logger: slog.New(slog.DiscardHandler)}
	for i := 1; i <= clusterNodes; i++ {
		cfg.Nodes = append(cfg.Nodes, cluster.NodeConfig{Name: fmt.Sprintf("node-%d", i),
			Containerd: cluster.ContainerdConfig{Address: d.Address, StopGrace: time.Second}})
	}
	start := time.Now()
	srv, err := cluster.New(cfg)
	if err != nil {
		return nil, err
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(sctx) }()
	defer func() { stop(); <-done }()
	select {
	case <-srv.Ready():
	case err := <-done:
		done <- err
		return nil, err
	}
	cs, err := client.New(client.Config{KubeconfigPath: srv.KubeconfigPath(), QPS: -1})
	if err != nil {
		return nil, err
	}
	// Up: every node Ready with its pod CIDR, and the system services
	// serving: the DNS (its kube-dns EndpointSlice is written once it
	// serves; it runs in the server, not as pods).
	if err := benchPoll(ctx, time.Minute, func() (bool, error) {
		nodes, err := cs.Nodes().List(ctx, "", store.ListOptions{})
		if err != nil {
			return false, err
		}
		ready := 0
		for _, n := range nodes.Items {
			for _, c := range n.Status.Conditions {
				if c.Type == api.NodeReady && c.Status == api.ConditionTrue && n.Spec.PodCIDR != "" {
					ready++
				}
			}
		}
		if ready != clusterNodes {
			return false, nil
		}
		_, err = cs.EndpointSlices().Get(ctx, "kube-system", cluster.DNSServiceName+"-server")
		return err == nil, nil
	}); err != nil {
		return nil, fmt.Errorf("nodes Ready and DNS serving: %w", err)
	}
	up := time.Since(start)

	archive, err := runtimetest.TestImageArchive()
	if err != nil {
		return nil, err
	}
	for _, n := range srv.Nodes() {
		<-n.Started()
		if _, err := n.Runtime().ImportImage(ctx, bytes.NewReader(archive)); err != nil {
			return nil, err
		}
		// The kubelet reports any ImageStatus error as ErrImageNeverPull:
		// check the image is there as the kubelet will look for it.
		if _, err := n.Runtime().ImageStatus(ctx, runtimetest.TestImageName); err != nil {
			return nil, fmt.Errorf("image on %s after import: %w", n.Name(), err)
		}
	}
	select {
	case <-time.After(5 * time.Second):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	debug.FreeOSMemory()
	rss, err := rssMiB()
	if err != nil {
		return nil, err
	}
	res := []Result{{Name: "cluster-up", Ours: up.Seconds(), Unit: "s"}, {Name: "cluster-up-rss", Ours: rss, Unit: "MiB"}}
	e2e, err := podE2E(ctx, cs, "e2e", e2ePods, "")
	if err != nil {
		return res, fmt.Errorf("pod-e2e-100: %w", err)
	}
	anchor, err := runtimeStart(ctx, srv.Nodes()[0].Runtime())
	if err != nil {
		return res, err
	}
	return append(res,
		Result{Name: "pod-e2e-100", Ours: rtMS(e2e[len(e2e)*99/100-1]), Anchor: rtMS(anchor), Unit: "ms"},
		Result{Name: "pod-e2e-100-p50", Ours: rtMS(e2e[len(e2e)/2]), Anchor: rtMS(anchor), Unit: "ms"},
	), nil
}

// podE2E creates n pods named prefix-<i> at once (bound to nodeName when
// it is set, else left to the scheduler) and returns their
// create-to-Running times, sorted.
func podE2E(ctx context.Context, cs *client.Clientset, prefix string, n int, nodeName string) ([]time.Duration, error) {
	created := make([]time.Time, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &api.Pod{}
			p.Namespace, p.Name = "default", fmt.Sprintf("%s-%d", prefix, i)
			p.Labels = map[string]string{"bench": prefix}
			p.Spec.NodeName = nodeName
			p.Spec.Containers = []api.Container{{Name: "c", Image: runtimetest.TestImageName, ImagePullPolicy: api.PullNever, Args: []string{"wait"}}}
			created[i] = time.Now()
			if _, err := cs.Pods().Create(ctx, p); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	running := map[string]time.Duration{}
	sel, err := store.ParseSelector("bench=" + prefix)
	if err != nil {
		return nil, err
	}
	err = benchPoll(ctx, 3*time.Minute, func() (bool, error) {
		list, err := cs.Pods().List(ctx, "default", store.ListOptions{Selector: sel})
		if err != nil {
			return false, err
		}
		now := time.Now()
		for _, p := range list.Items {
			if _, seen := running[p.Name]; !seen && p.Status.Phase == api.PodRunning {
				i, _ := strconv.Atoi(strings.TrimPrefix(p.Name, prefix+"-"))
				running[p.Name] = now.Sub(created[i])
			}
		}
		return len(running) == n, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%d of %d pods Running: %w%s", len(running), n, err, firstWaiting(ctx, cs, sel))
	}
	out := make([]time.Duration, 0, len(running))
	for _, d := range running {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// runtimeStart is the median of 10 container starts on rt, in one sandbox.
func runtimeStart(ctx context.Context, rt runtime.Runtime) (time.Duration, error) {
	sb, err := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: "anchor", Namespace: "bench", UID: "anchor"})
	if err != nil {
		return 0, err
	}
	defer rt.RemoveSandbox(context.WithoutCancel(ctx), sb)
	var ds []time.Duration
	for i := range 10 {
		start := time.Now()
		id, err := rt.CreateContainer(ctx, sb, runtime.ContainerConfig{Name: fmt.Sprintf("c%d", i), Image: runtimetest.TestImageName, Args: []string{"wait"}})
		if err != nil {
			return 0, err
		}
		if err := rt.StartContainer(ctx, id); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(start))
		if err := rt.RemoveContainer(ctx, id); err != nil {
			return 0, err
		}
	}
	return rtMedian(ds), nil
}

// rssMiB is this process's resident set size.
func rssMiB() (float64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/self/status")
}

func benchPoll(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		ok, err := cond()
		if ok && err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// firstWaiting describes the first pod whose container waits, for an
// error message.
func firstWaiting(ctx context.Context, cs *client.Clientset, sel store.Selector) string {
	list, err := cs.Pods().List(ctx, "default", store.ListOptions{Selector: sel})
	if err != nil {
		return ""
	}
	for _, p := range list.Items {
		for _, c := range p.Status.ContainerStatuses {
			if w := c.State.Waiting; w != nil {
				return fmt.Sprintf(" (pod %s on %q: %s: %s)", p.Name, p.Spec.NodeName, w.Reason, w.Message)
			}
		}
		if p.Spec.NodeName == "" {
			return fmt.Sprintf(" (pod %s is not scheduled)", p.Name)
		}
	}
	return ""
}
