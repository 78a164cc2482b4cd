package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/cluster"
	"github.com/setpoint-dev/setpoint/examples/proxy"
	"github.com/setpoint-dev/setpoint/runtime/containerd"
	"github.com/setpoint-dev/setpoint/runtime/containerdtest"
	"github.com/setpoint-dev/setpoint/store"
)

// state is what `cluster up` made, recorded in DATA-DIR/cluster.json so
// that `down` removes it even after a crash.
type state struct {
	PID        int      `json:"pid"`
	Containerd string   `json:"containerd"`           // socket the nodes use
	DaemonDir  string   `json:"daemonDir,omitempty"`  // the private daemon's directory, if up started one
	Nodes      []string `json:"nodes"`                // node names
	Bridges    []string `json:"bridges"`              // one per node
	Tables     []string `json:"nftTables,omitempty"`  // the nodes' proxy tables (family ip)
	DNSLink    string   `json:"dnsLink,omitempty"`    // the link holding the DNS's address
	Namespaces []string `json:"namespaces"`           // containerd namespaces, one per node
	IPForward  string   `json:"ipForward,omitempty"`  // net.ipv4.ip_forward before up
	Kubeconfig string   `json:"kubeconfig,omitempty"` // admin kubeconfig
}

const stateFile = "cluster.json"

func readState(dir string) (*state, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, stateFile), err)
	}
	return &s, nil
}

func (s *state) write(dir string) error {
	b, _ := json.MarshalIndent(s, "", "  ")
	return os.WriteFile(filepath.Join(dir, stateFile), b, 0o600)
}

func newCluster() *cobra.Command {
	cmd := &cobra.Command{Use: "cluster", Short: "a server and N nodes on this machine: up, status, down"}
	var dataDir string
	cmd.PersistentFlags().StringVar(&dataDir, "data-dir", "/var/lib/setpoint/cluster", "where the cluster keeps everything")
	var nodes int
	var socket, listen string
	var detach, verbose bool
	up := &cobra.Command{
		Use:   "up",
		Short: "start a server and N containerd nodes (in the foreground, or with --detach in the background)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if nodes < 1 || nodes > 250 {
				return fmt.Errorf("--nodes must be 1-250, got %d", nodes)
			}
			if detach {
				return upDetached(cmd.Context(), cmd.OutOrStdout(), dataDir, nodes, socket, listen, verbose)
			}
			return clusterUp(cmd.Context(), cmd.OutOrStdout(), dataDir, nodes, socket, listen, verbose)
		},
	}
	up.Flags().IntVar(&nodes, "nodes", 3, "number of nodes")
	up.Flags().StringVar(&socket, "containerd", "", "containerd socket (default: start a private daemon)")
	up.Flags().StringVar(&listen, "listen", "127.0.0.1:6443", "apiserver listen address")
	up.Flags().BoolVar(&detach, "detach", false, "run in the background; return once every node is Ready")
	up.Flags().BoolVarP(&verbose, "verbose", "v", false, "debug logs")
	status := &cobra.Command{Use: "status", Short: "show the cluster's process and nodes", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return clusterStatus(cmd.Context(), cmd.OutOrStdout(), dataDir)
		}}
	down := &cobra.Command{Use: "down", Short: "stop the cluster and remove everything it made", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return clusterDown(cmd.Context(), cmd.OutOrStdout(), dataDir)
		}}
	cmd.AddCommand(up, status, down)
	return cmd
}

// clusterUp runs the cluster until ctx ends, then removes what it made.
func clusterUp(ctx context.Context, out io.Writer, dataDir string, n int, socket, listen string, verbose bool) (err error) {
	if old, err := readState(dataDir); err == nil && alive(old.PID) {
		return fmt.Errorf("a cluster already runs from %s (pid %d); run `setpoint cluster down --data-dir %s` first", dataDir, old.PID, dataDir)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	abs, _ := filepath.Abs(dataDir)
	st := &state{PID: os.Getpid(), Containerd: socket}
	if fwd, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); err == nil {
		st.IPForward = string(fwd)
	}
	if socket == "" {
		d, err := containerdtest.Start(ctx)
		if err != nil {
			return err
		}
		st.Containerd, st.DaemonDir = d.Address, d.Dir
		defer func() { err = errors.Join(err, d.Stop()) }()
	}
	cfg := cluster.Config{DataDir: abs, Listen: listen, Logger: logger(verbose)}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("node-%d", i)
		nc := cluster.NodeConfig{Name: name, Containerd: cluster.ContainerdConfig{Address: st.Containerd}}
		cfg.Nodes = append(cfg.Nodes, nc)
		st.Nodes = append(st.Nodes, name)
		bridge := cluster.BridgeName(filepath.Join(abs, "nodes", name))
		st.Bridges = append(st.Bridges, bridge)
		st.Tables = append(st.Tables, bridge) // a node's proxy table is named like its bridge
		st.Namespaces = append(st.Namespaces, cluster.NamespacePrefix+name)
	}
	s, err := cluster.New(cfg)
	if err != nil {
		return err
	}
	st.Kubeconfig = s.KubeconfigPath()
	st.DNSLink = cluster.DNSLinkName(abs)
	if err := st.write(dataDir); err != nil {
		return err
	}
	defer func() {
		if st.IPForward != "" {
			os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte(st.IPForward), 0o644)
		}
		os.Remove(filepath.Join(dataDir, stateFile))
	}()
	go func() {
		select {
		case <-s.Ready():
			fmt.Fprintf(out, "cluster up: apiserver %s, %d nodes; export KUBECONFIG=%s\n", s.URL(), n, s.KubeconfigPath())
		case <-ctx.Done():
		}
	}()
	return s.Run(ctx)
}

