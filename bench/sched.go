package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
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
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/scheduler"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
	"github.com/setpoint-dev/setpoint/examples/scheduler/plugins"
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
// settings). Our client speaks JSON only, so the anchor's client is set
// to JSON too: both schedulers pay the same wire costs on the shared
// apiserver, and the comparison is of the schedulers.
//
// sched-basic-5000n-floor: the physical floor beside it: raw pods/binding
// POSTs per second on the same kind of apiserver with the same client
// limits, 64 at a time.
//
// sched-antiaffinity-1000n: 1,000 nodes in 10 zones and 3,000 pending
// pods in three groups; each pod has required anti-affinity to its own
// group by hostname (so each node takes exactly one pod of each group, and
// the last pods of a group have one feasible node left) and preferred
// affinity (weight 100) to its own group by zone. Same measure, clients
// and floor as above; both schedulers run the basic plugins plus
// InterPodAffinity (ours: plugins.InterPodAffinity; the anchor's with its
// default arguments).
const (
	schedQPS     = 5000
	schedBurst   = 5000
	schedNodes   = 5000
	schedPods    = 10000
	schedWorkers = 64

	antiNodes  = 1000
	antiPods   = 3000
	antiZones  = 10
	antiGroups = 3
)

var (
	schedScale = flag.Float64("sched-scale", 1, "scale the scheduler benchmark's nodes and pods (for quick checks)")
	schedProf  = flag.String("sched-cpuprofile", "", "with -sched-only: write a CPU profile of each case's timed part (scheduling, not set-up) to this file name plus \".<case>\"")
	schedCases = flag.String("sched-case", "", "run only the scheduler benchmark cases whose name contains this")
	schedOnly  = flag.String("sched-only", "", "run only this side of the scheduler benchmarks (ours, anchor or floor; for profiling): no BENCH lines, the figure goes to stderr")
)

func init() {
	register("scheduler", benchScheduler)
}

func benchScheduler(ctx context.Context) ([]Result, error) {
	if os.Getenv("SCHED_BENCH_KLOG") == "" {
		klog.SetLogger(logr.Discard())
	}
	var out []Result
	basic := schedCase{name: "sched-basic-5000n", nodes: schedNodes, pods: schedPods, ours: basicPlugins, anchor: basicKube}
	anti := schedCase{name: "sched-antiaffinity-1000n", nodes: antiNodes, pods: antiPods, zones: antiZones, pod: antiAffinityPod,
		ours:   func() []framework.Plugin { return append(basicPlugins(), plugins.NewInterPodAffinity(0)) },
		anchor: withKube(basicKube, "InterPodAffinity")}
	for _, c := range []schedCase{basic, anti} {
		if !strings.Contains(c.name, *schedCases) {
			continue
		}
		rs, err := c.run(ctx)
		if err != nil {
			return out, fmt.Errorf("%s: %w", c.name, err)
		}
		out = append(out, rs...)
	}
	return out, nil
}

// schedCase is one scheduler benchmark: a cluster shape, the pods'
// extra spec, and the plugins of both schedulers.
type schedCase struct {
	name        string
	nodes, pods int
	zones       int                     // 0: no zone labels
	pod         func(i int, p *api.Pod) // nil: the basic pod
	ours        func() []framework.Plugin
	anchor      map[string]bool
}

func (c schedCase) run(ctx context.Context) ([]Result, error) {
	c.nodes = max(1, int(float64(c.nodes)**schedScale))
	c.pods = max(1, int(float64(c.pods)**schedScale))
	name := c.name
	if *schedScale != 1 {
		name = fmt.Sprintf("%s-scale%g", c.name, *schedScale)
	}
	if *schedOnly != "" {
		run := map[string]schedRunner{"ours": runOurs(c.ours), "anchor": runKubeScheduler(c.anchor), "floor": runBindFloor}[*schedOnly]
		if run == nil {
			return nil, fmt.Errorf("-sched-only=%q: want ours, anchor or floor", *schedOnly)
		}
		v, err := schedRun(ctx, c, run)
		fmt.Fprintf(os.Stderr, "%s %s: %.1f pods/s\n", name, *schedOnly, v)
		return nil, err
	}
	ours, err := schedRun(ctx, c, runOurs(c.ours))
	if err != nil {
		return nil, fmt.Errorf("ours: %w", err)
	}
	anchor, err := schedRun(ctx, c, runKubeScheduler(c.anchor))
	if err != nil {
		return nil, fmt.Errorf("kube-scheduler: %w", err)
	}
	floor, err := schedRun(ctx, c, runBindFloor)
	if err != nil {
		return nil, fmt.Errorf("binding floor: %w", err)
	}
	return []Result{
		{Name: name, Ours: ours, Anchor: anchor, Unit: "pods/s", HigherIsBetter: true},
		{Name: name + "-floor", Ours: floor, Unit: "bindings/s", HigherIsBetter: true},
	}, nil
}

