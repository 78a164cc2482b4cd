// Package controllertest starts what controller tests need, for real and
// in-process: an apiserver on embedded etcd (examples/apiserver), clients
// of it (examples/client), and NodeStandIn, a small stand-in for kubelets
// that registers Node objects and marks the pods bound to them Running and
// Ready through the status subresource. NodeStandIn is not a kubelet: it
// runs no containers and only plays the part of the node that controllers
// observe (pod phase and readiness). Tests switch to the simulated kubelet
// of examples/kubelet when it is available.
package controllertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
)

// Cluster is a running apiserver on embedded etcd and an admin client
// of it without a rate limit, for Examples (tests use StartAPIServer and
// Clientset).
type Cluster struct {
	// Server is the apiserver.
	Server *apiserver.Server
	// Client is an admin client of it.
	Client *client.Clientset
	stop   context.CancelFunc
	done   chan error
	dir    string
}

// StartCluster starts an apiserver (etcd in a new temporary directory,
// loopback listener; mutate may change its configuration, say to serve
// extra kinds) and returns once it serves. Stop it with Stop.
func StartCluster(mutate ...func(*apiserver.Config)) (*Cluster, error) {
	dir, err := os.MkdirTemp("", "controllertest-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, done: make(chan error, 1)}
	cfg := apiserver.Config{DataDir: dir}
	for _, m := range mutate {
		m(&cfg)
	}
	if c.Server, err = start(cfg, c); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	kc, err := c.Server.Kubeconfig()
	if err == nil {
		c.Client, err = client.New(client.Config{Kubeconfig: kc, QPS: -1})
	}
	if err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// Stop stops the apiserver, removes its data and returns its Run error.
func (c *Cluster) Stop() error {
	c.stop()
	err := <-c.done
	os.RemoveAll(c.dir)
	return err
}

// start runs an apiserver of cfg (loopback, no fsync, quiet etcd) in c.
func start(cfg apiserver.Config, c *Cluster) (*apiserver.Server, error) {
	cfg.Listen, cfg.EtcdNoFsync, cfg.EtcdLogLevel = "127.0.0.1:0", true, "off"
	s, err := apiserver.New(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.stop = cancel
	go func() { c.done <- s.Run(ctx) }()
	select {
	case <-s.Ready():
		return s, nil
	case err := <-c.done:
		cancel()
		c.done <- err
		return nil, fmt.Errorf("apiserver: %w", err)
	}
}

// StartAPIServer runs a real apiserver (embedded etcd in a temporary
// directory, loopback listener) until the test ends, and returns it once
// it serves.
func StartAPIServer(t testing.TB, mutate ...func(*apiserver.Config)) *apiserver.Server {
	t.Helper()
	cfg := apiserver.Config{DataDir: t.TempDir()}
	for _, m := range mutate {
		m(&cfg)
	}
	c := &Cluster{done: make(chan error, 1)}
	s, err := start(cfg, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.stop()
		if err := <-c.done; err != nil {
			t.Errorf("apiserver Run: %v", err)
		}
	})
	return s
}

// Clientset returns a client of s through its admin kubeconfig with no
// rate limit (pass a mutate to set one).
func Clientset(t testing.TB, s *apiserver.Server, mutate ...func(*client.Config)) *client.Clientset {
	t.Helper()
	kc, err := s.Kubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg := client.Config{Kubeconfig: kc, QPS: -1}
	for _, m := range mutate {
		m(&cfg)
	}
	cs, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// RunInformers runs cs's shared informer factory until the test ends.
func RunInformers(t testing.TB, cs *client.Clientset) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cs.Informers().Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := awaitStop(t, "informers", done); err != nil {
			t.Errorf("informers: %v", err)
		}
	})
}

// NodeStandIn plays the nodes for controller tests: it creates its Node
// objects (Ready) and, for every pod bound to one of them, writes status
// Running with a Ready condition (or only Running, while Ready returns
// false for the pod); a pod marked for graceful deletion it deletes for
// good (grace 0), as a kubelet does once the containers have stopped. It
// is a stand-in, not a kubelet.
type NodeStandIn struct {
	// Client reaches the apiserver.
	Client *client.Clientset
	// Nodes are the node names it plays.
	Nodes []string
	// Ready decides whether a pod becomes Ready; nil: every pod does.
	// Readiness is decided when the pod is first seen running; call
	// Reconsider to apply a changed decision.
	Ready func(p *api.Pod) bool

	mu   sync.Mutex
	pods *informer.Informer[*api.Pod]
	kick chan struct{}
}

