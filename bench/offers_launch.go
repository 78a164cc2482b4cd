package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/offers"
	"github.com/setpoint-dev/setpoint/examples/offers/framework"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// offers-launch: tasks launched per second through two-level scheduling,
// from the framework's first offer until a watch has seen every task pod
// Running, on kfNodes simulated nodes (whole example kubelets on fake
// runtimes, as in kubelet-fake). Ours: the allocator (offers.Controller)
// offers the nodes to one framework written on examples/offers/framework,
// which accepts every offer with as many one-CPU tasks as it holds
// (offers answered concurrently); the driver creates the task pods, names
// them in the offer, the allocator binds them, the kubelets run them. The
// anchor is the physical floor on the same kind of apiserver and nodes: the
// same pods created and bound with raw pods/binding POSTs, 64 at a time,
// until Running. Each figure is the best of launchRounds runs, the two
// sides alternating. Goal: ratio >= 0.7.
const (
	launchTasks   = 2000
	launchWorkers = 64
	launchRounds  = 3
)

// launchTask is one task's resources: one CPU of a simulated node's 32,
// so a node holds 32 tasks (under its 110-pod limit).
var launchTask = api.ResourceList{api.ResourceCPU: api.MustParse("1"), api.ResourceMemory: api.MustParse("256Mi")}

func init() { register("offers-launch", benchOffersLaunch) }

func benchOffersLaunch(ctx context.Context) ([]Result, error) {
	// each side's best of launchRounds, the two alternating: one run of
	// about ten seconds on the shared two-core machine varied by a factor
	// of two from run to run, on either side
	var ours, floor float64
	for range launchRounds {
		r, err := launchRun(ctx, launchOffers)
		if err != nil {
			return nil, fmt.Errorf("offers: %w", err)
		}
		ours = max(ours, r)
		if r, err = launchRun(ctx, launchBindings); err != nil {
			return nil, fmt.Errorf("binding floor: %w", err)
		}
		floor = max(floor, r)
	}
	return []Result{{Name: "offers-launch", Ours: ours, Anchor: floor, Unit: "tasks/s", HigherIsBetter: true}}, nil
}

// launcher launches launchTasks task pods on a ready cluster; it calls
// start when its clock starts (the first offer, or the first create).
type launcher func(ctx context.Context, kc []byte, cs *client.Clientset, start func()) error

// launchRun brings up an apiserver serving the offers group and kfNodes
// simulated nodes, runs launch, and returns task pods Running per second.
func launchRun(ctx context.Context, launch launcher) (rate float64, err error) {
	dir, err := os.MkdirTemp("", "setpoint-bench-offers-launch-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	srv, stop, err := startAPIServer(ctx, apiserver.Config{DataDir: filepath.Join(dir, "data"), Listen: "127.0.0.1:0",
		EtcdNoFsync: true, EtcdLogLevel: "off", MaxInflight: 2000,
		ExtraKinds: []apiserver.ExtraKind{apiserver.Serve(offers.FrameworkKind), apiserver.Serve(offers.OfferKind)}})
	if err != nil {
		return 0, err
	}
	defer func() { err = errors.Join(err, stop()) }()
	kc, err := srv.Kubeconfig()
	if err != nil {
		return 0, err
	}
	cs, err := client.New(client.Config{Kubeconfig: kc, QPS: -1})
	if err != nil {
		return 0, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(runCtx)
	defer func() {
		cancel()
		if werr := g.Wait(); werr != nil && err == nil && ctx.Err() == nil && !errors.Is(werr, context.Canceled) {
			err = werr
		}
	}()
	if err := kfStartKubelets(gctx, g, kc, dir); err != nil {
		return 0, err
	}
	if err := kfNodesReady(gctx, cs); err != nil {
		return 0, err
	}
	l, err := cs.Pods().List(ctx, framework.DefaultNamespace, store.ListOptions{Limit: 1})
	if err != nil {
		return 0, err
	}
	w, err := cs.Pods().Watch(ctx, framework.DefaultNamespace, store.WatchOptions{AfterRevision: l.Revision})
	if err != nil {
		return 0, err
	}
	defer w.Stop()
	var startOnce sync.Once
	var start time.Time
	started := make(chan struct{})
	launched := make(chan error, 1)
	g.Go(func() error {
		err := launch(gctx, kc, cs, func() { startOnce.Do(func() { start = time.Now(); close(started) }) })
		launched <- err
		return nil
	})
	running := make(map[string]bool, launchTasks)
	timeout := time.NewTimer(10 * time.Minute)
	defer timeout.Stop()
	for len(running) < launchTasks {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				return 0, fmt.Errorf("pod watch ended: %v", w.Err())
			}
			switch {
			case ev.Type == watch.Deleted:
				delete(running, ev.Object.Name)
			case ev.Object.Status.Phase == api.PodRunning:
				running[ev.Object.Name] = true
			case ev.Object.Status.Phase == api.PodFailed:
				return 0, fmt.Errorf("task pod %s failed: %s %s", ev.Object.Name, ev.Object.Status.Reason, ev.Object.Status.Message)
			}
		case err := <-launched:
			if err != nil {
				return 0, err
			}
			launched = nil
		case <-gctx.Done():
			return 0, fmt.Errorf("%d of %d tasks Running: %w", len(running), launchTasks, context.Cause(gctx))
		case <-timeout.C:
			return 0, fmt.Errorf("only %d of %d tasks Running in 10 minutes", len(running), launchTasks)
		}
	}
	<-started
	return launchTasks / time.Since(start).Seconds(), nil
}