// basicPlugins is our profile of kube-scheduler's basic plugins.
func basicPlugins() []framework.Plugin {
	fit, _ := plugins.NewNodeResourcesFit(plugins.FitArgs{})
	return []framework.Plugin{plugins.NodeUnschedulable{}, plugins.NodeName{}, plugins.TaintToleration{},
		plugins.NodeAffinity{}, plugins.NodePorts{}, fit, plugins.BalancedAllocation{}}
}

// basicKube is the anchor's matching set of plugins.
var basicKube = map[string]bool{"PrioritySort": true, "NodeUnschedulable": true, "NodeName": true, "TaintToleration": true,
	"NodeAffinity": true, "NodePorts": true, "NodeResourcesFit": true, "NodeResourcesBalancedAllocation": true, "DefaultBinder": true}

func withKube(base map[string]bool, more ...string) map[string]bool {
	out := map[string]bool{}
	for k := range base {
		out[k] = true
	}
	for _, k := range more {
		out[k] = true
	}
	return out
}

// antiAffinityPod puts pod i in group i%antiGroups, anti-affine to its
// group by hostname and preferring its group's zone.
func antiAffinityPod(i int, p *api.Pod) {
	g := fmt.Sprintf("g%d", i%antiGroups)
	p.Labels = map[string]string{"group": g}
	sel := &api.LabelSelector{MatchLabels: map[string]string{"group": g}}
	p.Spec.Affinity = &api.Affinity{
		PodAntiAffinity: &api.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []api.PodAffinityTerm{
			{TopologyKey: api.LabelHostname, LabelSelector: sel}}},
		PodAffinity: &api.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []api.WeightedPodAffinityTerm{
			{Weight: 100, PodAffinityTerm: api.PodAffinityTerm{TopologyKey: api.LabelTopologyZone, LabelSelector: sel}}}},
	}
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
func schedRun(ctx context.Context, sc schedCase, fn schedRunner) (float64, error) {
	pods := sc.pods
	kc, cs, cleanup, err := freshAPIServer(ctx, "setpoint-bench-sched-", 2000)
	if err != nil {
		return 0, err
	}
	defer cleanup()
	if err := schedPopulate(ctx, cs, sc); err != nil {
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
	if *schedProf != "" && *schedOnly != "" {
		f, err := os.Create(*schedProf + "." + sc.name)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return 0, err
		}
		defer pprof.StopCPUProfile()
	}
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

func schedPopulate(ctx context.Context, cs *client.Clientset, sc schedCase) error {
	nodes, pods := sc.nodes, sc.pods
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
					if sc.zones > 0 {
						n.Labels[api.LabelTopologyZone] = fmt.Sprintf("zone-%d", i%sc.zones)
					}
					if _, err := cs.Nodes().Create(gctx, n); err != nil {
						return err
					}
				case i < nodes+pods:
					p := &api.Pod{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("pod-%05d", i-nodes)}}
					p.Spec.Containers = []api.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10",
						Resources: api.ResourceRequirements{Requests: api.ResourceList{"cpu": api.MustParse("100m"), "memory": api.MustParse("500Mi")}}}}
					if sc.pod != nil {
						sc.pod(i-nodes, p)
					}
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

// runOurs runs examples/scheduler with one profile of the given plugins.
func runOurs(pls func() []framework.Plugin) schedRunner {
	return func(ctx context.Context, c *schedCluster) error {
		return runOursProfile(ctx, c, pls())
	}
}

func runOursProfile(ctx context.Context, c *schedCluster, pls []framework.Plugin) error {
	cs, err := client.New(client.Config{Kubeconfig: c.kubeconfig, QPS: schedQPS, Burst: schedBurst})
	if err != nil {
		return err
	}
	s, err := scheduler.New(scheduler.Config{Client: cs, Profiles: []scheduler.Profile{{SchedulerName: scheduler.DefaultSchedulerName, Plugins: pls}}})
	if err != nil {
		return err
	}
	go s.Run(ctx)
	return nil
}

// runKubeScheduler runs kube-scheduler with its default profile cut
// down to the plugins in keep.
func runKubeScheduler(keep map[string]bool) schedRunner {
	return func(ctx context.Context, c *schedCluster) error {
		return runKubeSchedulerPlugins(ctx, c, keep)
	}
}

func runKubeSchedulerPlugins(ctx context.Context, c *schedCluster, keep map[string]bool) error {
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
