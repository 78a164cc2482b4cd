// Command controller-manager runs the example cluster's controllers behind
// one leader election, like kube-controller-manager:
//
//	go run ./examples/cmd/controller-manager --kubeconfig /tmp/sp/kubeconfig --controllers='*,-namespace'
//
// Flags: --kubeconfig (required), --controllers (default "*"), --identity,
// --lease-namespace, --lease-name, --leader-elect-lease-duration,
// --leader-elect-renew-deadline, --leader-elect-retry-period, --listen
// (/healthz and /metrics; default 127.0.0.1:10257, empty for none),
// --cluster-cidr, --node-cidr-mask-size, --cluster-signing-cert-file,
// --cluster-signing-key-file, --root-ca-file, --kube-api-qps, --kube-api-burst, -v. It exits 1 when it loses the lease
// (to be restarted, as kube-controller-manager is) and 0 on SIGINT or
// SIGTERM. The manager itself is package examples/controllermanager.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllermanager"
)

func main() {
	var cfg controllermanager.Config
	var ccfg client.Config
	var controllers string
	var verbose bool
	var signingCert, signingKey, rootCA string
	flag.StringVar(&ccfg.KubeconfigPath, "kubeconfig", "", "kubeconfig of the apiserver (required)")
	flag.Float64Var(&ccfg.QPS, "kube-api-qps", 20, "requests per second to the apiserver (negative: no limit)")
	flag.IntVar(&ccfg.Burst, "kube-api-burst", 30, "request burst to the apiserver")
	flag.StringVar(&controllers, "controllers", "*", "controllers to run: '*', 'name', '-name', comma-separated (known: "+strings.Join(controllermanager.KnownControllers(), ", ")+")")
	flag.StringVar(&cfg.Identity, "identity", "", "identity in the election (default: host name and a random suffix)")
	flag.StringVar(&cfg.LeaseNamespace, "lease-namespace", controllermanager.DefaultLeaseNamespace, "namespace of the election's Lease")
	flag.StringVar(&cfg.LeaseName, "lease-name", controllermanager.DefaultLeaseName, "name of the election's Lease")
	flag.DurationVar(&cfg.LeaseDuration, "leader-elect-lease-duration", 0, "lease duration (default 15s)")
	flag.DurationVar(&cfg.RenewDeadline, "leader-elect-renew-deadline", 0, "renew deadline (default 10s)")
	flag.DurationVar(&cfg.RetryPeriod, "leader-elect-retry-period", 0, "retry period (default 2s)")
	flag.StringVar(&cfg.Listen, "listen", "127.0.0.1:10257", "address of /healthz and /metrics (empty: none)")
	flag.StringVar(&cfg.ClusterCIDR, "cluster-cidr", "", "range of node pod CIDRs; set, nodeipam allocates each node one (empty: no allocation)")
	flag.IntVar(&cfg.NodeCIDRMaskSize, "node-cidr-mask-size", 0, "prefix length of each node's pod CIDR (default 24 for IPv4, 64 for IPv6)")
	flag.StringVar(&signingCert, "cluster-signing-cert-file", "", "PEM CA certificate that csrsigning signs node certificates with (empty: no signing)")
	flag.StringVar(&signingKey, "cluster-signing-key-file", "", "PEM key of that CA")
	flag.StringVar(&rootCA, "root-ca-file", "", "PEM CA bundle published in every namespace's kube-root-ca.crt (default: the cluster signing certificate)")
	flag.BoolVar(&verbose, "v", false, "debug logs")
	flag.Parse()
	cfg.Controllers = strings.Split(controllers, ",")
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if (signingCert == "") != (signingKey == "") {
		fmt.Fprintln(os.Stderr, "controller-manager: --cluster-signing-cert-file and --cluster-signing-key-file go together")
		os.Exit(2)
	}
	if signingCert != "" {
		var err error
		if cfg.ClusterSigningCert, err = os.ReadFile(signingCert); err == nil {
			cfg.ClusterSigningKey, err = os.ReadFile(signingKey)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "controller-manager:", err)
			os.Exit(2)
		}
	}
	if rootCA != "" {
		var err error
		if cfg.RootCA, err = os.ReadFile(rootCA); err != nil {
			fmt.Fprintln(os.Stderr, "controller-manager:", err)
			os.Exit(2)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, ccfg); err != nil {
		fmt.Fprintln(os.Stderr, "controller-manager:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg controllermanager.Config, ccfg client.Config) error {
	cs, err := client.New(ccfg)
	if err != nil {
		return err
	}
	cfg.Client = cs
	m, err := controllermanager.New(cfg)
	if err != nil {
		return err
	}
	return m.Run(ctx)
}
