package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/policy"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
	"github.com/setpoint-dev/setpoint/informer"
)

// Scheduler assigns pods to nodes; see the package documentation.
type Scheduler struct {
	cfg      Config
	log      *slog.Logger
	profiles map[string]*profile
	cache    *cache
	queue    *queue
	pods     *informer.Informer[*api.Pod]
	nodes    *informer.Informer[*api.Node]
	nss      *informer.Informer[*api.Namespace]
	pdbs     *informer.Informer[*policy.PodDisruptionBudget]
	vols     *volumeClient
	groups   groupInformers
	// waiting holds the pods Permit plugins hold, by UID.
	waitingMu sync.Mutex
	waiting   map[string]*framework.WaitingPod
	debug     *attempts
	events    *controllerutil.Recorder
	metrics   *metrics
	ready     atomic.Bool
	bindSem   chan struct{}
	elector   *election.Elector
	lost      chan struct{}
	// nextStart rotates where the search for feasible nodes starts, so
	// that with percentageOfNodesToScore every node gets its turn.
	nextStart atomic.Int64
	// batch is the last cycle's candidates for the next pod with the
	// same signature (scheduling goroutine only).
	batch *batch
}

// New checks cfg and builds the scheduler; it sends no request.
func New(cfg Config) (*Scheduler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Scheduler{cfg: cfg, log: cfg.Logger.With("component", "scheduler"), profiles: map[string]*profile{},
		cache: newCache(), queue: newQueue(cfg.Clock, cfg.InitialBackoff, cfg.MaxBackoff),
		debug: newAttempts(), bindSem: make(chan struct{}, cfg.BindWorkers), waiting: map[string]*framework.WaitingPod{}}
	binder := defaultBinder{hc: cfg.Client.HTTPClient(), server: cfg.Client.Server()}
	if err := s.newVolumeClient(); err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	if err := s.newGroupInformers(); err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	for _, p := range cfg.Profiles {
		s.profiles[p.SchedulerName] = newProfile(s, p, binder)
	}
	var err error
	if cfg.LeaderElection != nil {
		if err := s.newElector(cfg.LeaderElection); err != nil {
			return nil, fmt.Errorf("scheduler: %w", err)
		}
	}
	if s.events, err = controllerutil.NewRecorder(controllerutil.RecorderConfig{Client: cfg.Client.Events(),
		Component: cfg.Identity, Instance: cfg.Identity, Clock: cfg.Clock, Logger: s.log}); err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	if s.metrics, err = newMetrics(cfg.Registerer, s.queue); err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	for _, p := range s.profiles {
		p.m = s.metrics
	}
	if s.pods, err = informer.New[*api.Pod](cfg.Client.Pods(), informer.Config[*api.Pod]{
		Name: "scheduler-pods", Clock: cfg.Clock, Logger: s.log}); err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	if s.nodes, err = informer.New[*api.Node](cfg.Client.Nodes(), informer.Config[*api.Node]{
		Name: "scheduler-nodes", Clock: cfg.Clock, Logger: s.log}); err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	s.vols.nodes = s.nodes
	if s.nss, err = informer.New[*api.Namespace](cfg.Client.Namespaces(), informer.Config[*api.Namespace]{
		Name: "scheduler-namespaces", Clock: cfg.Clock, Logger: s.log}); err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	if s.pdbs, err = informer.New[*policy.PodDisruptionBudget](cfg.Client.PodDisruptionBudgets(), informer.Config[*policy.PodDisruptionBudget]{
		Name: "scheduler-pdbs", Clock: cfg.Clock, Logger: s.log}); err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	if _, err := s.nss.AddHandler(informer.HandlerFuncs[*api.Namespace]{
		// A namespace's labels decide namespaceSelectors of pod affinity.
		AddFunc: func(*api.Namespace, bool) { s.queue.moveAll() },
		UpdateFunc: func(old, n *api.Namespace) {
			if !maps.Equal(old.Labels, n.Labels) {
				s.queue.moveAll()
			}
		},
	}); err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	if _, err := s.pods.AddHandler(informer.HandlerFuncs[*api.Pod]{
		AddFunc:    func(p *api.Pod, _ bool) { s.onPod(nil, p) },
		UpdateFunc: func(old, p *api.Pod) { s.onPod(old, p) },
		DeleteFunc: func(p *api.Pod, _ bool) { s.onPodDelete(p) },
	}); err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	if _, err := s.nodes.AddHandler(informer.HandlerFuncs[*api.Node]{
		AddFunc:    func(n *api.Node, _ bool) { s.cache.setNode(n); s.queue.moveAll() },
		UpdateFunc: func(_, n *api.Node) { s.cache.setNode(n); s.queue.moveAll() },
		DeleteFunc: func(n *api.Node, _ bool) { s.cache.removeNode(n.Name) },
	}); err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	return s, nil
}

