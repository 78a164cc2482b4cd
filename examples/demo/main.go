// Command demo is `make demo`: a real cluster on this machine, driven by
// kubectl. It starts a private containerd daemon and, in-process, a
// setpoint server (embedded etcd, apiserver, controller-manager,
// scheduler, DNS, service load balancer) with three containerd nodes, each
// with its own bridge, pod subnet (from node IPAM) and proxy; builds an OCI image of a small Go web server (examples/demo/web)
// with the runtime's image builder and loads it on every node; applies a
// Deployment of 3 replicas with a readiness probe; shows the pods Running
// across the nodes and reaches each one by pod IP from the host; scales to
// 5; rolls out v2; exposes it as a Service (ClusterIP and NodePort) and
// curls it from the host by NodePort and from a pod by its DNS name,
// showing different backends answering, and shows the client pod's
// kubectl logs; applies a StatefulSet of 2 replicas with its headless
// Service and a volume claim per pod (bound by the local volume
// provisioner); shows kubectl exec (its exit code propagated) and kubectl
// top; stops a node and shows its pods replaced on the others; and tears
// everything down. It prints each command and its real output,
// and exits 1 if a step does not do what it claims. It needs root,
// containerd, runc, the CNI plugins, kubectl and the go command.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, options{nodes: 3}); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

type session struct {
	w          io.Writer
	kubectl    string
	kubeconfig string
	dir        string
}

func (s *session) cmd(ctx context.Context, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, s.kubectl, append([]string{"--kubeconfig", s.kubeconfig}, args...)...)
	c.Env = append(os.Environ(), "HOME="+s.dir)
	return c
}

func (s *session) show(args []string) {
	shown := make([]string, len(args))
	for i, a := range args {
		shown[i] = strings.Replace(a, s.dir+"/", "", 1)
		if strings.ContainsAny(shown[i], ` {"`) {
			shown[i] = "'" + shown[i] + "'"
		}
	}
	fmt.Fprintf(s.w, "$ kubectl %s\n", strings.Join(shown, " "))
}

// run shows and runs kubectl, and fails unless it exits 0.
func (s *session) run(ctx context.Context, args ...string) error {
	_, code, err := s.capture(ctx, args...)
	if err == nil && code != 0 {
		err = fmt.Errorf("kubectl %s: exit status %d", strings.Join(args, " "), code)
	}
	return err
}

// waitUntil polls cond every 20ms until it holds, for at most 20s.
func waitUntil(ctx context.Context, cond func() bool) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	deadline := time.After(20 * time.Second)
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return errors.New("timed out")
		case <-t.C:
		}
	}
	return nil
}
