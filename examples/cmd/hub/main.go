// Command hub runs the multi-cluster hub beside a parent apiserver: child
// clusters' agents keep their tunnels to it, and callers reach the
// children through it:
//
//	go run ./examples/cmd/hub --parent-kubeconfig /tmp/parent/kubeconfig --client-ca /tmp/parent/pki/ca.crt
//	kubectl --server https://127.0.0.1:9443/apis/multicluster.setpoint.dev/v1alpha1/clusters/<id>/proxy --token ... get pods
//
// Flags: --parent-kubeconfig (the hub's credentials in the parent,
// required), --listen (default :9443), --tls-cert and --tls-key (default
// a self-signed certificate, written to --ca-out), --client-ca,
// --heartbeat-grace, --auth-cache-ttl, --auto-approve, --deploy (run the
// Subscription controller, default true). SIGINT or SIGTERM stop it. The hub
// itself is package examples/multicluster/hub.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/multicluster/hub"
)

func main() {
	var cfg hub.Config
	var parentKC, certFile, keyFile, clientCA, caOut string
	flag.StringVar(&parentKC, "parent-kubeconfig", "", "kubeconfig of the hub's credentials in the parent apiserver (required)")
	flag.StringVar(&cfg.Listen, "listen", hub.DefaultListen, "HTTPS listen address")
	flag.StringVar(&certFile, "tls-cert", "", "serving certificate (PEM); default self-signed")
	flag.StringVar(&keyFile, "tls-key", "", "serving key (PEM)")
	flag.StringVar(&clientCA, "client-ca", "", "CA whose client certificates authenticate callers (PEM)")
	flag.StringVar(&caOut, "ca-out", "", "write the self-signed serving certificate here (for agents and kubectl)")
	flag.DurationVar(&cfg.HeartbeatGrace, "heartbeat-grace", hub.DefaultHeartbeatGrace, "a cluster is not ready this long after its last heartbeat")
	flag.BoolVar(&cfg.AutoApprove, "auto-approve", false, "approve every valid cluster registration request at once")
	deploy := flag.Bool("deploy", true, "run the Subscription controller (the parent must serve multicluster.setpoint.dev: apiserver --serve-multicluster)")
	flag.DurationVar(&cfg.AuthCacheTTL, "auth-cache-ttl", hub.DefaultAuthCacheTTL, "reuse the parent's authentication and authorization answers this long")
	flag.Parse()
	var err error
	read := func(path string) []byte {
		if path == "" || err != nil {
			return nil
		}
		var b []byte
		b, err = os.ReadFile(path)
		return b
	}
	cfg.ParentKubeconfig = read(parentKC)
	cfg.ServingCertPEM, cfg.ServingKeyPEM, cfg.ClientCAPEM = read(certFile), read(keyFile), read(clientCA)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hub:", err)
		os.Exit(2)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	h, err := hub.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if caOut != "" && h.CACertPEM() != nil {
		if err := os.WriteFile(caOut, h.CACertPEM(), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "hub:", err)
			os.Exit(1)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg.Logger.Info("hub serving", "url", h.URL())
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return h.Run(gctx) })
	if *deploy {
		parent, err := client.New(client.Config{Kubeconfig: cfg.ParentKubeconfig})
		if err != nil {
			fmt.Fprintln(os.Stderr, "hub:", err)
			os.Exit(2)
		}
		d, err := hub.NewDeployer(hub.DeployerConfig{Client: parent, Logger: cfg.Logger.With("component", "deployer")})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		g.Go(func() error { return d.Run(gctx) })
	}
	if err := g.Wait(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
