package sim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// LabelWorkload is set to "true" on every Deployment, and so on every
// pod, that CreateWorkload makes.
const LabelWorkload = "setpoint.dev/sim-workload"

// DefaultReplicas is Workload.Replicas' default.
const DefaultReplicas = 100

// Workload is the pods a simulation runs: Pods pods in Deployments of
// Replicas pods (the last one smaller) spread round-robin across
// Namespaces namespaces named sim-0, sim-1, ...
type Workload struct {
	// Pods is the total number of pods.
	Pods int
	// Namespaces is how many namespaces hold the Deployments (default 1).
	Namespaces int
	// Replicas is each Deployment's size (default DefaultReplicas).
	Replicas int
	// Requests is each pod's single container's requests (default 10m
	// CPU and 32Mi memory, so the scheduler spreads the pods).
	Requests api.ResourceList
	// Concurrency is how many creates run at once (default 16).
	Concurrency int
}

// Validate reports the first invalid field; it changes nothing.
func (w *Workload) Validate() error {
	if w.Pods <= 0 || w.Namespaces < 0 || w.Replicas < 0 || w.Concurrency < 0 {
		return fmt.Errorf("sim: workload: Pods must be positive and Namespaces, Replicas and Concurrency not negative, got %+v", *w)
	}
	return nil
}

func (w Workload) withDefaults() Workload {
	if w.Namespaces == 0 {
		w.Namespaces = 1
	}
	if w.Replicas == 0 {
		w.Replicas = DefaultReplicas
	}
	if w.Requests == nil {
		w.Requests = api.ResourceList{api.ResourceCPU: api.MustParse("10m"), api.ResourceMemory: api.MustParse("32Mi")}
	}
	if w.Concurrency == 0 {
		w.Concurrency = 16
	}
	return w
}

// Namespace returns the name of the i-th workload namespace.
func Namespace(i int) string { return fmt.Sprintf("sim-%d", i) }

