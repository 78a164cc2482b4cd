// Command agent runs the multi-cluster agent of one child cluster: it
// keeps a tunnel open to the hub and reports the child's health:
//
//	go run ./examples/cmd/agent --cluster-id edge-1 --hub https://hub:9443 --hub-ca hub-ca.crt \
//	    --hub-token-file token --child-kubeconfig /tmp/child/kubeconfig
//
// Flags: --cluster-id, --hub, --hub-ca, --hub-token-file (the agent's
// credential in the parent), --child-kubeconfig (a client certificate
// allowed to impersonate), --heartbeat-period, --bootstrap-token-file and
// --cluster-labels (a=b,c=d). When --hub-token-file does not exist yet
// and a bootstrap token is given, the agent first registers the child with
// it, waits for approval, and writes its own token to --hub-token-file;
// it never uses the bootstrap token again. It renews that token through
// the hub once 80% of its lifetime has passed and writes each new one over
// --hub-token-file. With --parent (and
// --parent-ca) it also pulls the cluster's Descriptions from the parent
// apiserver with that token and applies them in the child. SIGINT or
// SIGTERM stop it.
// The agent itself is package examples/multicluster/agent.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/multicluster/agent"
)

func main() {
	var cfg agent.Config
	var hubCA, tokenFile, childKC, bootstrapFile, labels string
	flag.StringVar(&cfg.ClusterID, "cluster-id", "", "the child cluster's ID at the hub (required)")
	flag.StringVar(&cfg.HubURL, "hub", "", "the hub's URL, https://host:port (required)")
	flag.StringVar(&hubCA, "hub-ca", "", "CA of the hub's serving certificate (PEM, required)")
	flag.StringVar(&tokenFile, "hub-token-file", "", "file holding the agent's bearer token for the parent (required)")
	flag.StringVar(&childKC, "child-kubeconfig", "", "kubeconfig of the agent's credentials in the child (required)")
	flag.StringVar(&bootstrapFile, "bootstrap-token-file", "", "file holding a bootstrap token to register with when --hub-token-file does not exist")
	flag.StringVar(&labels, "cluster-labels", "", "labels of the child at registration, a=b,c=d")
	var parentURL, parentCA string
	flag.StringVar(&parentURL, "parent", "", "the parent apiserver's URL: pull this cluster's Descriptions from it and apply them in the child")
	flag.StringVar(&parentCA, "parent-ca", "", "CA of the parent apiserver's serving certificate (PEM; with --parent)")
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, statErr := os.Stat(tokenFile); errors.Is(statErr, fs.ErrNotExist) && bootstrapFile != "" && err == nil {
		spec := multicluster.ClusterRegistrationRequestSpec{ClusterID: cfg.ClusterID, ClusterLabels: map[string]string{}}
		for _, kv := range strings.Split(labels, ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				spec.ClusterLabels[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		r, rerr := agent.Register(ctx, agent.RegisterConfig{HubURL: cfg.HubURL, HubCAPEM: cfg.HubCAPEM,
			BootstrapToken: string(bytes.TrimSpace(read(bootstrapFile))), Spec: spec})
		if rerr != nil {
			fmt.Fprintln(os.Stderr, "agent:", rerr)
			os.Exit(1)
		}
		if werr := os.WriteFile(tokenFile, r.Status.Token, 0o600); werr != nil {
			fmt.Fprintln(os.Stderr, "agent:", werr)
			os.Exit(1)
		}
	}
	cfg.HubToken = string(bytes.TrimSpace(read(tokenFile)))
	if parentURL != "" {
		cfg.ParentKubeconfig = agent.ParentKubeconfigFor(parentURL, read(parentCA), cfg.HubToken)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "agent:", err)
		os.Exit(2)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg.OnTokenRenewed = func(token string) {
		// write the renewed token over the file, atomically, so that a
		// restart uses it
		tmp := tokenFile + ".new"
		werr := os.WriteFile(tmp, []byte(token), 0o600)
		if werr == nil {
			werr = os.Rename(tmp, tokenFile)
		}
		if werr != nil {
			cfg.Logger.Error("saving the renewed token", "file", tokenFile, "err", werr)
		}
	}
	a, err := agent.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := a.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
