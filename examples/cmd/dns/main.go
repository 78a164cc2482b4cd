// Command dns runs the example cluster's DNS server against an apiserver
// named by a kubeconfig, as a host process or in the cluster (see
// dns.ClusterObjects):
//
//	go run ./examples/cmd/dns --kubeconfig /tmp/sp/kubeconfig --listen 127.0.0.1:1053
//
// Flags: --kubeconfig (required), --listen (UDP and TCP, default :53),
// --domain (default cluster.local), --ttl (default 30s), --upstream
// (repeatable host:port; none by default), --service (namespace/name of
// its own Service, default kube-system/kube-dns), --http (/healthz,
// /readyz, /metrics; default 127.0.0.1:8181, empty to disable), --qps,
// --burst, -v. SIGINT or SIGTERM stop it. The server itself is package
// examples/dns.
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
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/dns"
)

type upstreams []string

func (u *upstreams) String() string     { return strings.Join(*u, ",") }
func (u *upstreams) Set(s string) error { *u = append(*u, s); return nil }

type options struct {
	kubeconfig string
	cfg        dns.Config
	http       string
	qps        float64
	burst      int
	verbose    bool
}

func parse(args []string) (options, error) {
	var o options
	var ups upstreams
	fs := flag.NewFlagSet("dns", flag.ContinueOnError)
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the apiserver (required)")
	fs.StringVar(&o.cfg.Listen, "listen", dns.DefaultListen, "UDP and TCP address to serve DNS on")
	fs.StringVar(&o.cfg.Domain, "domain", dns.DefaultDomain, "cluster domain")
	fs.DurationVar(&o.cfg.TTL, "ttl", dns.DefaultTTL, "TTL of every record (whole seconds, at most 1h)")
	fs.Var(&ups, "upstream", "host:port asked for names outside the cluster domain (repeatable; default none)")
	fs.StringVar(&o.cfg.Service, "service", dns.DefaultServiceNamespace+"/"+dns.DefaultServiceName, "namespace/name of the server's own Service")
	fs.StringVar(&o.http, "http", "127.0.0.1:8181", "HTTP address for /healthz, /readyz and /metrics; empty disables it")
	fs.Float64Var(&o.qps, "qps", 0, "client requests per second (default 50; negative: unlimited)")
	fs.IntVar(&o.burst, "burst", 0, "client burst (default 100)")
	fs.BoolVar(&o.verbose, "v", false, "debug logs")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.kubeconfig == "" {
		return o, errors.New("--kubeconfig is required")
	}
	if o.cfg.TTL == 0 {
		o.cfg.ZeroTTL = true
	}
	o.cfg.Upstreams = ups
	return o, nil
}

func main() {
	o, err := parse(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "dns:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "dns:", err)
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
	cfg := o.cfg
	cfg.Client, cfg.Logger, cfg.Registerer = cs, log, reg
	s, err := dns.New(cfg)
	if err != nil {
		return err
	}
	if o.http != "" {
		ln, err := net.Listen("tcp", o.http)
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
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return cs.Informers().Run(gctx) })
	g.Go(func() error {
		err := s.Run(gctx)
		if err != nil {
			return err
		}
		return gctx.Err() // stop the informers too when ctx ends
	})
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