// Run watches pods and nodes and schedules pods one at a time (binding
// asynchronously) until ctx ends; it returns nil then, or the error that
// stopped it.
func (s *Scheduler) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.nodes.Run(gctx) })
	g.Go(func() error { return s.events.Run(gctx) })
	g.Go(func() error { return s.pods.Run(gctx) })
	g.Go(func() error { return s.nss.Run(gctx) })
	g.Go(func() error { return s.pdbs.Run(gctx) })
	g.Go(func() error { return s.vols.claims.Run(gctx) })
	g.Go(func() error { return s.vols.volumes.Run(gctx) })
	g.Go(func() error { return s.vols.classes.Run(gctx) })
	g.Go(func() error { return s.groups.services.Run(gctx) })
	g.Go(func() error { return s.groups.controllers.Run(gctx) })
	g.Go(func() error { return s.groups.replicaSets.Run(gctx) })
	g.Go(func() error { return s.groups.statefulSets.Run(gctx) })
	g.Go(func() error {
		if s.elector != nil {
			return s.runElected(gctx)
		}
		return s.schedule(gctx)
	})
	err := g.Wait()
	s.ready.Store(false)
	return err
}

// schedule waits for the caches, then schedules pods one at a time until
// ctx ends (nil) or a cache fails to sync.
func (s *Scheduler) schedule(ctx context.Context) error {
	if err := s.waitSynced(ctx); err != nil {
		return err
	}
	s.log.Info("caches synced; scheduling")
	for {
		qp := s.queue.pop(ctx)
		if qp == nil {
			return nil
		}
		s.scheduleOne(ctx, qp)
	}
}

// waitSynced waits for every informer's first list and then reports
// ready; nil also when ctx ended first.
func (s *Scheduler) waitSynced(ctx context.Context) error {
	for _, sync := range []func(context.Context) error{s.nodes.WaitForSync, s.pods.WaitForSync, s.nss.WaitForSync, s.pdbs.WaitForSync,
		s.vols.claims.WaitForSync, s.vols.volumes.WaitForSync, s.vols.classes.WaitForSync,
		s.groups.services.WaitForSync, s.groups.controllers.WaitForSync, s.groups.replicaSets.WaitForSync, s.groups.statefulSets.WaitForSync} {
		if err := sync(ctx); err != nil {
			return ignoreDone(ctx, err)
		}
	}
	s.ready.Store(true)
	return nil
}

