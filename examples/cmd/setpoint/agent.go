package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

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
			n, err := cluster.NewNode(cluster.NodeConfig{Name: jc.NodeName, Kubeconfig: kc, Dir: filepath.Join(dataDir, "node"),
				Containerd: cluster.ContainerdConfig{Address: socket}, Logger: log.With("component", "kubelet")})
			if err != nil {
				return err
			}
			return n.Run(cmd.Context())
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
