package scheduler_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/scheduler"
	"github.com/setpoint-dev/setpoint/store"
)

// startServer starts an apiserver on embedded etcd for the test and
// returns a clientset of it.
func startServer(t *testing.T) *client.Clientset {
	t.Helper()
	srv, err := apiserver.New(apiserver.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", EtcdNoFsync: true, EtcdLogLevel: "off"})
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
		t.Fatalf("apiserver stopped: %v", err)
	}
	kc, err := srv.Kubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := client.New(client.Config{Kubeconfig: kc, QPS: -1})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// startScheduler runs a scheduler until the test ends.
func startScheduler(t *testing.T, cfg scheduler.Config) *scheduler.Scheduler {
	t.Helper()
	s, err := scheduler.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("scheduler: %v", err)
		}
	})
	return s
}

func resources(cpu, mem, pods string) api.ResourceList {
	rl := api.ResourceList{}
	if cpu != "" {
		rl[api.ResourceCPU] = api.MustParse(cpu)
	}
	if mem != "" {
		rl[api.ResourceMemory] = api.MustParse(mem)
	}
	if pods != "" {
		rl[api.ResourcePods] = api.MustParse(pods)
	}
	return rl
}

// newNode is a simulated node: a Node object with capacity, allocatable
// and a Ready condition, as a kubelet would report it.
func newNode(name, cpu, mem string, labels map[string]string) *api.Node {
	n := &api.Node{ObjectMeta: store.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}}}
	for k, v := range labels {
		n.Labels[k] = v
	}
	n.Status.Capacity = resources(cpu, mem, "110")
	n.Status.Allocatable = resources(cpu, mem, "110")
	n.Status.Conditions = []api.NodeCondition{{Type: "Ready", Status: api.ConditionTrue}}
	return n
}

func createNode(t *testing.T, cs *client.Clientset, n *api.Node) {
	t.Helper()
	if _, err := cs.Nodes().Create(context.Background(), n); err != nil {
		t.Fatalf("creating node %s: %v", n.Name, err)
	}
}

func newPod(name, cpu, mem string) *api.Pod {
	p := &api.Pod{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: name}}
	p.Spec.Containers = []api.Container{{Name: "c", Image: "registry.example/app:1",
		Resources: api.ResourceRequirements{Requests: resources(cpu, mem, "")}}}
	return p
}

func createPod(t *testing.T, cs *client.Clientset, p *api.Pod) *api.Pod {
	t.Helper()
	out, err := cs.Pods().Create(context.Background(), p)
	if err != nil {
		t.Fatalf("creating pod %s: %v", p.Name, err)
	}
	return out
}

// waitFor polls cond (reading the apiserver) until it holds; the test
// fails after a generous bound.
func waitFor(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// podsByNode lists the namespace's pods and groups the bound ones.
func podsByNode(t *testing.T, cs *client.Clientset) (map[string][]*api.Pod, []*api.Pod) {
	t.Helper()
	l, err := cs.Pods().List(context.Background(), "default", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	by := map[string][]*api.Pod{}
	var unbound []*api.Pod
	for _, p := range l.Items {
		if p.Spec.NodeName == "" {
			unbound = append(unbound, p)
			continue
		}
		by[p.Spec.NodeName] = append(by[p.Spec.NodeName], p)
	}
	return by, unbound
}

// events returns the messages of the events of one reason about a pod.
func events(t *testing.T, cs *client.Clientset, pod, reason string) []string {
	t.Helper()
	l, err := cs.Events().List(context.Background(), "default", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range l.Items {
		if e.InvolvedObject.Name == pod && e.Reason == reason {
			out = append(out, e.Message)
		}
	}
	return out
}

func podName(i int) string { return fmt.Sprintf("p-%03d", i) }

// startServerless returns a clientset of an apiserver that is never
// started: enough for New, which sends nothing.
func startServerless(t *testing.T) *client.Clientset {
	t.Helper()
	kc := []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`)
	cs, err := client.New(client.Config{Kubeconfig: kc})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
