package kubelet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/kubelet/server"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// Kubelet runs the pods bound to one node; see the package documentation.
type Kubelet struct {
	cfg    Config
	log    *slog.Logger
	rt     runtime.Runtime
	pods   *rest.Client[*api.Pod] // this node's pods (field selector)
	inf    *informer.Informer[*api.Pod]
	svcs   *informer.Informer[*api.Service] // every namespace's Services (service env)
	ctl    *reconcile.Controller[reconcile.Request]
	ev     *recorder
	met    *metrics
	health health
	srv    *server.Server // the HTTPS API (nil: none)
	// beforeStatusWrite, set only by tests, runs between reading the
	// Node and writing its status (to make another writer interleave).
	beforeStatusWrite func()

	mu      sync.Mutex
	backoff map[string]*backoffEntry              // by pod UID + "/" + container (and "pull/...")
	waiting map[string]*api.ContainerStateWaiting // why a container waits, same keys
	// probers by container ID, the pod UID of each, and the context they
	// run in (Run's; nil before Run).
	// written: the last status the kubelet wrote of each pod (by UID),
	// until the pod cache has caught up with it.
	written   map[string]writtenStatus
	probers   map[string]*prober
	proberPod map[string]string
	probeCtx  context.Context

	vols volumeState   // the pods' volumes (volumes.go)
	objs objectWatches // the watches of the pods' ConfigMaps and Secrets (objects.go)
}

// New checks cfg and builds a Kubelet; it sends no request.
func New(cfg Config) (*Kubelet, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	k := &Kubelet{cfg: cfg, log: cfg.Logger.With("node", cfg.NodeName), rt: cfg.Runtime, backoff: map[string]*backoffEntry{}, written: map[string]writtenStatus{}}
	cs := cfg.Client
	pods, err := rest.NewClient[*api.Pod](cs.HTTPClient(), cs.Server(), cs.Pods().Resource(),
		rest.WithFieldSelector("spec.nodeName="+cfg.NodeName))
	if err != nil {
		return nil, fmt.Errorf("kubelet: %w", err)
	}
	k.pods = pods
	if k.met, err = newMetrics(cfg.Registerer); err != nil {
		return nil, err
	}
	k.ev = &recorder{events: cs.Events(), node: cfg.NodeName, clock: cfg.Clock, log: k.log}
	inf, err := informer.New[*api.Pod](pods, informer.Config[*api.Pod]{
		Name: "kubelet-pods", Clock: cfg.Clock, Logger: k.log, Registerer: cfg.Registerer})
	if err != nil {
		return nil, fmt.Errorf("kubelet: %w", err)
	}
	// The Services for the service environment variables, from a watch as
	// Kubernetes' kubelet reads them, not a list per container start.
	svcs, err := informer.New[*api.Service](cs.Services(), informer.Config[*api.Service]{
		Name: "kubelet-services", Clock: cfg.Clock, Logger: k.log,
		Indexers: map[string]informer.IndexFunc[*api.Service]{informer.NamespaceIndex: informer.IndexByNamespace[*api.Service]}})
	if err != nil {
		return nil, fmt.Errorf("kubelet: %w", err)
	}
	k.svcs = svcs
	ctl, err := reconcile.New(reconcile.Config[reconcile.Request]{
		Name: "kubelet", Reconciler: reconcile.Func[reconcile.Request](k.syncPod), Workers: cfg.Workers,
		Clock: cfg.Clock, Logger: k.log, Registerer: cfg.Registerer, MaxRetryDelay: cfg.SyncPeriod * 10})
	if err != nil {
		return nil, fmt.Errorf("kubelet: %w", err)
	}
	if _, err := inf.AddHandler(reconcile.EnqueueKey[*api.Pod](ctl.Queue())); err != nil {
		return nil, fmt.Errorf("kubelet: %w", err)
	}
	k.inf, k.ctl = inf, ctl
	if k.srv, err = k.newServer(); err != nil {
		return nil, fmt.Errorf("kubelet: %w", err)
	}
	return k, nil
}

