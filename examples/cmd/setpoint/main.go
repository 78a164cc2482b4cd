// Command setpoint is the example cluster in one binary, in the spirit of
// k3s:
//
//	setpoint server --data-dir /var/lib/setpoint [--listen 127.0.0.1:6443] [--tls-san ADDR]... [--etcd-servers URL,...] [--node NAME]
//	    [--serve-multicluster [--hub-listen :9443] [--hub-auto-approve]]
//	setpoint cluster up --nodes 3 [--data-dir DIR] [--detach]
//	setpoint cluster status [--data-dir DIR]
//	setpoint cluster down [--data-dir DIR]
//	setpoint agent --server URL --token TOKEN [--ca-cert-hash sha256:...] [--node-name NAME]
//	setpoint token create|list|delete [--ttl D] [--usages ...] [--groups ...] [--description ...]
//	setpoint sim --nodes N --pods-per-node M [--control-plane in-process|process | --server URL --kubeconfig F] [--report DIR] [--exit]
//
// `server` runs etcd (embedded unless --etcd-servers), the apiserver, the
// controller-manager and the scheduler, writes DATA-DIR/admin.kubeconfig,
// and with --node also runs a local node on containerd; --tls-san adds
// names to the apiserver's serving certificate (as k3s's). With
// --serve-multicluster it is a multi-cluster parent: its apiserver serves
// multicluster.setpoint.dev/v1alpha1 and the hub (examples/multicluster/hub,
// as HubUser, its certificate from the cluster CA) and its Subscription
// controller run in the same process. `cluster up` is the
// all-in-one for one machine: a server and N containerd nodes, each with
// its own bridge and pod subnet, on a private containerd daemon unless
// --containerd names a running one; it records what it makes in
// DATA-DIR/cluster.json, and `cluster down` removes all of it, also after
// a crash. `server` prints the command that joins a node: `agent` joins
// with a bootstrap token as kubeadm join does (cluster.Join: verified
// cluster-info, then a client certificate through a CSR) and runs a
// containerd node; `token` manages the tokens. `sim` runs N simulated
// nodes (examples/cluster/sim) against a control plane and reports how
// it copes with their pods (`make scale`). SIGINT or SIGTERM stop the server and its nodes, which remove
// their containers and bridges. The cluster itself is package
// examples/cluster.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/setpoint-dev/setpoint/examples/cluster"
	"github.com/setpoint-dev/setpoint/examples/multicluster/hub"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "setpoint:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{Use: "setpoint", Short: "the setpoint example cluster in one binary",
		SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(newServer(), newCluster(), newAgent(), newToken(), newSim())
	return root
}

func logger(verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

func newServer() *cobra.Command {
	var cfg cluster.Config
	var nodes []string
	var socket string
	var verbose, multicluster bool
	var hubOpts hubOptions
	cmd := &cobra.Command{
		Use:   "server",
		Short: "run etcd, the apiserver, the controller-manager, the scheduler, the DNS and the service LB (and optionally local nodes)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, n := range nodes {
				cfg.Nodes = append(cfg.Nodes, cluster.NodeConfig{Name: n, Containerd: cluster.ContainerdConfig{Address: socket}})
			}
			cfg.Logger = logger(verbose)
			var extra []cluster.ComponentFunc
			if multicluster {
				cfg.ExtraKinds = append(cfg.ExtraKinds, hub.Kinds()...)
				extra = append(extra, hubComponent(hubOpts, cfg.TLSSANs, cmd.OutOrStdout(), cfg.Logger))
			}
			s, err := cluster.New(cfg, extra...)
			if err != nil {
				return err
			}
			go func() {
				select {
				case <-s.Ready():
					fmt.Fprintf(cmd.OutOrStdout(), "apiserver %s ready; kubeconfig: export KUBECONFIG=%s\n", s.URL(), s.KubeconfigPath())
					if join, err := s.JoinCommand(cmd.Context()); err == nil {
						fmt.Fprintf(cmd.OutOrStdout(), "join a node with:\n  %s\n", join)
					} else if cmd.Context().Err() == nil {
						fmt.Fprintln(cmd.ErrOrStderr(), "setpoint: no join command:", err)
					}
				case <-cmd.Context().Done():
				}
			}()
			return s.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", "/var/lib/setpoint/server", "etcd data, PKI, kubeconfig and node state")
	f.StringVar(&cfg.Listen, "listen", "127.0.0.1:6443", "apiserver listen address")
	f.StringSliceVar(&cfg.TLSSANs, "tls-san", nil, "extra IP address or DNS name of the apiserver's (and hub's) serving certificate (repeatable)")
	f.BoolVar(&multicluster, "serve-multicluster", false, "serve multicluster.setpoint.dev/v1alpha1 and run the multi-cluster hub and its Subscription controller beside the server")
	f.StringVar(&hubOpts.listen, "hub-listen", hub.DefaultListen, "the hub's HTTPS address (with --serve-multicluster)")
	f.BoolVar(&hubOpts.autoApprove, "hub-auto-approve", false, "the hub approves every valid cluster registration at once (with --serve-multicluster)")
	f.StringSliceVar(&cfg.EtcdServers, "etcd-servers", nil, "external etcd client URLs (default: embedded etcd)")
	f.StringVar(&cfg.ClusterCIDR, "cluster-cidr", cluster.DefaultClusterCIDR, "range of the nodes' pod subnets")
	f.StringVar(&cfg.ServiceCIDR, "service-cidr", "", "range of ClusterIPs (default 10.96.0.0/12; the DNS gets its 10th address)")
	f.StringVar(&cfg.ClusterDomain, "cluster-domain", cluster.DefaultClusterDomain, "DNS domain of Services and pods")
	f.StringVar(&cfg.DNSListen, "dns-listen", "", "address:port the cluster DNS serves on (default: port 53 on a link-local address on a link of its own)")
	f.StringSliceVar(&cfg.DNSUpstreams, "dns-upstream", nil, "servers (host:port) the DNS forwards other names to (default: refuse them)")
	f.StringVar(&cfg.LoadBalancerPool, "lb-pool", cluster.DefaultLoadBalancerPool, "range LoadBalancer Services get their addresses from")
	f.StringVar(&cfg.AuthzFile, "authz-file", "", "extra authorization rules consulted before Node and RBAC (default none)")
	f.StringSliceVar(&nodes, "node", nil, "also run a local containerd node of this name (repeatable)")
	f.StringVar(&socket, "containerd", cluster.DefaultContainerdAddress, "containerd socket of local nodes")
	f.StringSliceVar(&cfg.Controllers, "controllers", nil, "controllers to run (default all)")
	f.Float64Var(&cfg.ComponentQPS, "component-qps", 0, "request rate of the controller-manager's and scheduler's clients (default the client's; negative: no limit)")
	f.IntVar(&cfg.ComponentBurst, "component-burst", 0, "burst of the controller-manager's and scheduler's clients (default the client's)")
	f.BoolVar(&cfg.EtcdNoFsync, "etcd-no-fsync", false, "the embedded etcd skips fsync (faster, loses data on a crash: simulations and tests only)")
	f.BoolVarP(&verbose, "verbose", "v", false, "debug logs")
	return cmd
}