// Run creates the nodes and keeps pod statuses as described until ctx
// ends. It returns nil when ctx ends, or the error that stopped it.
func (n *NodeStandIn) Run(ctx context.Context) error {
	for _, name := range n.Nodes {
		node := &api.Node{}
		node.Name = name
		if _, err := n.Client.Nodes().Create(ctx, node); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return fmt.Errorf("node stand-in: create node %s: %w", name, err)
		}
	}
	mine := map[string]bool{}
	for _, name := range n.Nodes {
		mine[name] = true
	}
	pods, err := informer.New[*api.Pod](n.Client.Pods(), informer.Config[*api.Pod]{Name: "node-stand-in",
		Filter: func(o store.Object) bool { return mine[o.(*api.Pod).Spec.NodeName] }})
	if err != nil {
		return err
	}
	kick := make(chan struct{}, 1)
	poke := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	n.mu.Lock()
	n.pods, n.kick = pods, kick
	n.mu.Unlock()
	if _, err := pods.AddHandler(informer.HandlerFuncs[*api.Pod]{
		AddFunc:    func(*api.Pod, bool) { poke() },
		UpdateFunc: func(_, _ *api.Pod) { poke() },
	}); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- pods.Run(ctx) }()
	for {
		select {
		case <-ctx.Done():
			<-done
			return nil
		case <-kick:
		}
		for _, p := range pods.List() {
			if err := n.settle(ctx, p); err != nil && ctx.Err() == nil &&
				!errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("node stand-in: pod %s/%s: %w", p.Namespace, p.Name, err)
			}
		}
	}
}

// Reconsider re-applies Ready to every pod (for example after the test
// changed what Ready returns).
func (n *NodeStandIn) Reconsider() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.kick != nil {
		select {
		case n.kick <- struct{}{}:
		default:
		}
	}
}

func (n *NodeStandIn) wantReady(p *api.Pod) bool { return n.Ready == nil || n.Ready(p) }

// settle writes p's status if it is not what the stand-in wants.
func (n *NodeStandIn) settle(ctx context.Context, p *api.Pod) error {
	if p.DeletionTimestamp != nil {
		// As a kubelet does once the pod's containers have stopped: the
		// final delete, grace 0, for this very pod (UID precondition).
		return n.Client.Pods().DeleteNow(ctx, p.Namespace, p.Name, store.WithPreconditionUID(p.UID))
	}
	if p.Status.Phase == api.PodSucceeded || p.Status.Phase == api.PodFailed {
		return nil
	}
	ready := n.wantReady(p)
	if p.Status.Phase == api.PodRunning && isReady(p) == ready {
		return nil
	}
	st := p.DeepCopy()
	now := store.NewTime(time.Now())
	st.Status.Phase = api.PodRunning
	if st.Status.StartTime == nil {
		st.Status.StartTime = &now
	}
	st.Status.PodIP = "10.0.0.1"
	cond := api.ConditionFalse
	if ready {
		cond = api.ConditionTrue
	}
	st.Status.Conditions = []api.PodCondition{{Type: api.PodReady, Status: cond, LastTransitionTime: now}}
	_, err := n.Client.Pods().UpdateStatus(ctx, st)
	return err
}

func isReady(p *api.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == api.PodReady {
			return c.Status == api.ConditionTrue
		}
	}
	return false
}

// Start runs n until the test ends and fails the test if it stops with
// an error.
func (n *NodeStandIn) Start(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := awaitStop(t, "node stand-in", done); err != nil {
			t.Errorf("node stand-in: %v", err)
		}
	})
}

// Eventually polls cond (a read of the cluster, not of time) until it
// returns nil or the deadline passes, and fails the test with the last
// error. The deadline is a safety net for a broken test, not a timing
// assertion.
func Eventually(t testing.TB, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: %v", what, err)
}

// Go runs run until the test ends and fails the test if it returns an
// error (what names it in the failure).
func Go(t testing.TB, what string, run func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := awaitStop(t, what, done); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	})
}

// Kubectl runs the installed kubectl against s with args and returns its
// combined output; a failure fails the test with that output.
func Kubectl(t testing.TB, s *apiserver.Server, args ...string) string {
	t.Helper()
	out, err := KubectlErr(t, s, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// KubectlErr is Kubectl that returns kubectl's error instead of failing.
func KubectlErr(t testing.TB, s *apiserver.Server, args ...string) (string, error) {
	t.Helper()
	kc, err := s.Kubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", path}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+dir, "KUBECACHEDIR="+filepath.Join(dir, "cache"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// stopGrace bounds how long a component may take to return once its
// context has ended.
const stopGrace = 30 * time.Second

// awaitStop waits for a component's Run to return its error on done. One
// that has not returned within stopGrace fails the test, naming it and
// printing the goroutines in controller, reconcile and informer code (a hang at cleanup
// otherwise shows only as the whole package's test timeout, with a dump
// too long to read), and is left behind.
func awaitStop(t testing.TB, what string, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(stopGrace):
	}
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var ours []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "controllertest.awaitStop") {
			continue
		}
		if strings.Contains(g, "setpoint/examples/controllers/") || strings.Contains(g, "setpoint/reconcile.") || strings.Contains(g, "setpoint/informer.") {
			ours = append(ours, g)
		}
	}
	t.Errorf("%s did not return within %v of its context ending; goroutines in controller, reconcile and informer code:\n%s", what, stopGrace, strings.Join(ours, "\n\n"))
	return nil
}