func ignoreDone(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func terminal(p *api.Pod) bool {
	return p.Status.Phase == api.PodSucceeded || p.Status.Phase == api.PodFailed
}

// onPod keeps the cache and the queue up to date with one pod.
func (s *Scheduler) onPod(old, p *api.Pod) {
	if p.Spec.NodeName != "" {
		s.queue.remove(p.Namespace, p.Name)
		if terminal(p) {
			s.cache.removePod(p.UID)
			s.queue.moveAll()
			return
		}
		s.cache.setPod(p)
		return
	}
	if _, ok := s.profiles[p.Spec.SchedulerName]; !ok || p.DeletionTimestamp != nil || terminal(p) {
		s.queue.remove(p.Namespace, p.Name)
		return
	}
	if s.cache.counted(p.UID) {
		return // assumed; the binding is in flight
	}
	if old != nil && !podChanged(old, p) {
		// Only the status (such as our own condition) changed: that does
		// not make the pod fit anywhere new.
		s.queue.refresh(p)
		return
	}
	s.queue.add(p)
}

// podChanged reports whether an update changed what scheduling reads.
func podChanged(old, p *api.Pod) bool {
	return !reflect.DeepEqual(old.Spec, p.Spec) || !maps.Equal(old.Labels, p.Labels) || !maps.Equal(old.Annotations, p.Annotations)
}

func (s *Scheduler) onPodDelete(p *api.Pod) {
	s.queue.remove(p.Namespace, p.Name)
	s.debug.forget(p.Namespace + "/" + p.Name)
	if w := s.WaitingPod(p.UID); w != nil {
		w.Reject("", "pod deleted while waiting for Permit")
	}
	if s.cache.counted(p.UID) {
		s.cache.removePod(p.UID)
		s.queue.moveAll()
	}
}

// scheduleOne runs one scheduling cycle for qp and, when a node is
// chosen, starts its binding.
func (s *Scheduler) scheduleOne(ctx context.Context, qp *queuedPod) {
	start := s.cfg.Clock.Now()
	pod := qp.pod
	// The informer may know better by now.
	if cur, ok := s.pods.Get(pod.Namespace, pod.Name); !ok || cur.UID != pod.UID || cur.Spec.NodeName != "" || cur.DeletionTimestamp != nil {
		s.queue.done(qp.key)
		return
	} else {
		pod = cur
	}
	prof := s.profiles[pod.Spec.SchedulerName]
	if prof == nil {
		s.queue.done(qp.key)
		return
	}
	log := s.log.With("pod", qp.key)
	info := framework.NewPodInfo(pod)
	state := framework.NewCycleState()
	markSampled(state)
	framework.WriteNamespaces(state, framework.NamespaceListerFunc(s.namespaceLabels))
	res := s.findNode(ctx, prof, state, info)
	if res.err == nil && res.node == "" {
		res.message = res.fitMessage()
		if res.preFilter == nil || res.preFilter.Code() == framework.Unschedulable {
			nominated, msgs, err := prof.runPostFilter(ctx, state, info, res.statuses)
			switch {
			case err != nil:
				log.Error("preemption failed", "err", err)
				msgs = append(msgs, "preemption: "+err.Error())
			case nominated != "":
				log.Info("nominated after preemption", "node", nominated)
			}
			if len(msgs) > 0 {
				res.message += " " + strings.Join(msgs, " ")
			}
		}
	}
	s.debug.record(qp.key, res.attempt(s.cfg.Clock.Now()))
	if res.err != nil {
		s.metrics.attempt("error", start, s.cfg.Clock)
		log.Error("scheduling failed", "err", res.err)
		s.event(ctx, pod, "Warning", "FailedScheduling", res.err.Error())
		s.queue.retry(qp, false)
		return
	}
	if res.node == "" {
		s.metrics.attempt("unschedulable", start, s.cfg.Clock)
		log.Info("unschedulable", "reason", res.message)
		s.event(ctx, pod, "Warning", "FailedScheduling", res.message)
		if err := s.setUnschedulable(ctx, pod, "Unschedulable", res.message); err != nil {
			log.Warn("setting the PodScheduled condition", "err", err)
		}
		s.queue.retry(qp, true)
		return
	}
	// Reserve and assume, then bind asynchronously.
	if err := s.cache.assume(info, res.node); err != nil {
		s.metrics.attempt("error", start, s.cfg.Clock)
		s.queue.retry(qp, false)
		return
	}
	if st := s.reserve(ctx, prof, state, info, res.node); !st.IsSuccess() {
		s.cache.forget(pod.UID)
		s.metrics.attempt("error", start, s.cfg.Clock)
		s.event(ctx, pod, "Warning", "FailedScheduling", st.Message())
		s.queue.retry(qp, !errors.Is(st.AsError(), errPermitRejected) && st.Code() != framework.Error)
		return
	}
	select {
	case s.bindSem <- struct{}{}:
	case <-ctx.Done():
		s.cache.forget(pod.UID)
		return
	}
	go func() {
		defer func() { <-s.bindSem }()
		s.bind(ctx, prof, state, info, res.node, qp, start)
	}()
}

var errPermitRejected = errors.New("rejected by a Permit plugin")

// reserve runs Reserve and Permit; on failure it unreserves.
func (s *Scheduler) reserve(ctx context.Context, prof *profile, state *framework.CycleState, info *framework.PodInfo, node string) (out *framework.Status) {
	sample, start := sampled(state), time.Now()
	for i, pl := range prof.reserve {
		pstart := time.Now()
		st := pl.Reserve(ctx, state, info, node)
		s.metrics.observePlugin(sample, pl.Name(), "Reserve", st, pstart)
		if !st.IsSuccess() {
			for j := i; j >= 0; j-- {
				prof.reserve[j].Unreserve(ctx, state, info, node)
			}
			s.metrics.observePoint("Reserve", prof.name, st, start)
			return st.WithPlugin(pl.Name())
		}
	}
	s.metrics.observePoint("Reserve", prof.name, nil, start)
	start = time.Now()
	defer func() { s.metrics.observePoint("Permit", prof.name, out, start) }()
	var waits map[string]time.Duration
	for _, pl := range prof.permit {
		pstart := time.Now()
		st, timeout := pl.Permit(ctx, state, info, node)
		s.metrics.observePlugin(sample, pl.Name(), "Permit", st, pstart)
		if st.IsSuccess() {
			continue
		}
		if st.IsWait() {
			if waits == nil {
				waits = map[string]time.Duration{}
			}
			waits[pl.Name()] = min(max(timeout, 0), maxPermitWait)
			continue
		}
		s.unreserve(ctx, prof, state, info, node)
		return st.WithPlugin(pl.Name())
	}
	if waits != nil {
		s.waitingMu.Lock()
		s.waiting[info.Pod.UID] = framework.NewWaitingPod(info.Pod, waits, s.cfg.Clock)
		s.waitingMu.Unlock()
	}
	return nil
}

// maxPermitWait caps a Permit plugin's wait, as Kubernetes' 15 minutes.
const maxPermitWait = 15 * time.Minute

// WaitingPod returns the pod with that UID if Permit plugins hold it, so
// that a plugin can Allow or Reject it; nil otherwise.
func (s *Scheduler) WaitingPod(uid string) *framework.WaitingPod {
	s.waitingMu.Lock()
	defer s.waitingMu.Unlock()
	return s.waiting[uid]
}

// waitPermit waits until the pod's waiting Permit plugins decide (at
// once when none waits) and forgets it.
func (s *Scheduler) waitPermit(ctx context.Context, uid string) *framework.Status {
	s.waitingMu.Lock()
	w := s.waiting[uid]
	s.waitingMu.Unlock()
	if w == nil {
		return nil
	}
	st := w.Wait(ctx)
	s.waitingMu.Lock()
	delete(s.waiting, uid)
	s.waitingMu.Unlock()
	return st
}

func (s *Scheduler) unreserve(ctx context.Context, prof *profile, state *framework.CycleState, info *framework.PodInfo, node string) {
	for j := len(prof.reserve) - 1; j >= 0; j-- {
		prof.reserve[j].Unreserve(ctx, state, info, node)
	}
}

// bind runs PreBind, Bind and PostBind; on failure it forgets the assumed
// pod and retries it with backoff.
func (s *Scheduler) bind(ctx context.Context, prof *profile, state *framework.CycleState, info *framework.PodInfo, node string, qp *queuedPod, start time.Time) {
	pod := info.Pod
	if st := s.waitPermit(ctx, pod.UID); !st.IsSuccess() {
		// Rejected (or timed out) while waiting: back to the
		// unschedulable set, as Kubernetes does.
		s.cache.forget(pod.UID)
		s.unreserve(ctx, prof, state, info, node)
		if ctx.Err() != nil {
			return
		}
		s.metrics.attempt("unschedulable", start, s.cfg.Clock)
		s.event(ctx, pod, "Warning", "FailedScheduling", st.Message())
		s.queue.retry(qp, st.Code() != framework.Error)
		s.queue.moveAll() // the forgotten pod's room is free again
		return
	}
	sample := sampled(state)
	st := func() *framework.Status {
		start := time.Now()
		for _, pl := range prof.preBind {
			pstart := time.Now()
			st := pl.PreBind(ctx, state, info, node)
			s.metrics.observePlugin(sample, pl.Name(), "PreBind", st, pstart)
			if !st.IsSuccess() {
				s.metrics.observePoint("PreBind", prof.name, st, start)
				return st.WithPlugin(pl.Name())
			}
		}
		s.metrics.observePoint("PreBind", prof.name, nil, start)
		start = time.Now()
		for _, pl := range prof.bind {
			pstart := time.Now()
			st := pl.Bind(ctx, state, pod, node)
			s.metrics.observePlugin(sample, pl.Name(), "Bind", st, pstart)
			if st.IsSkip() {
				continue
			}
			s.metrics.observePoint("Bind", prof.name, st, start)
			return st.WithPlugin(pl.Name())
		}
		return framework.NewStatus(framework.Error, "no Bind plugin bound the pod")
	}()
	if !st.IsSuccess() {
		s.cache.forget(pod.UID)
		s.unreserve(ctx, prof, state, info, node)
		if ctx.Err() != nil {
			return
		}
		s.metrics.attempt("error", start, s.cfg.Clock)
		s.log.Warn("binding failed", "pod", qp.key, "node", node, "err", st.AsError())
		s.event(ctx, pod, "Warning", "FailedScheduling", "Binding rejected: "+st.Message())
		s.queue.retry(qp, false)
		s.queue.moveAll() // the forgotten pod's room is free again
		return
	}
	s.queue.done(qp.key)
	s.metrics.attempt("scheduled", start, s.cfg.Clock)
	postStart := time.Now()
	for _, pl := range prof.postBind {
		pstart := time.Now()
		pl.PostBind(ctx, state, pod, node)
		s.metrics.observePlugin(sample, pl.Name(), "PostBind", nil, pstart)
	}
	s.metrics.observePoint("PostBind", prof.name, nil, postStart)
	s.event(ctx, pod, "Normal", "Scheduled", fmt.Sprintf("Successfully assigned %s/%s to %s", pod.Namespace, pod.Name, node))
}

// namespaceLabels serves namespace labels from the informer.
func (s *Scheduler) namespaceLabels(name string) (map[string]string, bool) {
	ns, ok := s.nss.Get("", name)
	if !ok {
		return nil, false
	}
	return ns.Labels, true
}
