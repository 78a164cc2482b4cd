// Command scheduler runs the example cluster's scheduler against an
// apiserver named by a kubeconfig:
//
//	go run ./examples/cmd/scheduler --kubeconfig /tmp/sp/kubeconfig
//
// Flags: --kubeconfig (required), --listen (health, readiness, metrics and
// /debug/pods; default 127.0.0.1:10259, empty to disable), --qps,
// --burst, --percentage-of-nodes-to-score, --leader-elect (replicas elect
// one leader through the Lease kube-system/kube-scheduler; the process
// exits when it loses the lease), -v. SIGINT or SIGTERM stop
// it. The scheduler itself is package examples/scheduler.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/scheduler"
)

type options struct {
	kubeconfig string
	listen     string
	qps        float64
	burst      int
	percentage int
	elect      bool
	verbose    bool
}

func parse(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("scheduler", flag.ContinueOnError)
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the apiserver (required)")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:10259", "HTTP address for /healthz, /readyz, /metrics and /debug/pods; empty disables it")
	fs.Float64Var(&o.qps, "qps", 0, "client requests per second (default 50; negative: unlimited)")
	fs.IntVar(&o.burst, "burst", 0, "client burst (default 100)")
	fs.IntVar(&o.percentage, "percentage-of-nodes-to-score", 0, "share of nodes to find feasible before scoring (0: adaptive)")
	fs.BoolVar(&o.elect, "leader-elect", false, "schedule only while holding the kube-system/kube-scheduler Lease")
	fs.BoolVar(&o.verbose, "v", false, "debug logs")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.kubeconfig == "" {
		return o, errors.New("--kubeconfig is required")
	}
	return o, nil
}

func main() {
	o, err := parse(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "scheduler:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "scheduler:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	reg := prometheus.NewRegistry()
	cs, err := client.New(client.Config{KubeconfigPath: o.kubeconfig, QPS: o.qps, Burst: o.burst, Logger: log, Registerer: reg})
	if err != nil {
		return err
	}
	cfg := scheduler.Config{Client: cs, PercentageOfNodesToScore: o.percentage, Logger: log, Registerer: reg}
	if o.elect {
		cfg.LeaderElection = &scheduler.LeaderElection{}
	}
	s, err := scheduler.New(cfg)
	if err != nil {
		return err
	}
	if o.listen != "" {
		ln, err := net.Listen("tcp", o.listen)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("/", s.Handler())
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		log.Info("serving health and metrics", "addr", ln.Addr().String())
	}
	return s.Run(ctx)
}
