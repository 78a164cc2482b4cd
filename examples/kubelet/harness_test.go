package kubelet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// cluster is an in-process apiserver on embedded etcd and a client.
type cluster struct {
	cs *client.Clientset
}

func startCluster(t *testing.T) *cluster { return startClusterTB(t) }

// startClusterTB is startCluster for tests and benchmarks.
func startClusterTB(t testing.TB) *cluster {
	t.Helper()
	srv := runAPIServer(t, apiserver.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", EtcdNoFsync: true, EtcdLogLevel: "off"})
	kc, err := srv.Kubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := client.New(client.Config{Kubeconfig: kc, QPS: -1})
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{cs: cs}
}

// runAPIServer runs an apiserver of cfg until the test ends.
func runAPIServer(t testing.TB, cfg apiserver.Config) *apiserver.Server {
	t.Helper()
	srv, err := apiserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("apiserver: %v", err)
		}
	})
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("apiserver: %v", err)
	}
	return srv
}

// fakeRuntime is a fake runtime with the test program's image.
func fakeRuntime(t *testing.T, opts ...fake.Option) *fake.Runtime { return fakeRuntimeTB(t, opts...) }

// fakeRuntimeTB is fakeRuntime for tests and benchmarks.
func fakeRuntimeTB(t testing.TB, opts ...fake.Option) *fake.Runtime {
	t.Helper()
	rt := fake.New(append([]fake.Option{fake.WithProgram(runtimetest.TestBinary, runtimetest.FakeTestBinary), fake.WithNodeIP("10.0.0.1")}, opts...)...)
	if _, err := rt.ImportImage(context.Background(), bytes.NewReader(runtimetest.TestImage(t))); err != nil {
		t.Fatal(err)
	}
	return rt
}

// runKubelet runs a kubelet until the returned stop is called (or the
// test ends).
func runKubelet(t *testing.T, cfg Config) (*Kubelet, func()) { return runKubeletTB(t, cfg) }

// runKubeletTB is runKubelet for tests and benchmarks.
func runKubeletTB(t testing.TB, cfg Config) (*Kubelet, func()) {
	t.Helper()
	if cfg.RootDir == "" {
		cfg.RootDir = t.TempDir()
	}
	k, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- k.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("kubelet Run: %v", err)
		}
	}
	t.Cleanup(stop)
	return k, stop
}

// waitPod waits until cond holds for the pod (nil: it is gone) and returns
// it.
func waitPod(t *testing.T, cs *client.Clientset, ns, name string, what string, cond func(*api.Pod) bool) *api.Pod {
	t.Helper()
	p, err := pollPod(cs, ns, name, what, cond)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pollPod is waitPod for any goroutine: it returns an error instead of
// failing the test.
func pollPod(cs *client.Clientset, ns, name string, what string, cond func(*api.Pod) bool) (*api.Pod, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var last *api.Pod
	for {
		p, err := cs.Pods().Get(ctx, ns, name)
		if errors.Is(err, store.ErrNotFound) {
			p = nil
		} else if err != nil {
			return nil, fmt.Errorf("get pod %s/%s: %w", ns, name, err)
		}
		if cond(p) {
			return p, nil
		}
		last = p
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("pod %s/%s: waiting for %s; last seen: %+v", ns, name, what, last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// testContainer is a container of the test image running script (steps
// such as "print hello", split into words).
func testContainer(name string, script ...string) api.Container {
	var args []string
	for _, step := range script {
		args = append(args, strings.Fields(step)...)
	}
	return api.Container{Name: name, Image: runtimetest.TestImageName, ImagePullPolicy: api.PullNever, Args: args}
}

// condition returns the pod's condition of type t.
func condition(p *api.Pod, t api.PodConditionType) api.PodCondition {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c
		}
	}
	return api.PodCondition{}
}

// waitNode waits for the node to be registered.
func waitNode(t *testing.T, c *cluster, name string) *api.Node {
	t.Helper()
	n, err := pollNode(c, name)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pollNode is waitNode returning an error.
func pollNode(c *cluster, name string) (*api.Node, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		n, err := c.cs.Nodes().Get(ctx, "", name)
		if err == nil {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("node %s not registered: %v", name, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func nodeCondition(n *api.Node, t api.NodeConditionType) api.NodeCondition {
	for _, c := range n.Status.Conditions {
		if c.Type == t {
			return c
		}
	}
	return api.NodeCondition{}
}

func storeListAll() store.ListOptions { return store.ListOptions{} }

// waitLog waits until the container's log holds s.
func waitLog(t *testing.T, rt runtime.Runtime, id, s string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if logs := runtimetest.ReadLogs(ctx, t, rt, id, runtime.LogOptions{}); strings.Contains(logs, s) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("log of %s never held %q", id, s)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// watchFinalStatus runs del (which deletes the pod) and returns the last
// status the pod had before it was deleted for good.
func watchFinalStatus(t *testing.T, c *cluster, ns, name string, del func()) api.PodStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cur, err := c.cs.Pods().Get(ctx, ns, name)
	if err != nil {
		t.Fatal(err)
	}
	rev, _ := store.ParseRevision(cur.ResourceVersion)
	w, err := c.cs.Pods().Watch(ctx, ns, store.WatchOptions{AfterRevision: rev})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	del()
	last := cur.Status
	for {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				t.Fatalf("watch of %s/%s ended: %v", ns, name, w.Err())
			}
			if ev.Object.Name != name {
				continue
			}
			if ev.Type == watch.Deleted {
				return last
			}
			last = ev.Object.Status
		case <-ctx.Done():
			t.Fatalf("pod %s/%s not deleted", ns, name)
		}
	}
}
