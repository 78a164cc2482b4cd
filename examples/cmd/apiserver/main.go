// Command apiserver serves the example API types from etcd over HTTPS in the
// Kubernetes wire format, so that kubectl can use it:
//
//	go run ./examples/cmd/apiserver --data-dir /tmp/sp --kubeconfig-out /tmp/sp/kubeconfig
//	kubectl --kubeconfig /tmp/sp/kubeconfig get pods
//
// Flags: --data-dir (etcd data and PKI), --etcd-servers (external etcd,
// comma-separated; default embedded), --listen (default 127.0.0.1:6443),
// --token-file, --authz-file, --kubeconfig-out, --max-body-bytes,
// --rate-limit, --rate-burst, --max-inflight, --serve-multicluster (the
// multicluster.setpoint.dev group, for a hub's parent), -v. SIGINT or SIGTERM shut
// it down gracefully. The server itself is package examples/apiserver.
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

	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/multicluster/hub"
)

func main() {
	var cfg apiserver.Config
	var etcdServers string
	var verbose bool
	flag.StringVar(&cfg.DataDir, "data-dir", "", "directory for the embedded etcd's data and the PKI (required)")
	flag.StringVar(&etcdServers, "etcd-servers", "", "comma-separated external etcd client URLs; empty runs an embedded etcd")
	flag.StringVar(&cfg.Listen, "listen", apiserver.DefaultListen, "HTTPS listen address")
	flag.StringVar(&cfg.TokenFile, "token-file", "", `static bearer tokens: CSV lines token,user,uid,"group1,group2"`)
	flag.StringVar(&cfg.AuthzFile, "authz-file", "", "authorization rules (JSON array); default: group system:masters may do everything")
	flag.StringVar(&cfg.KubeconfigOut, "kubeconfig-out", "", "write an admin kubeconfig here once the server is ready")
	flag.Int64Var(&cfg.MaxBodyBytes, "max-body-bytes", 0, "request body limit (default 3 MiB)")
	flag.Float64Var(&cfg.RateLimit, "rate-limit", 0, "requests per second (0: unlimited)")
	flag.IntVar(&cfg.RateBurst, "rate-burst", 0, "rate limit burst")
	flag.IntVar(&cfg.MaxInflight, "max-inflight", 0, "concurrent non-watch requests (default 400)")
	flag.IntVar(&cfg.MaxLongRunning, "max-long-running", 0, "concurrent watches (default 4096)")
	flag.DurationVar(&cfg.RequestTimeout, "request-timeout", 0, "bound on every request but watches (default 1m)")
	flag.DurationVar(&cfg.BodyTimeout, "body-timeout", 0, "bound on reading a request body (default 30s)")
	flag.DurationVar(&cfg.CompactionInterval, "compaction-interval", 0, "how often to compact etcd's history (default 5m; negative: never)")
	flag.StringVar(&cfg.AuditLogPath, "audit-log-path", "", `audit log file, one JSON line per request ("-": standard output; empty: none)`)
	flag.StringVar((*string)(&cfg.AuditLevel), "audit-level", "", "audit level: None, Metadata or Request (default Metadata)")
	flag.IntVar(&cfg.AuditLogMaxSize, "audit-log-maxsize", 0, "megabytes before the audit log is rotated (default 100)")
	flag.IntVar(&cfg.AuditLogMaxAge, "audit-log-maxage", 0, "days to keep rotated audit logs (0: no limit)")
	flag.IntVar(&cfg.AuditLogMaxBackups, "audit-log-maxbackup", 0, "rotated audit logs to keep (0: no limit)")
	flag.BoolVar(&cfg.AuditLogCompress, "audit-log-compress", false, "gzip rotated audit logs")
	flag.BoolVar(&verbose, "v", false, "log requests and watch-cache events")
	profiling := true
	flag.BoolVar(&profiling, "profiling", true, "serve Go's profiles at /debug/pprof/ to callers allowed that URL")
	var multicluster bool
	flag.BoolVar(&multicluster, "serve-multicluster", false, "also serve multicluster.setpoint.dev/v1alpha1, as the parent of a multi-cluster hub")
	flag.Parse()
	cfg.DisableProfiling = !profiling
	if multicluster {
		cfg.ExtraKinds = append(cfg.ExtraKinds, hub.Kinds()...)
	}
	if etcdServers != "" {
		cfg.EtcdServers = strings.Split(etcdServers, ",")
	}
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "apiserver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg apiserver.Config) error {
	s, err := apiserver.New(cfg)
	if err != nil {
		return err
	}
	go func() {
		<-s.Ready()
		fmt.Printf("apiserver listening on %s\n", s.URL())
		if cfg.KubeconfigOut != "" {
			fmt.Printf("kubeconfig written to %s\n", cfg.KubeconfigOut)
		}
	}()
	return s.Run(ctx)
}
