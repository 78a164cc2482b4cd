package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/setpoint-dev/setpoint/examples/cluster"
)

// newAgent is `setpoint agent`: a node that joins with a bootstrap token
// (cluster.Join) and runs a kubelet on containerd as system:node:<name>.
func newAgent() *cobra.Command {
	var jc cluster.JoinConfig
	var dataDir, socket string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "agent --server URL --token TOKEN",
		Short: "join a node to a cluster with a bootstrap token and run it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := logger(verbose)
			jc.Logger = log
			if jc.NodeName == "" {
				h, err := os.Hostname()
				if err != nil {
					return fmt.Errorf("--node-name not given and no hostname: %w", err)
				}
				jc.NodeName = h
			}
			kcPath := filepath.Join(dataDir, "kubelet.kubeconfig")
			kc, err := os.ReadFile(kcPath)
			if errors.Is(err, os.ErrNotExist) {
				joined, err := cluster.Join(cmd.Context(), jc)
				if err != nil {
					return err
				}
				if err := os.MkdirAll(dataDir, 0o700); err != nil {
					return err
				}
				if err := os.WriteFile(kcPath, joined.Kubeconfig, 0o600); err != nil {
					return err
				}
				kc = joined.Kubeconfig
				fmt.Fprintf(cmd.OutOrStdout(), "node %s joined %s; kubelet kubeconfig: %s\n", jc.NodeName, joined.Server, kcPath)
			} else if err != nil {
				return err
			}
			return runAgentNode(cmd.Context(), jc, kc, kcPath, filepath.Join(dataDir, "node"), socket)
		},
	}
	f := cmd.Flags()
	f.StringVar(&jc.Server, "server", "", "the apiserver's URL (https://host:port)")
	f.StringVar(&jc.Token, "token", "", "bootstrap token <id>.<secret> (setpoint token create)")
	f.StringSliceVar(&jc.CACertHashes, "ca-cert-hash", nil, "pin the cluster CA: sha256:<hex of its public key info> (repeatable)")
	f.StringVar(&jc.NodeName, "node-name", "", "the node's name (default: the hostname)")
	f.StringVar(&dataDir, "data-dir", "/var/lib/setpoint/agent", "kubelet kubeconfig and node state")
	f.StringVar(&socket, "containerd", cluster.DefaultContainerdAddress, "containerd socket")
	f.BoolVarP(&verbose, "verbose", "v", false, "debug logs")
	return cmd
}

// runAgentNode runs the node, and before its client certificate expires
// renews it (cluster.RenewNodeCert), writes the new kubeconfig and
// restarts the node with it. The node keeps its containers across the
// restart and when the agent stops (NodeConfig.Keep), as a kubelet
// restart leaves pods running; the next agent adopts them.
func runAgentNode(ctx context.Context, jc cluster.JoinConfig, kc []byte, kcPath, nodeDir, socket string) error {
	for {
		certPEM, err := clientCertOf(kc)
		if err != nil {
			return err
		}
		renewAt, err := cluster.RenewAt(certPEM)
		if err != nil {
			return err
		}
		n, err := cluster.NewNode(cluster.NodeConfig{Name: jc.NodeName, Kubeconfig: kc, Dir: nodeDir, Keep: true,
			Containerd: cluster.ContainerdConfig{Address: socket}, Logger: jc.Logger.With("component", "kubelet")})
		if err != nil {
			return err
		}
		nctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- n.Run(nctx) }()
		var renewed *cluster.Joined
		select {
		case err := <-done:
			stop()
			return err
		case <-time.After(time.Until(renewAt)):
			renewed, err = cluster.RenewNodeCert(ctx, kc, jc)
		}
		if err == nil {
			err = os.WriteFile(kcPath, renewed.Kubeconfig, 0o600)
		}
		stop()
		if nerr := <-done; nerr != nil || err != nil {
			return errors.Join(err, nerr)
		}
		jc.Logger.Info("client certificate rotated; node restarted with it", "node", jc.NodeName)
		kc = renewed.Kubeconfig
	}
}

// clientCertOf returns the client certificate of a kubeconfig's first
// user.
func clientCertOf(kc []byte) ([]byte, error) {
	var cfg struct {
		Users []struct {
			User struct {
				Cert []byte `json:"client-certificate-data"`
			} `json:"user"`
		} `json:"users"`
	}
	if err := yaml.Unmarshal(kc, &cfg); err != nil || len(cfg.Users) == 0 || len(cfg.Users[0].User.Cert) == 0 {
		return nil, fmt.Errorf("the kubelet kubeconfig has no client certificate (%v)", err)
	}
	return cfg.Users[0].User.Cert, nil
}
