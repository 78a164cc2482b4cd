package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	kubescheduler "k8s.io/kubernetes/pkg/scheduler"
	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/apis/config/latest"
	"k8s.io/kubernetes/pkg/scheduler/profile"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/scheduler"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// sched-basic-5000n: 5,000 nodes and 10,000 pending pods, each asking for
// 100m CPU and 500Mi, on a fresh example apiserver (embedded etcd, in
// process); scheduled pods per second, from the scheduler's start (its
// informers' initial lists included) until every pod is bound, as counted
// by a watch. Ours is examples/scheduler; the anchor is kube-scheduler
// v1.37.2 (k8s.io/kubernetes/pkg/scheduler) with a profile of the same
// plugins (PrioritySort, NodeUnschedulable, NodeName, TaintToleration,
// NodeAffinity, NodePorts, NodeResourcesFit, NodeResourcesBalancedAllocation,
// DefaultBinder), the same adaptive percentageOfNodesToScore and
// parallelism 16, run against its own fresh apiserver in the same run.
// Both clients have QPS schedQPS and burst schedBurst (scheduler_perf's
// settings). Our apiserver serves no protobuf, so the anchor's client
// sends and accepts JSON.
//
// sched-basic-5000n-floor: the physical floor beside it: raw pods/binding
// POSTs per second on the same kind of apiserver with the same client
// limits, 64 at a time.
//
// sched-antiaffinity-1000n is not run: examples/scheduler has no
// InterPodAffinity plugin yet.
const (
	schedQPS     = 5000
	schedBurst   = 5000
	schedNodes   = 5000
	schedPods    = 10000
	schedWorkers = 64
)

var schedScale = flag.Float64("sched-scale", 1, "scale the scheduler benchmark's nodes and pods (for quick checks)")

func init() {
	register("scheduler", benchScheduler)
}

func benchScheduler(ctx context.Context) ([]Result, error) {
	if os.Getenv("SCHED_BENCH_KLOG") == "" {
		klog.SetLogger(logr.Discard())
	}
	nodes := max(1, int(float64(schedNodes)**schedScale))
	pods := max(1, int(float64(schedPods)**schedScale))
	name := "sched-basic-5000n"
	if *schedScale != 1 {
		name = fmt.Sprintf("sched-basic-%dn", nodes)
	}
	ours, err := schedRun(ctx, nodes, pods, runOurs)
	if err != nil {
		return nil, fmt.Errorf("ours: %w", err)
	}
	anchor, err := schedRun(ctx, nodes, pods, runKubeScheduler)
	if err != nil {
		return nil, fmt.Errorf("kube-scheduler: %w", err)
	}
	floor, err := schedRun(ctx, nodes, pods, runBindFloor)
	if err != nil {
		return nil, fmt.Errorf("binding floor: %w", err)
	}
	return []Result{
		{Name: name, Ours: ours, Anchor: anchor, Unit: "pods/s", HigherIsBetter: true},
		{Name: name + "-floor", Ours: floor, Unit: "bindings/s", HigherIsBetter: true},
	}, nil
}

// schedCluster is a fresh apiserver holding the nodes and pending pods.
type schedCluster struct {
	kubeconfig []byte
	setup      *client.Clientset // unlimited, for setup and counting
	rev        int64             // the store revision after setup
	pods       int
}

type schedRunner func(ctx context.Context, c *schedCluster) error

// schedRun builds a cluster, runs fn (which schedules or binds), and
// returns pods bound per second, timed from fn's start until the watch
// has seen every pod bound.
func schedRun(ctx context.Context, nodes, pods int, fn schedRunner) (float64, error) {
	dir, err := os.MkdirTemp("", "setpoint-bench-sched-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	srv, stop, err := startAPIServer(ctx, apiserver.Config{DataDir: dir, Listen: "127.0.0.1:0", EtcdNoFsync: true, EtcdLogLevel: "off", MaxInflight: 2000})
	if err != nil {
		return 0, err
	}
	defer stop()
	kc, err := srv.Kubeconfig()
	if err != nil {
		return 0, err
	}
	cs, err := client.New(client.Config{Kubeconfig: kc, QPS: -1})
	if err != nil {
		return 0, err
	}
	if err := schedPopulate(ctx, cs, nodes, pods); err != nil {
		return 0, err
	}
	l, err := cs.Pods().List(ctx, "default", store.ListOptions{Limit: 1})
	if err != nil {
		return 0, err
	}
	rev := l.Revision
	c := &schedCluster{kubeconfig: kc, setup: cs, rev: rev, pods: pods}
	w, err := cs.Pods().Watch(ctx, "default", store.WatchOptions{AfterRevision: rev})
	if err != nil {
		return 0, err
	}
	defer w.Stop()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	runErr := make(chan error, 1)
	go func() { runErr <- fn(runCtx, c) }()
	bound := make(map[string]bool, pods)
	timeout := time.NewTimer(10 * time.Minute)
	defer timeout.Stop()
	for len(bound) < pods {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				return 0, fmt.Errorf("pod watch ended: %v", w.Err())
			}
			if ev.Type == watch.Modified && ev.Object.Spec.NodeName != "" {
				bound[ev.Object.Name] = true
			}
		case err := <-runErr:
			if err != nil {
				return 0, err
			}
			runErr = nil
		case <-timeout.C:
			return 0, fmt.Errorf("only %d of %d pods bound in 10 minutes", len(bound), pods)
		}
	}
	return float64(pods) / time.Since(start).Seconds(), nil
}

