// Command demo is `make demo`: it starts the example apiserver on an
// embedded etcd in-process, writes an admin kubeconfig to a temporary
// directory, and walks through a kubectl session that creates, lists,
// watches, patches, scales and deletes objects, printing each command and
// what kubectl prints. It cleans up after itself and needs kubectl on PATH.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/setpoint-dev/setpoint/examples/apiserver"
)

const podYAML = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    resources:
      requests: {cpu: 100m, memory: 64Mi}
`

const deployYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: frontend
spec:
  replicas: 2
  selector: {matchLabels: {app: frontend}}
  template:
    metadata: {labels: {app: frontend}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
`

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 55*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
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

// run runs the whole demo, writing the transcript to w.
func run(ctx context.Context, w io.Writer) (err error) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		return fmt.Errorf("kubectl is needed on PATH: %w", err)
	}
	dir, err := os.MkdirTemp("", "setpoint-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	kc := filepath.Join(dir, "kubeconfig")
	fmt.Fprintln(w, "# starting the setpoint apiserver on an embedded etcd")
	srv, err := apiserver.New(apiserver.Config{DataDir: filepath.Join(dir, "data"), Listen: "127.0.0.1:0", KubeconfigOut: kc, EtcdLogLevel: "off"})
	if err != nil {
		return err
	}
	srvCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(srvCtx) }()
	defer func() {
		fmt.Fprintln(w, "# shutting the apiserver down")
		stop()
		err = errors.Join(err, <-done)
	}()
	select {
	case <-srv.Ready():
	case err := <-done:
		done <- err // for the deferred shutdown
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
	fmt.Fprintf(w, "# apiserver at %s, kubeconfig at %s\n\n", srv.URL(), kc)
	s := &session{w: w, kubectl: kubectl, kubeconfig: kc, dir: dir}
	for name, content := range map[string]string{"pod.yaml": podYAML, "deploy.yaml": deployYAML} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			return err
		}
	}
	pod, dep := filepath.Join(dir, "pod.yaml"), filepath.Join(dir, "deploy.yaml")
	steps := [][]string{
		{"get", "namespaces"},
		{"create", "-f", pod},
		{"get", "pods"},
		{"get", "pod", "web", "-o", "yaml"},
		{"apply", "-f", dep},
		{"apply", "-f", dep},
		{"get", "deployments"},
		{"scale", "deployment", "frontend", "--replicas=4"},
		{"get", "deployment", "frontend", "-o", "jsonpath={.spec.replicas}"},
	}
	for _, args := range steps {
		if err := s.run(ctx, args...); err != nil {
			return err
		}
	}
	// watch while patching
	if err := s.watchWhile(ctx, func() error {
		if err := s.run(ctx, "label", "pod", "web", "tier=frontend"); err != nil {
			return err
		}
		return s.run(ctx, "patch", "pod", "web", "--type=merge", "-p", `{"metadata":{"annotations":{"demo":"patched"}}}`)
	}); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"get", "pods", "--selector", "tier=frontend", "--show-labels"},
		{"delete", "pod", "web"},
		{"delete", "-f", dep},
		{"get", "all"},
	} {
		if err := s.run(ctx, args...); err != nil {
			return err
		}
	}
	return nil
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

func (s *session) run(ctx context.Context, args ...string) error {
	s.show(args)
	out, err := s.cmd(ctx, args...).CombinedOutput()
	s.w.Write(out)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		fmt.Fprintln(s.w)
	}
	fmt.Fprintln(s.w)
	if err != nil {
		return fmt.Errorf("kubectl %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// lockedBuffer collects a background command's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// watchWhile runs "kubectl get pods -w" in the background while fn runs,
// then prints what the watch printed.
func (s *session) watchWhile(ctx context.Context, fn func() error) error {
	args := []string{"get", "pods", "-w", "--output-watch-events"}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := s.cmd(wctx, args...)
	var out lockedBuffer
	c.Stdout, c.Stderr = &out, &out
	fmt.Fprintln(s.w, "# in the background:")
	s.show(args)
	fmt.Fprintln(s.w)
	if err := c.Start(); err != nil {
		return err
	}
	if err := waitUntil(ctx, func() bool { return strings.Contains(out.String(), "web") }); err != nil {
		return fmt.Errorf("kubectl get -w printed nothing: %w", err)
	}
	if err := fn(); err != nil {
		return err
	}
	err := waitUntil(ctx, func() bool { return strings.Count(out.String(), "MODIFIED") >= 2 })
	cancel()
	c.Wait()
	fmt.Fprintln(s.w, "# the background watch printed:")
	fmt.Fprint(s.w, out.String())
	fmt.Fprintln(s.w)
	if err != nil {
		return fmt.Errorf("kubectl get -w did not show both changes: %w", err)
	}
	return nil
}

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
