package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/containerd"
	"github.com/setpoint-dev/setpoint/runtime/containerdtest"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

func init() { register("runtime", benchRuntime) }

// runtimeRounds is how many containers (and sandboxes) each side starts.
const runtimeRounds = 30

// benchRuntime measures, on a private containerd daemon:
//   - runtime-start: CreateContainer+StartContainer from a local image until
//     the process runs, against the same steps with the raw containerd client
//     (new container with snapshot and spec in the same network namespace,
//     new task logging to a file, start), interleaved in the same run;
//   - runtime-sandbox-start: RunSandbox until it has a CNI IP (absolute).
//
// Each figure is the median of runtimeRounds.
func benchRuntime(ctx context.Context) ([]Result, error) {
	d, err := containerdtest.Start(ctx)
	if err != nil {
		return nil, err
	}
	defer d.Stop()
	state, err := os.MkdirTemp("", "bench-rt-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(state)
	bridge := fmt.Sprintf("sptb%d", os.Getpid()%100000)
	defer containerdtest.DeleteBridge(bridge)
	rt, err := containerd.New(ctx, containerd.Config{
		Address: d.Address, Namespace: "bench", StateDir: state, LogDir: filepath.Join(state, "logs"),
		Network: containerd.NetworkConfig{Bridge: bridge, Subnet: "10.212.251.0/24"},
	})
	if err != nil {
		return nil, err
	}
	defer rt.Close()
	archive, err := runtimetest.TestImageArchive()
	if err != nil {
		return nil, err
	}
	if _, err := rt.ImportImage(ctx, bytes.NewReader(archive)); err != nil {
		return nil, err
	}

	// runtime-sandbox-start
	var sandboxTimes []time.Duration
	for i := 0; i < runtimeRounds/2; i++ {
		start := time.Now()
		id, err := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: fmt.Sprintf("sb-%d", i), UID: "bench"})
		if err != nil {
			return nil, err
		}
		st, err := rt.SandboxStatus(ctx, id)
		if err != nil || st.IP == "" {
			return nil, fmt.Errorf("sandbox %s has no IP: %v", id, err)
		}
		sandboxTimes = append(sandboxTimes, time.Since(start))
		if err := rt.RemoveSandbox(ctx, id); err != nil {
			return nil, err
		}
	}

	// runtime-start, both sides in one sandbox's network namespace.
	sbID, err := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: "start", UID: "bench"})
	if err != nil {
		return nil, err
	}
	defer rt.RemoveSandbox(context.WithoutCancel(ctx), sbID)
	sb, err := rt.SandboxStatus(ctx, sbID)
	if err != nil {
		return nil, err
	}
	c := rt.Client()
	nctx := namespaces.WithNamespace(ctx, "bench")
	img, err := c.GetImage(nctx, runtimetest.TestImageName)
	if err != nil {
		return nil, err
	}
	var ours, raw []time.Duration
	runOurs := func(i int) error {
		start := time.Now()
		id, err := rt.CreateContainer(ctx, sbID, runtime.ContainerConfig{Name: fmt.Sprintf("c%d", i), Image: runtimetest.TestImageName, Args: []string{"wait"}})
		if err != nil {
			return err
		}
		if err := rt.StartContainer(ctx, id); err != nil {
			return err
		}
		ours = append(ours, time.Since(start))
		return rt.RemoveContainer(ctx, id)
	}
	runRaw := func(i int) error {
		rawID := fmt.Sprintf("raw-%d", i)
		logPath := filepath.Join(state, rawID+".log")
		start := time.Now()
		ctr, err := c.NewContainer(nctx, rawID,
			client.WithImageName(img.Name()),
			client.WithSnapshotter("overlayfs"),
			client.WithNewSnapshot(rawID, img),
			client.WithNewSpec(oci.WithImageConfigArgs(img, []string{"wait"}),
				oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: sb.NetNS})),
		)
		if err != nil {
			return err
		}
		task, err := ctr.NewTask(nctx, cio.LogFile(logPath))
		if err != nil {
			return err
		}
		if err := task.Start(nctx); err != nil {
			return err
		}
		raw = append(raw, time.Since(start))
		exited, _ := task.Wait(nctx)
		task.Kill(nctx, syscall.SIGKILL)
		<-exited
		task.Delete(nctx)
		ctr.Delete(nctx, client.WithSnapshotCleanup)
		return os.Remove(logPath)
	}
	// Alternate which side goes first, so neither always follows the
	// other's cleanup.
	for i := 0; i < runtimeRounds; i++ {
		first, second := runOurs, runRaw
		if i%2 == 1 {
			first, second = runRaw, runOurs
		}
		if err := first(i); err != nil {
			return nil, err
		}
		if err := second(i); err != nil {
			return nil, err
		}
	}
	return []Result{
		{Name: "runtime-start", Ours: rtMS(rtMedian(ours)), Anchor: rtMS(rtMedian(raw)), Unit: "ms"},
		{Name: "runtime-sandbox-start", Ours: rtMS(rtMedian(sandboxTimes)), Unit: "ms"},
	}, nil
}

func rtMedian(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func rtMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
