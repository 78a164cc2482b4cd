package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/cluster"
	"github.com/setpoint-dev/setpoint/examples/cluster/sim"
)

// simFlags are `setpoint sim`'s flags.
type simFlags struct {
	nodes, podsPerNode, namespaces, replicas  int
	server, kubeconfig, controlPlane, dataDir string
	controlPlanePID                           int
	latency, latencyP99, leaseRenew, timeout  time.Duration
	cpu, memory                               string
	noWorkload, exit, verbose                 bool
	report                                    string
}

// Control-plane modes of `setpoint sim`.
const (
	cpInProcess = "in-process"
	cpProcess   = "process"
)

func newSim() *cobra.Command {
	var f simFlags
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "simulate N nodes (kubelets on fake runtimes) in this process, optionally run M pods on each, and report the control plane's figures",
		Long: `sim runs --nodes kubelets on fake runtimes in this process against a control plane:
one in this process (--control-plane in-process, the default), a server in a child
process of its own (--control-plane process, so that its CPU and memory are measured
alone), or a running one (--server URL --kubeconfig FILE, whose credentials every node
uses; --control-plane-pid names its process to measure it). Unless --no-workload it
then creates --pods-per-node pods per node in Deployments across --namespaces
namespaces, waits until every one is Running and prints the figures: seconds to all
Running, p99 of mutating requests from the apiserver's histogram, peak RSS and CPU of
the control plane, pods per control-plane CPU-second. --report DIR also writes them
to DIR/report.txt and the control plane's CPU and memory over time to DIR/cpu-mem.png.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSim(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.nodes, "nodes", 100, "simulated nodes")
	fl.IntVar(&f.podsPerNode, "pods-per-node", 30, "pods per node in the workload")
	fl.IntVar(&f.namespaces, "namespaces", 10, "namespaces the workload's Deployments are spread across")
	fl.IntVar(&f.replicas, "replicas", sim.DefaultReplicas, "pods per Deployment")
	fl.StringVar(&f.server, "server", "", "a running apiserver's URL (default: start a control plane, see --control-plane)")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "with --server: credentials for the workload and every node (they must be allowed to act for any node)")
	fl.StringVar(&f.controlPlane, "control-plane", cpInProcess, "without --server: in-process or process (a `setpoint server` child process)")
	fl.IntVar(&f.controlPlanePID, "control-plane-pid", 0, "with --server: the control plane's process, to measure its CPU and memory")
	fl.StringVar(&f.dataDir, "data-dir", "", "the control plane's and nodes' files (default: a temporary directory, removed at the end)")
	fl.DurationVar(&f.latency, "start-latency", 500*time.Millisecond, "median container start latency (log-normal)")
	fl.DurationVar(&f.latencyP99, "start-latency-p99", 2*time.Second, "99th percentile of the container start latency")
	fl.StringVar(&f.cpu, "cpu-per-container", "25m", "mean simulated CPU use of a container (each gets 0.5-1.5 times it)")
	fl.StringVar(&f.memory, "memory-per-container", "48Mi", "mean simulated working set of a container")
	fl.DurationVar(&f.leaseRenew, "lease-renew-interval", 0, "the kubelets' Lease renew interval (default the kubelet's, 10s)")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Minute, "give up when the nodes or pods take longer")
	fl.BoolVar(&f.noWorkload, "no-workload", false, "only run the nodes")
	fl.BoolVar(&f.exit, "exit", false, "stop once every pod is Running (default: keep running until interrupted)")
	fl.StringVar(&f.report, "report", "", "write report.txt and cpu-mem.png to this directory")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "the control plane's and the kubelets' logs")
	return cmd
}

// check reports the first bad flag; it changes nothing.
func (f *simFlags) check() (cpu, mem api.Quantity, err error) {
	switch {
	case f.nodes < 1:
		return cpu, mem, fmt.Errorf("--nodes must be at least 1, got %d", f.nodes)
	case f.podsPerNode < 0 || f.podsPerNode > 110:
		return cpu, mem, fmt.Errorf("--pods-per-node must be 0-110 (a node's pod capacity), got %d", f.podsPerNode)
	case f.namespaces < 1 || f.replicas < 1:
		return cpu, mem, fmt.Errorf("--namespaces and --replicas must be at least 1, got %d and %d", f.namespaces, f.replicas)
	case f.server != "" && f.kubeconfig == "":
		return cpu, mem, errors.New("--server needs --kubeconfig (the credentials of the workload and the nodes)")
	case f.server == "" && f.controlPlane != cpInProcess && f.controlPlane != cpProcess:
		return cpu, mem, fmt.Errorf("--control-plane must be %s or %s, got %q", cpInProcess, cpProcess, f.controlPlane)
	case f.controlPlanePID != 0 && f.server == "":
		return cpu, mem, errors.New("--control-plane-pid goes with --server")
	case f.latency < 0 || f.latencyP99 < 0 || f.leaseRenew < 0 || f.timeout <= 0:
		return cpu, mem, errors.New("--start-latency, --start-latency-p99 and --lease-renew-interval must not be negative, --timeout must be positive")
	}
	if cpu, err = api.ParseQuantity(f.cpu); err != nil || cpu.Sign() < 0 {
		return cpu, mem, fmt.Errorf("--cpu-per-container %q is not a CPU quantity such as 25m", f.cpu)
	}
	if mem, err = api.ParseQuantity(f.memory); err != nil || mem.Sign() < 0 {
		return cpu, mem, fmt.Errorf("--memory-per-container %q is not a memory quantity such as 48Mi", f.memory)
	}
	return cpu, mem, nil
}

// controlPlane is what the nodes and the report talk to.
type controlPlane struct {
	admin      *client.Clientset
	kubeconfig func(node string) ([]byte, error)
	clientCA   []byte
	pid        int    // to sample; 0: none
	what       string // what the samples measure
}

func runSim(ctx context.Context, out, errOut io.Writer, f simFlags) (err error) {
	cpu, mem, err := f.check()
	if err != nil {
		return err
	}
	dir := f.dataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "setpoint-sim-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	logf := func(format string, args ...any) { fmt.Fprintf(errOut, "sim: "+format+"\n", args...) }
	simCfg := sim.Config{Nodes: f.nodes, Dir: filepath.Join(dir, "nodes"), LeaseRenewInterval: f.leaseRenew,
		StartLatency: sim.Latency{Median: f.latency, P99: f.latencyP99}, Usage: sim.Usage{MilliCPU: cpu.MilliValue(), MemoryBytes: mem.Value()}}
	if f.verbose {
		simCfg.Logger = logger(true)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	defer func() {
		cancel()
		// A failed node or control plane cancels the waits: its error
		// is the one to report.
		if werr := g.Wait(); werr != nil && (err == nil || errors.Is(err, context.Canceled)) {
			err = werr
		}
	}()
	cp, err := startControlPlane(gctx, g, f, dir, logf)
	if err != nil {
		return err
	}
	simCfg.Kubeconfig, simCfg.ClientCAPEM = cp.kubeconfig, cp.clientCA
	s, err := sim.New(simCfg)
	if err != nil {
		return err
	}
	var sampler *sim.Sampler
	if cp.pid != 0 {
		if sampler, err = sim.NewSampler(cp.pid, time.Second, nil); err != nil {
			return err
		}
		g.Go(func() error { return sampler.Run(gctx) })
	}
	started := time.Now()
	g.Go(func() error { return s.Run(gctx) })
	wctx, wcancel := context.WithTimeout(gctx, f.timeout)
	defer wcancel()
	if _, err := sim.WaitNodesReady(wctx, cp.admin, f.nodes); err != nil {
		return err
	}
	rep := report{Nodes: f.nodes, NodesReadyAfter: time.Since(started), HeapPerNode: s.HeapPerNode(), Measured: cp.what}
	logf("%d nodes Ready after %v; Go heap per idle node %d KiB", f.nodes, rep.NodesReadyAfter.Round(time.Millisecond), rep.HeapPerNode>>10)
	if !f.noWorkload && f.podsPerNode > 0 {
		if err := runWorkload(wctx, cp, f, sampler, &rep, logf); err != nil {
			return err
		}
		rep.print(out)
		if f.report != "" {
			if err := rep.write(f.report, sampler); err != nil {
				return err
			}
			logf("report written to %s", f.report)
		}
	}
	if f.exit {
		return nil
	}
	logf("running until interrupted")
	<-gctx.Done()
	return nil
}

// runWorkload creates the pods, waits until they run and fills in rep.
func runWorkload(ctx context.Context, cp *controlPlane, f simFlags, sampler *sim.Sampler, rep *report, logf func(string, ...any)) error {
	pods := f.nodes * f.podsPerNode
	_, before, err := sim.MutatingP99(ctx, cp.admin, nil)
	if err != nil {
		return err
	}
	var cpuBefore sim.Sample
	if sampler != nil {
		if cpuBefore, err = sampler.Read(); err != nil {
			return err
		}
	}
	start := time.Now()
	created := make(chan error, 1)
	go func() {
		created <- sim.CreateWorkload(ctx, cp.admin, sim.Workload{Pods: pods, Namespaces: f.namespaces, Replicas: f.replicas})
	}()
	p, err := sim.WaitRunning(ctx, cp.admin, pods, func(p sim.Progress) {
		logf("%6.0fs: %d pods, %d scheduled, %d Running", time.Since(start).Seconds(), p.Pods, p.Scheduled, p.Running)
	})
	if err != nil {
		return err
	}
	if err := <-created; err != nil {
		return err
	}
	rep.Pods, rep.RunningAfter = p.Running, time.Since(start)
	if rep.MutatingP99, _, err = sim.MutatingP99(ctx, cp.admin, before); err != nil {
		return err
	}
	if sampler != nil {
		after, err := sampler.Read()
		if err != nil {
			return err
		}
		rep.CPUSeconds, rep.PeakRSS = after.CPUSeconds-cpuBefore.CPUSeconds, sampler.PeakRSS()
	}
	return nil
}

// startControlPlane starts or reaches the control plane f asks for.
func startControlPlane(ctx context.Context, g *errgroup.Group, f simFlags, dir string, logf func(string, ...any)) (*controlPlane, error) {
	if f.server != "" {
		kc, err := os.ReadFile(f.kubeconfig)
		if err != nil {
			return nil, err
		}
		admin, err := client.New(client.Config{Kubeconfig: kc, QPS: -1})
		if err != nil {
			return nil, err
		}
		return &controlPlane{admin: admin, kubeconfig: func(string) ([]byte, error) { return kc, nil }, pid: f.controlPlanePID,
			what: "the process --control-plane-pid names"}, nil
	}
	serverDir := filepath.Join(dir, "server")
	if f.controlPlane == cpProcess {
		return startServerProcess(ctx, g, serverDir, f.verbose, logf)
	}
	cfg := simClusterConfig(serverDir)
	if f.verbose {
		cfg.Logger = logger(true)
	}
	srv, err := cluster.New(cfg)
	if err != nil {
		return nil, err
	}
	g.Go(func() error { return srv.Run(ctx) })
	select {
	case <-srv.Ready():
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	logf("control plane serving at %s (in this process); kubeconfig %s", srv.URL(), srv.KubeconfigPath())
	admin, err := client.New(client.Config{KubeconfigPath: srv.KubeconfigPath(), QPS: -1})
	if err != nil {
		return nil, err
	}
	return &controlPlane{admin: admin, kubeconfig: srv.NodeKubeconfig, clientCA: srv.APIServer().PKI().CACert, pid: os.Getpid(),
		what: "this whole process: the control plane and the simulated nodes"}, nil
}

// simClusterConfig is the control plane for thousands of nodes: pod
// subnets for 32,768 nodes, unthrottled control-plane clients, the DNS on
// loopback.
func simClusterConfig(dir string) cluster.Config {
	return cluster.Config{DataDir: dir, Listen: "127.0.0.1:0", DNSListen: "127.0.0.1:0", ClusterCIDR: simClusterCIDR,
		ComponentQPS: -1, EtcdNoFsync: true}
}

const simClusterCIDR = "10.128.0.0/9"

// startServerProcess runs `setpoint server` for dir in a child process
// and waits until it serves; the child is stopped (SIGTERM) when ctx
// ends.
func startServerProcess(ctx context.Context, g *errgroup.Group, dir string, verbose bool, logf func(string, ...any)) (*controlPlane, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	args := []string{"server", "--data-dir", dir, "--listen", addr, "--dns-listen", "127.0.0.1:0", "--cluster-cidr", simClusterCIDR,
		"--component-qps", "-1", "--etcd-no-fsync"}
	if verbose {
		args = append(args, "-v")
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting the control plane process: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logFile.Close() }()
	g.Go(func() error {
		select {
		case err := <-exited:
			return fmt.Errorf("the control plane process exited: %v (log: %s)", err, logFile.Name())
		case <-ctx.Done():
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(time.Minute):
				cmd.Process.Kill()
				<-exited
			}
			return nil
		}
	})
	kcPath := filepath.Join(dir, cluster.KubeconfigName)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var admin *client.Clientset
	for admin == nil {
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-tick.C:
		}
		if _, err := os.Stat(kcPath); err != nil {
			continue
		}
		cs, err := client.New(client.Config{KubeconfigPath: kcPath, QPS: -1})
		if err != nil {
			continue
		}
		if _, err := cs.Namespaces().Get(ctx, "", "default"); err == nil {
			admin = cs
		}
	}
	pki, err := apiserver.LoadOrCreatePKI(filepath.Join(dir, "pki"))
	if err != nil {
		return nil, err
	}
	logf("control plane serving at https://%s (process %d, log %s); kubeconfig %s", addr, cmd.Process.Pid, logFile.Name(), kcPath)
	return &controlPlane{admin: admin, clientCA: pki.CACert, pid: cmd.Process.Pid, what: "the control plane process " + strconv.Itoa(cmd.Process.Pid),
		kubeconfig: func(node string) ([]byte, error) {
			cert, key, err := pki.IssueClientCert(cluster.NodeUserPrefix+node, cluster.NodesGroup)
			if err != nil {
				return nil, err
			}
			return apiserver.Kubeconfig("https://"+addr, pki.CACert, cert, key, "")
		}}, nil
}