// launchOffers runs the allocator and a framework that accepts each offer
// with as many of its tasks as fit, answering offers concurrently.
func launchOffers(ctx context.Context, _ []byte, cs *client.Clientset, start func()) error {
	ctl, err := offers.NewController(offers.ControllerConfig{Client: cs, Identity: "bench"})
	if err != nil {
		return err
	}
	d, err := framework.New(framework.Config{Client: cs, Framework: &offersapi.Framework{
		ObjectMeta: store.ObjectMeta{Name: "bench"}, Spec: offersapi.FrameworkSpec{TaskResources: launchTask}},
		Image: runtimetest.TestImageName})
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return ctl.Run(gctx) })
	g.Go(func() error { return d.Run(gctx) })
	g.Go(func() error {
		next := 0
		var answers sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		for next < launchTasks {
			var o offersapi.Offer
			select {
			case <-gctx.Done():
				return nil
			case o = <-d.Offers():
			}
			start()
			n := min(framework.HowMany(o.Spec.Resources, launchTask), launchTasks-next)
			if n <= 0 {
				continue
			}
			tasks := make([]framework.Task, n)
			for i := range tasks {
				tasks[i] = framework.Task{Name: fmt.Sprintf("task-%05d", next+i), Resources: launchTask,
					Command: []string{runtimetest.TestBinary, "wait"}}
			}
			next += n
			answers.Add(1)
			go func() {
				defer answers.Done()
				if err := d.Accept(gctx, o, tasks); err != nil && gctx.Err() == nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("accepting offer %s (node %s): %w", o.Name, o.Spec.Node, err)
					}
					mu.Unlock()
				}
			}()
		}
		answers.Wait()
		return firstErr
	})
	return g.Wait()
}

// launchBindings creates and binds the same task pods directly, round
// robin over the nodes (32 per node, as the offers fill them).
func launchBindings(ctx context.Context, kc []byte, cs *client.Clientset, start func()) error {
	bc, err := client.New(client.Config{Kubeconfig: kc, QPS: -1})
	if err != nil {
		return err
	}
	hc, server := bc.HTTPClient(), bc.Server()
	start()
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range launchWorkers {
		g.Go(func() error {
			for {
				i := int(next.Add(1) - 1)
				if i >= launchTasks {
					return nil
				}
				p := &api.Pod{ObjectMeta: store.ObjectMeta{Namespace: framework.DefaultNamespace, Name: fmt.Sprintf("task-%05d", i)}}
				p.Spec.SchedulerName = "bench-floor"
				p.Spec.RestartPolicy = api.RestartPolicyNever
				p.Spec.Containers = []api.Container{{Name: "task", Image: runtimetest.TestImageName,
					Command:   []string{runtimetest.TestBinary, "wait"},
					Resources: api.ResourceRequirements{Requests: launchTask, Limits: launchTask}}}
				if _, err := cs.Pods().Create(gctx, p); err != nil {
					return err
				}
				body := fmt.Sprintf(`{"apiVersion":"v1","kind":"Binding","metadata":{"name":%q},"target":{"kind":"Node","name":%q}}`,
					p.Name, kfNodeName(i/32%kfNodes))
				req, _ := http.NewRequestWithContext(gctx, http.MethodPost, server+"/api/v1/namespaces/"+p.Namespace+"/pods/"+url.PathEscape(p.Name)+"/binding", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := hc.Do(req)
				if err != nil {
					return err
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					return fmt.Errorf("binding %s: %s", p.Name, resp.Status)
				}
			}
		})
	}
	return g.Wait()
}
