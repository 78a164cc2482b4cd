// Command proxy runs the example cluster's node proxy against an apiserver
// named by a kubeconfig, programming this host's nftables:
//
//	go run ./examples/cmd/proxy --kubeconfig /tmp/sp/kubeconfig --node node1 --cluster-cidr 10.244.0.0/16
//
// Flags: --kubeconfig and --node (required), --proxy-mode (nftables, the
// default, or iptables), --cluster-cidr, --ipv6 and --cluster-cidr6,
// --nodeport-addresses (comma-separated prefixes), --table,
// --min-sync-period, --sync-period, --netns (program that network
// namespace instead of our own), --listen (/healthz and /metrics; default
// 127.0.0.1:10256, empty to disable), -v, and --cleanup, which removes
// everything the proxy made and exits (no kubeconfig needed). SIGINT or
// SIGTERM stop it, leaving the rules in place. The proxy itself is package
// examples/proxy.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/proxy"
)

type options struct {
	kubeconfig, node, clusterCIDR, clusterCIDR6, nodePortAddresses, table, netns, listen, mode string
	minSync, sync                                                                              time.Duration
	cleanup, verbose, ipv6                                                                     bool
}

func parse(args []string) (options, proxy.Config, error) {
	var o options
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the apiserver (required unless --cleanup)")
	fs.StringVar(&o.node, "node", "", "this node's name (required unless --cleanup)")
	fs.StringVar(&o.mode, "proxy-mode", string(proxy.ModeNFTables), "how to program the node: nftables or iptables")
	fs.BoolVar(&o.ipv6, "ipv6", false, "also program the IPv6 half of (dual-stack) services")
	fs.StringVar(&o.clusterCIDR6, "cluster-cidr6", "", "IPv6 pod network (with --ipv6)")
	fs.StringVar(&o.clusterCIDR, "cluster-cidr", "", "pod network; ClusterIP traffic from outside it is masqueraded")
	fs.StringVar(&o.nodePortAddresses, "nodeport-addresses", "", "comma-separated prefixes of node addresses that serve NodePorts (default all)")
	fs.StringVar(&o.table, "table", proxy.DefaultTableName, "nftables table the proxy owns")
	fs.StringVar(&o.netns, "netns", "", "path of a network namespace to program instead of our own")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:10256", "HTTP address for /healthz and /metrics; empty disables it")
	fs.DurationVar(&o.minSync, "min-sync-period", proxy.DefaultMinSyncPeriod, "least time between two syncs")
	fs.DurationVar(&o.sync, "sync-period", proxy.DefaultSyncPeriod, "resync period")
	fs.BoolVar(&o.cleanup, "cleanup", false, "remove everything the proxy made, then exit")
	fs.BoolVar(&o.verbose, "v", false, "debug logs")
	if err := fs.Parse(args); err != nil {
		return o, proxy.Config{}, err
	}
	cfg := proxy.Config{NodeName: o.node, Mode: proxy.Mode(o.mode), TableName: o.table, NetNS: o.netns, MinSyncPeriod: o.minSync, SyncPeriod: o.sync}
	if o.minSync == 0 {
		cfg.MinSyncPeriod = -1
	}
	if o.clusterCIDR != "" {
		p, err := netip.ParsePrefix(o.clusterCIDR)
		if err != nil {
			return o, cfg, fmt.Errorf("--cluster-cidr: %w", err)
		}
		cfg.ClusterCIDR = p
	}
	cfg.IPv6 = o.ipv6
	if o.clusterCIDR6 != "" {
		p, err := netip.ParsePrefix(o.clusterCIDR6)
		if err != nil {
			return o, cfg, fmt.Errorf("--cluster-cidr6: %w", err)
		}
		cfg.ClusterCIDR6 = p
	}
	if o.nodePortAddresses != "" {
		for _, s := range strings.Split(o.nodePortAddresses, ",") {
			p, err := netip.ParsePrefix(strings.TrimSpace(s))
			if err != nil {
				return o, cfg, fmt.Errorf("--nodeport-addresses: %w", err)
			}
			cfg.NodePortAddresses = append(cfg.NodePortAddresses, p)
		}
	}
	if cfg.Mode != proxy.ModeNFTables && cfg.Mode != proxy.ModeIPTables {
		return o, cfg, fmt.Errorf("--proxy-mode %q: want nftables or iptables", o.mode)
	}
	if !o.cleanup && (o.kubeconfig == "" || o.node == "") {
		return o, cfg, errors.New("--kubeconfig and --node are required")
	}
	return o, cfg, nil
}

func main() {
	o, cfg, err := parse(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "proxy:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "proxy:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, cfg proxy.Config) error {
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if o.cleanup {
		return proxy.Cleanup(ctx, cfg)
	}
	reg := prometheus.NewRegistry()
	cs, err := client.New(client.Config{KubeconfigPath: o.kubeconfig, Logger: log, Registerer: reg})
	if err != nil {
		return err
	}
	cfg.Client, cfg.Logger, cfg.Registerer = cs, log, reg
	p, err := proxy.New(cfg)
	if err != nil {
		return err
	}
	if o.listen != "" {
		ln, err := net.Listen("tcp", o.listen)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		log.Info("serving health and metrics", "addr", ln.Addr().String())
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return cs.Informers().Run(gctx) })
	g.Go(func() error { return p.Run(gctx) })
	return g.Wait()
}
