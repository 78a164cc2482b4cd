package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/cluster"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/containerdtest"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

func init() { register("kubelet-podstart", benchKubeletPodStart) }

const podStartPods = 30

// benchKubeletPodStart measures kubelet-podstart-30 and
// kubelet-podstart-30-p50 (ms): 30 pods bound to one real containerd node
// (the example cluster's server with one node: examples/kubelet on
// runtime/containerd, on a private daemon), created at once, from creation
// to the first time the apiserver reports them Running. The pods name their
// node, so the scheduler plays no part. The anchor is the raw runtime doing
// the same 30 sandbox+container starts (RunSandbox, CreateContainer,
// StartContainer) concurrently on the same node's runtime in the same run,
// each timed from the common start; the percentiles are taken the same way.
func benchKubeletPodStart(ctx context.Context) ([]Result, error) {
	d, err := containerdtest.Start(ctx)
	if err != nil {
		return nil, err
	}
	defer d.Stop()
	dir, err := os.MkdirTemp("", "bench-podstart-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if fwd, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); err == nil {
		defer os.WriteFile("/proc/sys/net/ipv4/ip_forward", fwd, 0o644)
	}
	const node = "podstart-node"
	cfg := cluster.Config{DataDir: filepath.Join(dir, "data"), Listen: "127.0.0.1:0", EtcdLogLevel: "off", ClusterCIDR: "10.214.0.0/16",
		Logger: slog.New(slog.DiscardHandler),
		Nodes:  []cluster.NodeConfig{{Name: node, Containerd: cluster.ContainerdConfig{Address: d.Address, StopGrace: time.Second}}}}
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
	n := srv.Nodes()[0]
	select {
	case <-n.Started():
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	rt := n.Runtime()
	archive, err := runtimetest.TestImageArchive()
	if err != nil {
		return nil, err
	}
	if _, err := rt.ImportImage(ctx, bytes.NewReader(archive)); err != nil {
		return nil, err
	}
	if _, err := rt.ImageStatus(ctx, runtimetest.TestImageName); err != nil {
		return nil, fmt.Errorf("image on %s after import: %w", node, err)
	}
	if err := waitNodeReady(ctx, cs, node); err != nil {
		return nil, err
	}
	anchor, err := rawPodStarts(ctx, rt, podStartPods)
	if err != nil {
		return nil, fmt.Errorf("raw runtime starts: %w", err)
	}
	ours, err := podE2E(ctx, cs, "podstart", podStartPods, node)
	if err != nil {
		return nil, fmt.Errorf("kubelet-podstart-30: %w", err)
	}
	p99 := func(d []time.Duration) float64 { return rtMS(d[len(d)*99/100-1]) }
	p50 := func(d []time.Duration) float64 { return rtMS(d[len(d)/2]) }
	return []Result{
		{Name: "kubelet-podstart-30", Ours: p99(ours), Anchor: p99(anchor), Unit: "ms"},
		{Name: "kubelet-podstart-30-p50", Ours: p50(ours), Anchor: p50(anchor), Unit: "ms"},
	}, nil
}

// waitNodeReady waits until the Node named name is Ready.
func waitNodeReady(ctx context.Context, cs *client.Clientset, name string) error {
	return benchPoll(ctx, time.Minute, func() (bool, error) {
		n, err := cs.Nodes().Get(ctx, "", name)
		if err != nil {
			return false, err
		}
		for _, c := range n.Status.Conditions {
			if c.Type == api.NodeReady && c.Status == api.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
}

// rawPodStarts runs n sandboxes, each with one container, concurrently on
// rt, and returns each one's time from the common start to its container
// started, sorted; it removes them again.
func rawPodStarts(ctx context.Context, rt runtime.Runtime, n int) ([]time.Duration, error) {
	out := make([]time.Duration, n)
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Go(func() {
			sb, err := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: fmt.Sprintf("raw-%d", i), Namespace: "bench", UID: fmt.Sprintf("raw-uid-%d", i)})
			if err != nil {
				errs[i] = err
				return
			}
			ids[i] = sb
			id, err := rt.CreateContainer(ctx, sb, runtime.ContainerConfig{Name: "c", Image: runtimetest.TestImageName, Args: []string{"wait"}})
			if err == nil {
				err = rt.StartContainer(ctx, id)
			}
			errs[i], out[i] = err, time.Since(start)
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != "" {
			if err := rt.RemoveSandbox(context.WithoutCancel(ctx), id); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}
