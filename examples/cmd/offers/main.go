// Command offers runs the first level of two-level scheduling, the
// Mesos-style allocator, against an apiserver that serves the
// offers.setpoint.dev group (the example cluster's does):
//
//	go run ./examples/cmd/offers --kubeconfig /tmp/sp/kubeconfig
//
// It offers nodes' free resources to the registered Frameworks by weighted
// DRF as Offer objects and binds the task pods a framework names in an
// offer's spec.tasks. Flags: --kubeconfig (required), --identity,
// --lease-namespace, --lease-name, --leader-elect-lease-duration,
// --leader-elect-renew-deadline, --leader-elect-retry-period,
// --cycle-interval, --offer-timeout, --kube-api-qps, --kube-api-burst,
// -v. It exits 1 when it loses the lease (to be restarted) and 0 on
// SIGINT or SIGTERM. The controller is package examples/offers.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/offers"
)

func main() {
	var cfg offers.ControllerConfig
	var ccfg client.Config
	var verbose bool
	flag.StringVar(&ccfg.KubeconfigPath, "kubeconfig", "", "kubeconfig of the apiserver (required)")
	flag.Float64Var(&ccfg.QPS, "kube-api-qps", 20, "requests per second to the apiserver (negative: no limit)")
	flag.IntVar(&ccfg.Burst, "kube-api-burst", 30, "request burst to the apiserver")
	flag.StringVar(&cfg.Identity, "identity", "", "identity in the election (default: host name and a random suffix)")
	flag.StringVar(&cfg.LeaseNamespace, "lease-namespace", offers.DefaultLeaseNamespace, "namespace of the election's Lease")
	flag.StringVar(&cfg.LeaseName, "lease-name", offers.DefaultLeaseName, "name of the election's Lease")
	flag.DurationVar(&cfg.LeaseDuration, "leader-elect-lease-duration", 0, "lease duration (default 15s)")
	flag.DurationVar(&cfg.RenewDeadline, "leader-elect-renew-deadline", 0, "renew deadline (default 10s)")
	flag.DurationVar(&cfg.RetryPeriod, "leader-elect-retry-period", 0, "retry period (default 2s)")
	flag.DurationVar(&cfg.CycleInterval, "cycle-interval", offers.DefaultCycleInterval, "time between allocation cycles")
	flag.DurationVar(&cfg.Allocator.OfferTimeout, "offer-timeout", 0, "how long an offer stays pending (default: the allocator's)")
	flag.DurationVar(&cfg.OfferRetention, "offer-retention", offers.DefaultOfferRetention, "how long an ended Offer object is kept past its expiry time before it is deleted")
	flag.BoolVar(&verbose, "v", false, "debug logs")
	flag.Parse()
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if cfg.Identity == "" {
		host, _ := os.Hostname()
		cfg.Identity = host + "_" + rand.Text()[:8]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, ccfg); err != nil {
		fmt.Fprintln(os.Stderr, "offers:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg offers.ControllerConfig, ccfg client.Config) error {
	cs, err := client.New(ccfg)
	if err != nil {
		return err
	}
	cfg.Client = cs
	c, err := offers.NewController(cfg)
	if err != nil {
		return err
	}
	return c.Run(ctx)
}