// upDetached starts `setpoint cluster up` in the background and waits
// until every node is Ready.
func upDetached(ctx context.Context, out io.Writer, dataDir string, n int, socket, listen string, verbose bool) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(dataDir, "setpoint.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	args := []string{"cluster", "up", "--data-dir", dataDir, "--nodes", strconv.Itoa(n), "--listen", listen}
	if socket != "" {
		args = append(args, "--containerd", socket)
	}
	if verbose {
		args = append(args, "-v")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	c := exec.Command(self, args...)
	c.Stdout, c.Stderr = logf, logf
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := c.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		if st, err := readState(dataDir); err == nil {
			if ready, total, err := readyNodes(ctx, st.Kubeconfig); err == nil && total == n && ready == n {
				fmt.Fprintf(out, "cluster up (pid %d): %d nodes Ready; export KUBECONFIG=%s; logs in %s\n", c.Process.Pid, n, st.Kubeconfig, logf.Name())
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("the cluster exited (%v); see %s", err, logf.Name())
		case <-ctx.Done():
			return fmt.Errorf("nodes not Ready: %w; see %s", ctx.Err(), logf.Name())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func readyNodes(ctx context.Context, kubeconfig string) (ready, total int, err error) {
	if _, err := os.Stat(kubeconfig); err != nil {
		return 0, 0, err
	}
	cs, err := client.New(client.Config{KubeconfigPath: kubeconfig})
	if err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	nodes, err := cs.Nodes().List(ctx, "", store.ListOptions{})
	if err != nil {
		return 0, 0, err
	}
	for _, n := range nodes.Items {
		for _, c := range n.Status.Conditions {
			if c.Type == api.NodeReady && c.Status == api.ConditionTrue {
				ready++
			}
		}
	}
	return ready, len(nodes.Items), nil
}

func alive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

func clusterStatus(ctx context.Context, out io.Writer, dataDir string) error {
	st, err := readState(dataDir)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(out, "no cluster in %s\n", dataDir)
		return nil
	}
	if err != nil {
		return err
	}
	if !alive(st.PID) {
		fmt.Fprintf(out, "cluster process %d is gone (crashed?); `setpoint cluster down --data-dir %s` removes what it left\n", st.PID, dataDir)
		return nil
	}
	ready, total, err := readyNodes(ctx, st.Kubeconfig)
	if err != nil {
		return fmt.Errorf("cluster process %d runs, but the apiserver does not answer: %w", st.PID, err)
	}
	fmt.Fprintf(out, "cluster process %d: %d/%d nodes Ready; KUBECONFIG=%s\n", st.PID, ready, total, st.Kubeconfig)
	return nil
}

// clusterDown stops the cluster's process (SIGTERM, then SIGKILL after a
// minute) and removes whatever is left: containers and images in the
// nodes' containerd namespaces, bridges, proxy tables, the DNS's link, the
// private daemon, the data.
func clusterDown(ctx context.Context, out io.Writer, dataDir string) error {
	st, err := readState(dataDir)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(out, "no cluster in %s\n", dataDir)
		return nil
	}
	if err != nil {
		return err
	}
	if alive(st.PID) {
		syscall.Kill(st.PID, syscall.SIGTERM)
		deadline := time.Now().Add(time.Minute)
		for alive(st.PID) && time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
		if alive(st.PID) {
			syscall.Kill(st.PID, syscall.SIGKILL)
		}
		fmt.Fprintf(out, "stopped cluster process %d\n", st.PID)
	}
	var errs []error
	if _, err := os.Stat(st.Containerd); err == nil {
		for _, ns := range st.Namespaces {
			rt, err := containerd.New(ctx, containerd.Config{Address: st.Containerd, Namespace: ns,
				StateDir: filepath.Join(dataDir, "down-state")})
			if err != nil {
				errs = append(errs, err)
				continue
			}
			errs = append(errs, cluster.RemoveAll(ctx, rt), rt.Close())
		}
	}
	for _, b := range st.Bridges {
		errs = append(errs, cluster.DeleteLink(b))
	}
	for _, table := range st.Tables {
		errs = append(errs, proxy.Cleanup(ctx, proxy.Config{TableName: table}))
	}
	if st.DNSLink != "" {
		errs = append(errs, cluster.DeleteLink(st.DNSLink))
	}
	if st.IPForward != "" {
		os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte(st.IPForward), 0o644)
	}
	if st.DaemonDir != "" {
		errs = append(errs, stopDaemon(st.DaemonDir))
	}
	errs = append(errs, os.RemoveAll(dataDir))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Fprintf(out, "removed the cluster in %s (%d nodes' containers and bridges)\n", dataDir, len(st.Nodes))
	return nil
}

// stopDaemon stops the private containerd daemon whose directory is dir,
// if it still runs (the cluster process crashed), and removes dir. It
// finds the daemon by its configuration file's path on its command line.
func stopDaemon(dir string) error {
	conf := filepath.Join(dir, "config.toml")
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) > 2 && filepath.Base(args[0]) == "containerd" && slices.Contains(args, conf) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			syscall.Kill(pid, syscall.SIGTERM)
			for i := 0; i < 100 && alive(pid); i++ {
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	return os.RemoveAll(dir)
}