// CreateWorkload creates the namespaces (those that exist are kept) and
// the Deployments of w through cs; the controllers and the scheduler do
// the rest. It checks w first and creates nothing when it is invalid.
func CreateWorkload(ctx context.Context, cs *client.Clientset, w Workload) error {
	if err := w.Validate(); err != nil {
		return err
	}
	w = w.withDefaults()
	for i := range w.Namespaces {
		ns := &api.Namespace{ObjectMeta: store.ObjectMeta{Name: Namespace(i)}}
		err := retryBusy(ctx, func() error { _, err := cs.Namespaces().Create(ctx, ns); return err })
		if err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return fmt.Errorf("sim: creating namespace %s: %w", ns.Name, err)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(w.Concurrency)
	for i, left := 0, w.Pods; left > 0; i++ {
		n := min(left, w.Replicas)
		left -= n
		d := deployment(i, w.Namespaces, n, w.Requests)
		g.Go(func() error {
			err := retryBusy(gctx, func() error { _, err := cs.Deployments().Create(gctx, d); return err })
			if err != nil {
				return fmt.Errorf("sim: creating deployment %s/%s: %w", d.Namespace, d.Name, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// deployment is the i-th Deployment of the workload, of n pods.
func deployment(i, namespaces, n int, requests api.ResourceList) *apps.Deployment {
	labels := map[string]string{"app": fmt.Sprintf("sim-%05d", i), LabelWorkload: "true"}
	d := &apps.Deployment{ObjectMeta: store.ObjectMeta{Namespace: Namespace(i % namespaces), Name: fmt.Sprintf("sim-%05d", i),
		Labels: map[string]string{LabelWorkload: "true"}}}
	replicas := int32(n)
	d.Spec.Replicas = &replicas
	d.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": labels["app"]}}
	d.Spec.Template.Labels = labels
	d.Spec.Template.Spec.Containers = []api.Container{{Name: "app", Image: Image, ImagePullPolicy: api.PullNever,
		Args: []string{"wait"}, Resources: api.ResourceRequirements{Requests: requests}}}
	return d
}

// Progress counts the workload's pods.
type Progress struct {
	// Pods is how many workload pods exist; Scheduled how many are bound
	// to a node; Running how many report phase Running.
	Pods, Scheduled, Running int
}

// WaitRunning watches the workload's pods (LabelWorkload) until want of
// them report phase Running, and returns the last Progress; the error
// says how far it got when ctx ended first. onProgress, if not nil, is
// called with each change at most once a second.
func WaitRunning(ctx context.Context, cs *client.Clientset, want int, onProgress func(Progress)) (Progress, error) {
	sel, err := store.ParseSelector(LabelWorkload + "=true")
	if err != nil {
		return Progress{}, err
	}
	type state struct{ scheduled, running bool }
	pods := map[string]state{}
	var p Progress
	apply := func(key string, pod *api.Pod, deleted bool) {
		old, had := pods[key]
		now := state{scheduled: pod.Spec.NodeName != "", running: pod.Status.Phase == api.PodRunning}
		if deleted {
			now = state{}
			delete(pods, key)
		} else {
			pods[key] = now
		}
		p.Pods += b2i(!deleted) - b2i(had)
		p.Scheduled += b2i(now.scheduled) - b2i(old.scheduled)
		p.Running += b2i(now.running) - b2i(old.running)
	}
	for {
		var list *store.List[*api.Pod]
		err := retryBusy(ctx, func() (err error) {
			list, err = cs.Pods().List(ctx, "", store.ListOptions{Selector: sel})
			return err
		})
		if err != nil {
			return p, fmt.Errorf("sim: listing the workload's pods: %w", err)
		}
		pods, p = map[string]state{}, Progress{}
		for _, pod := range list.Items {
			apply(pod.Namespace+"/"+pod.Name, pod, false)
		}
		if p.Running >= want {
			return p, nil
		}
		w, err := cs.Pods().Watch(ctx, "", store.WatchOptions{Selector: sel, AfterRevision: list.Revision})
		if err != nil {
			return p, fmt.Errorf("sim: watching the workload's pods: %w", err)
		}
		last := time.Now()
		for p.Running < want {
			select {
			case ev, ok := <-w.Events():
				if !ok {
					break
				}
				if ev.Type == watch.Bookmark {
					continue
				}
				apply(ev.Object.Namespace+"/"+ev.Object.Name, ev.Object, ev.Type == watch.Deleted)
				if onProgress != nil && time.Since(last) >= time.Second {
					onProgress(p)
					last = time.Now()
				}
				continue
			case <-ctx.Done():
				w.Stop()
				return p, fmt.Errorf("sim: %d of %d pods Running (%d exist, %d scheduled): %w", p.Running, want, p.Pods, p.Scheduled, ctx.Err())
			}
			break // the watch ended: list again
		}
		w.Stop()
		if p.Running >= want {
			return p, nil
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// retryBusy calls f until it succeeds, fails otherwise than with the
// apiserver's 429 (watch.ErrTooSlow: an overloaded server asks to come
// back later), or ctx ends; it waits 100 ms doubling to 5 s in between.
func retryBusy(ctx context.Context, f func() error) error {
	clock := clockwork.NewRealClock()
	wait := 100 * time.Millisecond
	for {
		err := f()
		if !errors.Is(err, watch.ErrTooSlow) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-clock.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// NodeCount counts the simulated Nodes (LabelSimulated) and those Ready.
type NodeCount struct{ Nodes, Ready int }

// CountNodes lists the simulated Nodes through cs.
func CountNodes(ctx context.Context, cs *client.Clientset) (NodeCount, error) {
	sel, err := store.ParseSelector(LabelSimulated + "=true")
	if err != nil {
		return NodeCount{}, err
	}
	nodes, err := cs.Nodes().List(ctx, "", store.ListOptions{Selector: sel})
	if err != nil {
		return NodeCount{}, fmt.Errorf("sim: listing the simulated nodes: %w", err)
	}
	c := NodeCount{Nodes: len(nodes.Items)}
	for _, n := range nodes.Items {
		for _, cond := range n.Status.Conditions {
			if cond.Type == api.NodeReady && cond.Status == api.ConditionTrue {
				c.Ready++
			}
		}
	}
	return c, nil
}

// WaitNodesReady polls CountNodes every second until want simulated
// Nodes are Ready, and returns the last count; the error says how far it
// got when ctx ended first.
func WaitNodesReady(ctx context.Context, cs *client.Clientset, want int) (NodeCount, error) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last NodeCount
	for {
		c, err := CountNodes(ctx, cs)
		if err == nil {
			last = c
			if c.Ready >= want {
				return c, nil
			}
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("sim: %d of %d nodes Ready (%d registered): %w", last.Ready, want, last.Nodes, ctx.Err())
		case <-tick.C:
		}
	}
}
