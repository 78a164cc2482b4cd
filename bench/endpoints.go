package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	k8sendpointslice "k8s.io/kubernetes/pkg/controller/endpointslice"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/endpointslice"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// endpoints-lag-p99: one Service selecting epPods pods that are Running
// with an address but not Ready; the controller under test runs until
// every pod is listed (not ready) in the service's EndpointSlices; then,
// one at a time, each pod is made Ready (a status write) and the lag is
// the time from just before that write to the watch event of the slice
// that lists the pod as ready. The figure is the p99 over the epPods
// changes, in milliseconds. Ours is examples/controllers/endpointslice;
// the anchor is Kubernetes' endpointslice controller v1.37.2
// (k8s.io/kubernetes/pkg/controller/endpointslice), each on its own fresh
// apiserver in the same run, both with kube-controller-manager's client
// limits (QPS epQPS, burst epBurst), 5 workers, 100 endpoints per slice
// and no batching window. Our client speaks JSON only, so the anchor's
// client is set to JSON too (both pay the same wire costs).
const (
	epQPS   = 20
	epBurst = 30
)

var epPodsFlag = flag.Int("ep-pods", 1000, "pods (and Ready changes) of the endpoints benchmark (fewer for quick checks)")

func init() {
	register("endpoints", benchEndpoints)
}

func benchEndpoints(ctx context.Context) ([]Result, error) {
	if os.Getenv("SCHED_BENCH_KLOG") == "" {
		klog.SetLogger(logr.Discard())
	}
	ours, err := epRun(ctx, runOurEndpointSlice)
	if err != nil {
		return nil, fmt.Errorf("ours: %w", err)
	}
	anchor, err := epRun(ctx, runKubeEndpointSlice)
	if err != nil {
		return nil, fmt.Errorf("kubernetes endpointslice: %w", err)
	}
	return []Result{{Name: "endpoints-lag-p99", Ours: ours, Anchor: anchor, Unit: "ms", HigherIsBetter: false}}, nil
}

func runOurEndpointSlice(ctx context.Context, kubeconfig []byte) error {
	cs, err := client.New(client.Config{Kubeconfig: kubeconfig, QPS: epQPS, Burst: epBurst})
	if err != nil {
		return err
	}
	c, err := endpointslice.New(endpointslice.Config{Client: cs, Workers: 5})
	if err != nil {
		return err
	}
	go cs.Informers().Run(ctx)
	go c.Run(ctx)
	return nil
}

func runKubeEndpointSlice(ctx context.Context, kubeconfig []byte) error {
	rc, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return err
	}
	rc.QPS, rc.Burst = epQPS, epBurst
	rc.ContentType = "application/json"
	rc.AcceptContentTypes = "application/json"
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	f := informers.NewSharedInformerFactory(cs, 0)
	c := k8sendpointslice.NewController(ctx, f.Core().V1().Pods(), f.Core().V1().Services(), f.Core().V1().Nodes(),
		f.Discovery().V1().EndpointSlices(), 100, cs, 0)
	f.Start(ctx.Done())
	go c.Run(ctx, 5)
	return nil
}

// epRun measures one controller on a fresh apiserver and returns the p99
// lag in milliseconds.
func epRun(ctx context.Context, start func(ctx context.Context, kubeconfig []byte) error) (float64, error) {
	epPods := *epPodsFlag
	kc, cs, cleanup, err := freshAPIServer(ctx, "setpoint-bench-ep-", 0)
	if err != nil {
		return 0, err
	}
	defer cleanup()
	svc := &api.Service{}
	svc.Namespace, svc.Name = "default", "web"
	svc.Spec.Selector = map[string]string{"app": "web"}
	svc.Spec.Ports = []api.ServicePort{{Name: "http", Port: 80, TargetPort: api.FromInt(8080), Protocol: api.ProtocolTCP}}
	if _, err := cs.Services().Create(ctx, svc); err != nil {
		return 0, err
	}
	// The node the pods run on: Kubernetes' controller skips pods whose
	// Node it cannot find.
	node := &api.Node{}
	node.Name = "node-1"
	node.Labels = map[string]string{api.LabelHostname: "node-1", api.LabelTopologyZone: "zone-a"}
	node.Status.Conditions = []api.NodeCondition{{Type: "Ready", Status: api.ConditionTrue}}
	if _, err := cs.Nodes().Create(ctx, node); err != nil {
		return 0, err
	}
	pods := make([]*api.Pod, epPods)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	for i := range epPods {
		g.Go(func() error {
			p := &api.Pod{}
			p.Namespace, p.Name, p.Labels = "default", fmt.Sprintf("web-%04d", i), map[string]string{"app": "web"}
			p.Spec.NodeName = "node-1"
			p.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
			out, err := cs.Pods().Create(gctx, p)
			if err != nil {
				return err
			}
			ip := fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)
			out.Status.Phase, out.Status.PodIP, out.Status.PodIPs = api.PodRunning, ip, []api.PodIP{{IP: ip}}
			out.Status.Conditions = []api.PodCondition{{Type: api.PodReady, Status: api.ConditionFalse}}
			pods[i], err = cs.Pods().UpdateStatus(gctx, out)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	l, err := cs.EndpointSlices().List(ctx, "default", store.ListOptions{Limit: 1})
	if err != nil {
		return 0, err
	}
	w, err := cs.EndpointSlices().Watch(ctx, "default", store.WatchOptions{AfterRevision: l.Revision})
	if err != nil {
		return 0, err
	}
	defer w.Stop()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := start(runCtx, kc); err != nil {
		return 0, err
	}
	// ready[address] as the slices say; slices by name.
	bySlice := map[string]map[string]bool{}
	state := func(addr string) (listed, ready bool) {
		for _, m := range bySlice {
			if r, ok := m[addr]; ok {
				return true, r
			}
		}
		return false, false
	}
	next := func(deadline time.Time) error {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				return fmt.Errorf("slice watch ended: %v", w.Err())
			}
			if ev.Object.Labels[discovery.LabelServiceName] != "web" {
				return nil
			}
			if ev.Type == watch.Deleted {
				delete(bySlice, ev.Object.Name)
				return nil
			}
			m := map[string]bool{}
			for _, ep := range ev.Object.Endpoints {
				m[ep.Addresses[0]] = ep.Conditions.Ready != nil && *ep.Conditions.Ready
			}
			bySlice[ev.Object.Name] = m
			return nil
		case <-time.After(time.Until(deadline)):
			return errors.New("timed out waiting for the slices")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		n := 0
		for _, m := range bySlice {
			n += len(m)
		}
		if n == epPods {
			break
		}
		if err := next(deadline); err != nil {
			return 0, fmt.Errorf("initial slices (%d of %d listed): %w", n, epPods, err)
		}
	}
	lags := make([]time.Duration, 0, epPods)
	for _, p := range pods {
		st := p.DeepCopy()
		st.Status.Conditions = []api.PodCondition{{Type: api.PodReady, Status: api.ConditionTrue}}
		t0 := time.Now()
		if _, err := cs.Pods().UpdateStatus(ctx, st); err != nil {
			return 0, err
		}
		deadline := time.Now().Add(time.Minute)
		for {
			if listed, ready := state(p.Status.PodIP); listed && ready {
				break
			}
			if err := next(deadline); err != nil {
				return 0, fmt.Errorf("pod %s: %w", p.Name, err)
			}
		}
		lags = append(lags, time.Since(t0))
	}
	slices.Sort(lags)
	p99 := lags[(len(lags)*99+99)/100-1]
	return float64(p99.Microseconds()) / 1000, nil
}
