package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/cluster"
	"github.com/setpoint-dev/setpoint/runtime/containerdtest"
	"github.com/setpoint-dev/setpoint/runtime/image"
	"github.com/setpoint-dev/setpoint/store"
)

// options tune the demo (the test uses its own cluster CIDR).
type options struct {
	nodes       int
	clusterCIDR string
}

const webPackage = "github.com/setpoint-dev/setpoint/examples/demo/web"

const deployYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: setpoint.demo/web:v1
        imagePullPolicy: Never
        env:
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
`

// run runs the whole demo, writing the transcript to w.
func run(ctx context.Context, w io.Writer, o options) (err error) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		return fmt.Errorf("kubectl is needed on PATH: %w", err)
	}
	dir, err := os.MkdirTemp("", "setpoint-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	say := func(format string, args ...any) { fmt.Fprintf(w, "# "+format+"\n", args...) }

	say("building the web server image (v1 and v2) with the runtime's image builder")
	images, err := buildImages(ctx)
	if err != nil {
		return err
	}
	say("starting a private containerd daemon")
	d, err := containerdtest.Start(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, d.Stop()) }()
	if fwd, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); err == nil {
		defer os.WriteFile("/proc/sys/net/ipv4/ip_forward", fwd, 0o644)
	}
	cfg := cluster.Config{DataDir: filepath.Join(dir, "data"), Listen: "127.0.0.1:0", EtcdLogLevel: "off", ClusterCIDR: o.clusterCIDR,
		MetricsResolution: 2 * time.Second}
	for i := 1; i <= o.nodes; i++ {
		cfg.Nodes = append(cfg.Nodes, cluster.NodeConfig{Name: fmt.Sprintf("node-%d", i),
			Containerd: cluster.ContainerdConfig{Address: d.Address, StopGrace: 2 * time.Second}})
	}
	say("starting the setpoint server (etcd, apiserver, controller-manager, scheduler, DNS, service LB) and %d containerd nodes", o.nodes)
	start := time.Now()
	srv, err := cluster.New(cfg)
	if err != nil {
		return err
	}
	srvCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(srvCtx) }()
	var bridges []string
	defer func() {
		say("tearing the cluster down")
		stop()
		err = errors.Join(err, <-done)
		for _, b := range bridges {
			if _, statErr := os.Stat("/sys/class/net/" + b); statErr == nil {
				err = errors.Join(err, fmt.Errorf("bridge %s is left after teardown", b))
			}
		}
		if err == nil {
			say("every node removed its containers and its bridge (%s)", strings.Join(bridges, ", "))
		}
	}()
	select {
	case <-srv.Ready():
	case err := <-done:
		done <- err
		return err
	}
	for _, n := range srv.Nodes() {
		<-n.Started()
		bridges = append(bridges, n.Config().Containerd.Bridge)
		for _, img := range images {
			if _, err := n.Runtime().ImportImage(ctx, bytes.NewReader(img)); err != nil {
				return fmt.Errorf("loading the image on %s: %w", n.Name(), err)
			}
		}
	}
	cs, err := client.New(client.Config{KubeconfigPath: srv.KubeconfigPath(), QPS: -1})
	if err != nil {
		return err
	}
	// Ready and without a NoSchedule or NoExecute taint (the node
	// lifecycle controller removes node.kubernetes.io/not-ready only after
	// it has seen Ready): until then the scheduler rightly puts every pod
	// on the nodes that are already free of it.
	if err := poll(ctx, time.Minute, "every node Ready and schedulable", func() (bool, error) {
		nodes, err := cs.Nodes().List(ctx, "", store.ListOptions{})
		if err != nil {
			return false, err
		}
		ready := 0
		for _, n := range nodes.Items {
			if nodeReady(n) && !slices.ContainsFunc(n.Spec.Taints, func(t api.Taint) bool {
				return t.Effect == api.TaintEffectNoSchedule || t.Effect == api.TaintEffectNoExecute
			}) {
				ready++
			}
		}
		return ready == o.nodes, nil
	}); err != nil {
		return err
	}
	say("cluster up in %.1fs: apiserver %s; images loaded on every node", time.Since(start).Seconds(), srv.URL())
	say("export KUBECONFIG=%s\n", srv.KubeconfigPath())

	s := &session{w: w, kubectl: kubectl, kubeconfig: srv.KubeconfigPath(), dir: dir}
	deploy := filepath.Join(dir, "web.yaml")
	if err := os.WriteFile(deploy, []byte(deployYAML), 0o600); err != nil {
		return err
	}
	if err := s.runAll(ctx, []string{"get", "nodes", "-o", "wide"}, []string{"apply", "-f", deploy},
		[]string{"rollout", "status", "deployment/web", "--timeout=90s"}, []string{"get", "nodes,pods", "-o", "wide"}); err != nil {
		return err
	}
	pods, err := checkPods(ctx, cs, 3, "")
	if err != nil {
		return err
	}
	if nodesOf(pods) < 2 {
		return fmt.Errorf("the 3 pods run on %d node(s), want them spread over at least 2", nodesOf(pods))
	}
	if err := curlAll(ctx, w, pods, "v1"); err != nil {
		return err
	}

	if err := s.runAll(ctx, []string{"scale", "deployment/web", "--replicas=5"},
		[]string{"rollout", "status", "deployment/web", "--timeout=90s"}); err != nil {
		return err
	}
	if _, err := checkPods(ctx, cs, 5, ""); err != nil {
		return err
	}
	say("rolling out v2")
	if err := s.runAll(ctx, []string{"set", "image", "deployment/web", "web=setpoint.demo/web:v2"},
		[]string{"rollout", "status", "deployment/web", "--timeout=120s"}, []string{"get", "pods", "-o", "wide"}); err != nil {
		return err
	}
	if pods, err = checkPods(ctx, cs, 5, "setpoint.demo/web:v2"); err != nil {
		return err
	}
	if err := curlAll(ctx, w, pods, "v2"); err != nil {
		return err
	}

	if err := serviceSteps(ctx, w, s, cs, srv); err != nil {
		return err
	}
	if err := statefulSteps(ctx, w, s, cs); err != nil {
		return err
	}
	if err := inspectSteps(ctx, w, s); err != nil {
		return err
	}

	victim := srv.Nodes()[len(srv.Nodes())-1].Name()
	say("stopping %s's kubelet: the node goes down and removes its containers", victim)
	if err := srv.StopNode(ctx, victim); err != nil {
		return err
	}
	say("the node lifecycle controller would mark %s NotReady after its grace period and evict its pods", victim)
	say("after their 300s toleration; to be quick, the Node is deleted (as an autoscaler would): the pod")
	say("garbage collector then deletes its pods and the ReplicaSet replaces them on the other nodes")
	if err := s.runAll(ctx, []string{"get", "nodes"}, []string{"delete", "node", victim}); err != nil {
		return err
	}
	if err := poll(ctx, 90*time.Second, "5 Running pods, none on "+victim, func() (bool, error) {
		pods, err := runningPods(ctx, cs, "setpoint.demo/web:v2")
		if err != nil {
			return false, err
		}
		for _, p := range pods {
			if p.Spec.NodeName == victim {
				return false, nil
			}
		}
		return len(pods) == 5, nil
	}); err != nil {
		return err
	}
	if err := s.runAll(ctx, []string{"get", "nodes,pods", "-o", "wide"}); err != nil {
		return err
	}
	return nil
}

// buildImages builds the web server once and packs it into v1 and v2.
func buildImages(ctx context.Context) ([][]byte, error) {
	bin, err := image.BuildGo(ctx, webPackage, image.GoBuildOptions{})
	if err != nil {
		return nil, fmt.Errorf("building %s: %w", webPackage, err)
	}
	var out [][]byte
	for _, v := range []string{"v1", "v2"} {
		b := image.NewBuilder(image.Config{Name: "setpoint.demo/web:" + v, Entrypoint: []string{"/web"}, Env: []string{"PATH=/", "VERSION=" + v}})
		if err := b.AddBytes("/web", bin, 0o755); err != nil {
			return nil, err
		}
		a, err := b.Bytes()
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func (s *session) runAll(ctx context.Context, cmds ...[]string) error {
	for _, args := range cmds {
		if err := s.run(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// runningPods returns the web pods that are Running and Ready (of image,
// when set), not being deleted.
func runningPods(ctx context.Context, cs *client.Clientset, img string) ([]api.Pod, error) {
	sel, _ := store.ParseSelector("app=web")
	list, err := cs.Pods().List(ctx, "default", store.ListOptions{Selector: sel})
	if err != nil {
		return nil, err
	}
	var out []api.Pod
	for _, p := range list.Items {
		ready := false
		for _, c := range p.Status.Conditions {
			ready = ready || c.Type == api.PodReady && c.Status == api.ConditionTrue
		}
		if p.Status.Phase == api.PodRunning && ready && p.DeletionTimestamp == nil && (img == "" || p.Spec.Containers[0].Image == img) {
			out = append(out, *p)
		}
	}
	return out, nil
}

// checkPods checks that exactly n web pods are Running and Ready.
func checkPods(ctx context.Context, cs *client.Clientset, n int, img string) ([]api.Pod, error) {
	var pods []api.Pod
	err := poll(ctx, 30*time.Second, fmt.Sprintf("%d Running and Ready pods", n), func() (bool, error) {
		var err error
		pods, err = runningPods(ctx, cs, img)
		return len(pods) == n, err
	})
	return pods, err
}

func nodesOf(pods []api.Pod) int {
	nodes := map[string]bool{}
	for _, p := range pods {
		nodes[p.Spec.NodeName] = true
	}
	return len(nodes)
}

// curlAll reaches every pod by its pod IP from the host and checks that
// it answers with its own name and version.
func curlAll(ctx context.Context, w io.Writer, pods []api.Pod, version string) error {
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	hc := &http.Client{Timeout: 5 * time.Second}
	for _, p := range pods {
		url := "http://" + p.Status.PodIP + ":8080/"
		fmt.Fprintf(w, "$ curl %s   # %s on %s\n", url, p.Name, p.Spec.NodeName)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := hc.Do(req)
		if err != nil {
			return fmt.Errorf("reaching %s at %s: %w", p.Name, url, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		fmt.Fprint(w, string(body))
		if want := fmt.Sprintf("hello from %s (%s)\n", p.Name, version); string(body) != want {
			return fmt.Errorf("%s answered %q, want %q", url, body, want)
		}
	}
	fmt.Fprintln(w)
	return nil
}

func nodeReady(n *api.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == api.NodeReady {
			return c.Status == api.ConditionTrue
		}
	}
	return false
}

// poll calls cond every 100ms until it holds, it fails, ctx ends or
// timeout passes.
func poll(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		ok, err := cond()
		if ok && err == nil {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last error: %v)", what, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