// Run registers the node, then runs the node's pods, renews its Lease and
// reports its status until ctx ends; it returns nil then, or the error
// that stopped it.
func (k *Kubelet) Run(ctx context.Context) error {
	if err := k.registerNode(ctx); err != nil {
		// Run the pod informer on an ended context, so that it stops
		// the handlers New added (they end with its Run).
		done, cancel := context.WithCancel(ctx)
		cancel()
		_ = k.inf.Run(done)
		_ = k.svcs.Run(done)
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	k.mu.Lock()
	k.probeCtx = gctx
	k.mu.Unlock()
	g.Go(func() error { return k.inf.Run(gctx) })
	g.Go(func() error { return k.svcs.Run(gctx) })
	g.Go(func() error { return k.runLease(gctx) })
	g.Go(func() error { return k.runNodeStatus(gctx) })
	g.Go(func() error { return k.runStaticPods(gctx) })
	g.Go(func() error { return k.runRelist(gctx) })
	if k.srv != nil {
		g.Go(func() error { return k.srv.Run(gctx) })
	}
	g.Go(func() error {
		if err := k.inf.WaitForSync(gctx); err != nil {
			if gctx.Err() != nil {
				return nil
			}
			return err
		}
		k.health.synced.Store(true)
		// Pods the runtime holds but the apiserver no longer lists (deleted
		// while the kubelet was down) are synced too, and so removed.
		if err := k.enqueueOrphans(gctx); err != nil && gctx.Err() == nil {
			k.log.Warn("listing the runtime's sandboxes", "err", err)
		}
		return k.ctl.Run(gctx)
	})
	err := g.Wait()
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		return nil
	}
	return err
}

// enqueueOrphans adds the pod of every sandbox on the runtime to the queue.
func (k *Kubelet) enqueueOrphans(ctx context.Context) error {
	sbs, err := k.rt.ListSandboxes(ctx, runtime.SandboxFilter{})
	if err != nil {
		return err
	}
	for _, sb := range sbs {
		k.ctl.Queue().Add(reconcile.Request{Namespace: sb.Namespace, Name: sb.Name})
	}
	return nil
}

// NodeName returns the name of the node the kubelet runs.
func (k *Kubelet) NodeName() string { return k.cfg.NodeName }

// Runtime returns the runtime the kubelet runs pods on, for the streaming
// endpoints (exec, attach, port-forward, logs) built on the Kubelet.
func (k *Kubelet) Runtime() runtime.Runtime { return k.rt }

// PodContainers are the runtime's handles of one pod: its current sandbox
// and, by container name, the ID of the latest attempt of each container
// (init containers included).
type PodContainers struct {
	// UID is the pod's UID.
	UID string
	// SandboxID is the ID of the pod's newest sandbox ("" when none).
	SandboxID string
	// Containers maps a container name to the ID of its latest attempt.
	Containers map[string]string
	// Previous maps a container name to the ID of the attempt before the
	// latest, while the runtime keeps it (for logs --previous).
	Previous map[string]string
}

// ErrPodNotFound: the kubelet runs no pod of that namespace and name.
var ErrPodNotFound = errors.New("kubelet: pod not found on this node")

// LookupPod returns the runtime handles of the pod namespace/name that the
// kubelet runs; ErrPodNotFound when it runs none.
func (k *Kubelet) LookupPod(ctx context.Context, namespace, name string) (PodContainers, error) {
	pod, ok := k.inf.Get(namespace, name)
	if !ok {
		return PodContainers{}, fmt.Errorf("%w: %s/%s", ErrPodNotFound, namespace, name)
	}
	rs, err := k.observe(ctx, pod)
	if err != nil {
		return PodContainers{}, err
	}
	if rs.sandbox == nil {
		return PodContainers{}, fmt.Errorf("%w: %s/%s has no sandbox yet", ErrPodNotFound, namespace, name)
	}
	pc := PodContainers{UID: string(pod.UID), SandboxID: rs.sandbox.ID, Containers: map[string]string{}, Previous: map[string]string{}}
	for name, cs := range rs.containers {
		pc.Containers[name] = cs.latest.ID
		if cs.previous != nil {
			pc.Previous[name] = cs.previous.ID
		}
	}
	return pc, nil
}

// podKey names a pod in logs.
func podKey(p *api.Pod) string { return p.Namespace + "/" + p.Name }

// isNotFound reports a missing object or runtime entity.
func isNotFound(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, runtime.ErrNotFound)
}
