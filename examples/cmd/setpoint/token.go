package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/cluster"
)

// newToken is `setpoint token create|list|delete`: bootstrap tokens for
// joining nodes, as kubeadm token does.
func newToken() *cobra.Command {
	var kubeconfig string
	cmd := &cobra.Command{Use: "token", Short: "manage bootstrap tokens for joining nodes"}
	cmd.PersistentFlags().StringVar(&kubeconfig, "kubeconfig", defaultKubeconfig(), "admin kubeconfig of the server")
	clientset := func() (*client.Clientset, error) {
		return client.New(client.Config{KubeconfigPath: kubeconfig})
	}
	var opts cluster.TokenOptions
	create := &cobra.Command{
		Use:   "create [TOKEN]",
		Short: "create a bootstrap token and print it (<id>.<secret>)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Token = args[0]
			}
			if opts.TTL == 0 {
				opts.TTL = -1 // --ttl 0: never expires, as kubeadm's
			}
			cs, err := clientset()
			if err != nil {
				return err
			}
			tok, err := cluster.CreateToken(cmd.Context(), cs, opts, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	f := create.Flags()
	f.DurationVar(&opts.TTL, "ttl", cluster.DefaultTokenTTL, "lifetime of the token (0: never expires)")
	f.StringSliceVar(&opts.Usages, "usages", []string{cluster.TokenUsageSigning, cluster.TokenUsageAuthentication}, "signing and/or authentication")
	f.StringSliceVar(&opts.Groups, "groups", nil, "extra groups (each system:bootstrappers:...)")
	f.StringVar(&opts.Description, "description", "", "a note on what the token is for")
	list := &cobra.Command{
		Use:   "list",
		Short: "list bootstrap tokens",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cs, err := clientset()
			if err != nil {
				return err
			}
			toks, err := cluster.ListTokens(cmd.Context(), cs)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 8, 3, ' ', 0)
			fmt.Fprintln(w, "TOKEN ID\tTTL\tEXPIRES\tUSAGES\tDESCRIPTION\tEXTRA GROUPS")
			for _, t := range toks {
				ttl, exp := "<forever>", "<never>"
				if !t.Expires.IsZero() {
					ttl, exp = time.Until(t.Expires).Round(time.Second).String(), t.Expires.Format(time.RFC3339)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, ttl, exp, strings.Join(t.Usages, ","), t.Description, strings.Join(t.Groups, ","))
			}
			return w.Flush()
		},
	}
	del := &cobra.Command{
		Use:   "delete ID|TOKEN...",
		Short: "delete bootstrap tokens",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, err := clientset()
			if err != nil {
				return err
			}
			for _, a := range args {
				if err := cluster.DeleteToken(cmd.Context(), cs, a); err != nil {
					return err
				}
				id, _, _ := strings.Cut(a, ".")
				fmt.Fprintf(cmd.OutOrStdout(), "bootstrap token %q deleted\n", id)
			}
			return nil
		},
	}
	cmd.AddCommand(create, list, del)
	return cmd
}

// defaultKubeconfig is $KUBECONFIG, or the server's default data dir's
// admin kubeconfig.
func defaultKubeconfig() string {
	if k := os.Getenv("KUBECONFIG"); k != "" {
		return k
	}
	return filepath.Join("/var/lib/setpoint/server", cluster.KubeconfigName)
}
