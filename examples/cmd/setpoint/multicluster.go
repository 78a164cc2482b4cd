package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/cluster"
	"github.com/setpoint-dev/setpoint/examples/multicluster/hub"
)

// HubUser is the identity of the multi-cluster hub `setpoint server
// --serve-multicluster` runs beside the parent. It is in system:masters:
// approving a child creates its namespace, service account, RBAC and
// token, as clusternet-hub's cluster-admin binding allows it.
const HubUser = "system:multicluster-hub"

// hubOptions are the flags of the hub `server --serve-multicluster` runs.
type hubOptions struct {
	listen      string
	autoApprove bool
}

// hubComponent runs the multi-cluster hub (examples/multicluster/hub) and
// its Deployer (the Subscription controller) beside the server, once the
// apiserver serves. The hub's serving certificate is issued by the
// cluster CA for the apiserver's names (loopback, localhost, sans), so
// agents and kubectl trust it with the same CA file; callers authenticate
// with client certificates of that CA or with tokens the parent accepts.
// It prints the hub's URL on out once it listens.
func hubComponent(o hubOptions, sans []string, out io.Writer, log *slog.Logger) cluster.ComponentFunc {
	return func(ctx context.Context, s *cluster.Server) error {
		pki := s.APIServer().PKI()
		cert, key, err := pki.IssueServingCert(sans...)
		if err != nil {
			return fmt.Errorf("hub: serving certificate: %w", err)
		}
		kc, err := s.IssueKubeconfig(HubUser, "system:masters")
		if err != nil {
			return err
		}
		h, err := hub.New(hub.Config{ParentKubeconfig: kc, Listen: o.listen, ServingCertPEM: cert, ServingKeyPEM: key,
			ClientCAPEM: pki.CACert, AutoApprove: o.autoApprove, Logger: log.With("component", "hub")})
		if err != nil {
			return err
		}
		parent, err := client.New(client.Config{Kubeconfig: kc, Logger: log.With("component", "deployer")})
		if err != nil {
			return err
		}
		d, err := hub.NewDeployer(hub.DeployerConfig{Client: parent, Logger: log.With("component", "deployer")})
		if err != nil {
			return err
		}
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() error { return h.Run(gctx) })
		g.Go(func() error { return d.Run(gctx) })
		fmt.Fprintf(out, "multi-cluster hub %s ready\n", h.URL())
		return g.Wait()
	}
}
