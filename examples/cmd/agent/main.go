// Command agent runs the multi-cluster agent of one child cluster: it
// keeps a tunnel open to the hub and reports the child's health:
//
//	go run ./examples/cmd/agent --cluster-id edge-1 --hub https://hub:9443 --hub-ca hub-ca.crt \
//	    --hub-token-file token --child-kubeconfig /tmp/child/kubeconfig
//
// Flags: --cluster-id, --hub, --hub-ca, --hub-token-file (the agent's
// credential in the parent), --child-kubeconfig (a client certificate
// allowed to impersonate), --heartbeat-period. SIGINT or SIGTERM stop it.
// The agent itself is package examples/multicluster/agent.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/setpoint-dev/setpoint/examples/multicluster/agent"
)

func main() {
	var cfg agent.Config
	var hubCA, tokenFile, childKC string
	flag.StringVar(&cfg.ClusterID, "cluster-id", "", "the child cluster's ID at the hub (required)")
	flag.StringVar(&cfg.HubURL, "hub", "", "the hub's URL, https://host:port (required)")
	flag.StringVar(&hubCA, "hub-ca", "", "CA of the hub's serving certificate (PEM, required)")
	flag.StringVar(&tokenFile, "hub-token-file", "", "file holding the agent's bearer token for the parent (required)")
	flag.StringVar(&childKC, "child-kubeconfig", "", "kubeconfig of the agent's credentials in the child (required)")
	flag.DurationVar(&cfg.HeartbeatPeriod, "heartbeat-period", agent.DefaultHeartbeatPeriod, "how often to report the child's health")
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
	cfg.HubCAPEM, cfg.ChildKubeconfig = read(hubCA), read(childKC)
	cfg.HubToken = string(bytes.TrimSpace(read(tokenFile)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "agent:", err)
		os.Exit(2)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	a, err := agent.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := a.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