func schedPopulate(ctx context.Context, cs *client.Clientset, nodes, pods int) error {
	g, gctx := errgroup.WithContext(ctx)
	var next atomic.Int64
	for range schedWorkers {
		g.Go(func() error {
			for {
				i := int(next.Add(1) - 1)
				switch {
				case i < nodes:
					n := &api.Node{ObjectMeta: store.ObjectMeta{Name: fmt.Sprintf("node-%05d", i),
						Labels: map[string]string{"kubernetes.io/hostname": fmt.Sprintf("node-%05d", i)}}}
					rl := api.ResourceList{"cpu": api.MustParse("4"), "memory": api.MustParse("32Gi"), "pods": api.MustParse("110")}
					n.Status.Capacity, n.Status.Allocatable = rl, rl
					n.Status.Conditions = []api.NodeCondition{{Type: "Ready", Status: api.ConditionTrue}}
					if _, err := cs.Nodes().Create(gctx, n); err != nil {
						return err
					}
				case i < nodes+pods:
					p := &api.Pod{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("pod-%05d", i-nodes)}}
					p.Spec.Containers = []api.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10",
						Resources: api.ResourceRequirements{Requests: api.ResourceList{"cpu": api.MustParse("100m"), "memory": api.MustParse("500Mi")}}}}
					if _, err := cs.Pods().Create(gctx, p); err != nil {
						return err
					}
				default:
					return nil
				}
			}
		})
	}
	return g.Wait()
}

func runOurs(ctx context.Context, c *schedCluster) error {
	cs, err := client.New(client.Config{Kubeconfig: c.kubeconfig, QPS: schedQPS, Burst: schedBurst})
	if err != nil {
		return err
	}
	s, err := scheduler.New(scheduler.Config{Client: cs})
	if err != nil {
		return err
	}
	go s.Run(ctx)
	return nil
}

func runKubeScheduler(ctx context.Context, c *schedCluster) error {
	rc, err := clientcmd.RESTConfigFromKubeConfig(c.kubeconfig)
	if err != nil {
		return err
	}
	rc.QPS, rc.Burst = schedQPS, schedBurst
	rc.ContentType = "application/json"
	rc.AcceptContentTypes = "application/json"
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	cfg, err := latest.Default()
	if err != nil {
		return err
	}
	keep := map[string]bool{"PrioritySort": true, "NodeUnschedulable": true, "NodeName": true, "TaintToleration": true,
		"NodeAffinity": true, "NodePorts": true, "NodeResourcesFit": true, "NodeResourcesBalancedAllocation": true, "DefaultBinder": true}
	prof := cfg.Profiles[0]
	var enabled []schedconfig.Plugin
	for _, p := range prof.Plugins.MultiPoint.Enabled {
		if keep[p.Name] {
			enabled = append(enabled, p)
		}
	}
	prof.Plugins.MultiPoint.Enabled = enabled
	var args []schedconfig.PluginConfig
	for _, a := range prof.PluginConfig {
		if keep[a.Name] {
			args = append(args, a)
		}
	}
	prof.PluginConfig = args
	informers := kubescheduler.NewInformerFactory(cs, 0, nil)
	bc := events.NewBroadcaster(&events.EventSinkImpl{Interface: cs.EventsV1()})
	bc.StartRecordingToSink(ctx.Done())
	go func() { <-ctx.Done(); bc.Shutdown() }()
	sched, err := kubescheduler.New(ctx, cs, informers, nil, profile.NewRecorderFactory(bc),
		kubescheduler.WithProfiles(prof),
		kubescheduler.WithPercentageOfNodesToScore(cfg.PercentageOfNodesToScore),
		kubescheduler.WithParallelism(16),
		kubescheduler.WithPodInitialBackoffSeconds(cfg.PodInitialBackoffSeconds),
		kubescheduler.WithPodMaxBackoffSeconds(cfg.PodMaxBackoffSeconds))
	if err != nil {
		return err
	}
	informers.Start(ctx.Done())
	// Our apiserver serves neither resource.k8s.io nor CSINode, whose
	// informers kube-scheduler starts whatever its plugins: wait only for
	// the pods and nodes (those lists keep failing and retrying).
	go func() {
		cache.WaitForCacheSync(ctx.Done(), informers.Core().V1().Pods().Informer().HasSynced,
			informers.Core().V1().Nodes().Informer().HasSynced)
		sched.Run(ctx)
	}()
	return nil
}

// runBindFloor binds every pod to a node round-robin with raw POSTs.
func runBindFloor(ctx context.Context, c *schedCluster) error {
	cs, err := client.New(client.Config{Kubeconfig: c.kubeconfig, QPS: schedQPS, Burst: schedBurst})
	if err != nil {
		return err
	}
	hc, server := cs.HTTPClient(), cs.Server()
	var next atomic.Int64
	var mu sync.Mutex
	var firstErr error
	for range schedWorkers {
		go func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= c.pods || ctx.Err() != nil {
					return
				}
				name := fmt.Sprintf("pod-%05d", i)
				body := fmt.Sprintf(`{"apiVersion":"v1","kind":"Binding","metadata":{"name":%q},"target":{"kind":"Node","name":"node-%05d"}}`, name, i%100)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, server+"/api/v1/namespaces/default/pods/"+url.PathEscape(name)+"/binding", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := hc.Do(req)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != http.StatusCreated {
						err = fmt.Errorf("binding %s: %s", name, resp.Status)
					}
				}
				if err != nil && !errors.Is(err, context.Canceled) {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
						fmt.Fprintln(os.Stderr, "bind floor:", err)
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	return nil
}
