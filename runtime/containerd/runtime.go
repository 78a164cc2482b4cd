package containerd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	tasks "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/setpoint-dev/setpoint/runtime"
)

// The runc shim every container runs under.
const shimRuntime = "io.containerd.runc.v2"

// Labels the runtime keeps its own state in, on containerd containers. They
// are not reported in statuses.
const (
	internalPrefix = runtime.ReservedLabelPrefix + "rt."
	labelKind      = internalPrefix + "kind" // kindSandbox or kindContainer
	labelState     = internalPrefix + "state"
	labelIP        = internalPrefix + "ip"
	labelNetNS     = internalPrefix + "netns"
	labelHostNet   = internalPrefix + "host-network"
	labelHostname  = internalPrefix + "hostname"
	labelStarted   = internalPrefix + "started"
	labelExitCode  = internalPrefix + "exit-code" // set when the task is reaped
	labelFinished  = internalPrefix + "finished"  // exit time, set with labelExitCode
	labelLogPath   = internalPrefix + "log-path"
	labelImageID   = internalPrefix + "image-id"
	labelDNS       = internalPrefix + "dns"   // "true": the sandbox has its own resolv.conf
	labelPorts     = internalPrefix + "ports" // the sandbox's port mappings, JSON
	labelStopped   = internalPrefix + "stopped"
	kindSandbox    = "sandbox"
	kindContainer  = "container"
)

// Runtime runs pods on a containerd daemon. Sandboxes are records in
// containerd (containers without a process) that own a network namespace
// pinned under Config.NetNSDir and attached through CNI; a pod's containers
// join that namespace. Everything lives in one containerd namespace and is
// labelled with its pod, so a new Runtime on the same daemon (and the same
// StateDir) sees and manages what an earlier one made.
type Runtime struct {
	cfg      Config
	client   *client.Client
	net      *network
	locks    keyedMutex
	metrics  *metrics
	unpacked sync.Map // image name@digest -> true, see unpack
	configs  sync.Map // manifest digest -> imageConfig
	portsMu  sync.Mutex

	copiersMu sync.Mutex
	copiers   map[string]*copier // by container ID
	closed    bool

	stopWatch context.CancelFunc
	watchDone chan struct{}
}

var _ runtime.Runtime = (*Runtime)(nil)

// New connects to the daemon at cfg.Address. It fails when the
// configuration is invalid or the daemon does not answer before ctx ends.
func New(ctx context.Context, cfg Config) (*Runtime, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	for _, dir := range []string{cfg.StateDir, cfg.LogDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("containerd: %w", err)
		}
	}
	nw, err := newNetwork(cfg)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg.Address, client.WithDefaultNamespace(cfg.Namespace), client.WithDefaultRuntime(shimRuntime))
	if err != nil {
		return nil, fmt.Errorf("%w: containerd at %s: %v", runtime.ErrUnavailable, cfg.Address, err)
	}
	if _, err := c.Version(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w: containerd at %s: %v", runtime.ErrUnavailable, cfg.Address, err)
	}
	r := &Runtime{cfg: cfg, client: c, net: nw, metrics: m, watchDone: make(chan struct{}), copiers: map[string]*copier{}}
	if err := r.resumeCopiers(ctx); err != nil {
		r.Close()
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.Background())
	r.stopWatch = cancel
	go r.watchOOM(wctx, r.watchDone)
	return r, nil
}

// resumeCopiers copies the output of the containers whose process lives
// (or has not been reaped), which an earlier runtime instance started.
func (r *Runtime) resumeCopiers(ctx context.Context) error {
	ctx = r.ctx(ctx)
	resp, err := r.client.TaskService().List(ctx, &tasks.ListTasksRequest{})
	if err != nil {
		return convert(errgrpc.ToNative(err), "list tasks")
	}
	for _, t := range resp.GetTasks() {
		rec, err := r.record(ctx, t.GetID())
		if err != nil {
			continue // not a container of this runtime
		}
		if _, err := r.copierFor(rec.ID, rec.Labels); err != nil && !errors.Is(err, errBusy) {
			r.cfg.Logger.Warn("resuming the copy of a container's output", "container", rec.ID, "err", err)
		}
	}
	return nil
}

// Close stops copying output and watching events, and closes the
// connection to the daemon. Containers keep running; their output waits in
// their FIFOs for the next Runtime (a process writing more than a FIFO
// holds blocks meanwhile), and the stdin of those created with Stdin is
// closed. Close is safe to call more than once.
func (r *Runtime) Close() error {
	r.copiersMu.Lock()
	r.closed = true
	cs := r.copiers
	r.copiers = map[string]*copier{}
	r.copiersMu.Unlock()
	for _, c := range cs {
		c.stop()
	}
	if r.stopWatch != nil {
		r.stopWatch()
		<-r.watchDone
		r.stopWatch = nil
	}
	return r.client.Close()
}

// Client returns the containerd client the runtime uses.
func (r *Runtime) Client() *client.Client { return r.client }

// Namespace returns the containerd namespace the runtime works in.
func (r *Runtime) Namespace() string { return r.cfg.Namespace }

func (r *Runtime) ctx(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, r.cfg.Namespace)
}

// observe records an operation's duration and outcome.
func (r *Runtime) observe(op string, start time.Time, err *error) {
	r.metrics.observe(op, time.Since(start), *err)
}

// convert maps a containerd error to the runtime's sentinels; what names the
// operation and object.
func convert(err error, what string) error {
	if err == nil {
		return nil
	}
	var sentinel error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", what, err)
	case errdefs.IsNotFound(err):
		sentinel = runtime.ErrNotFound
	case errdefs.IsAlreadyExists(err):
		sentinel = runtime.ErrAlreadyExists
	case errdefs.IsInvalidArgument(err):
		sentinel = runtime.ErrInvalid
	case errdefs.IsFailedPrecondition(err):
		sentinel = runtime.ErrFailedPrecondition
	case errdefs.IsUnavailable(err), status.Code(errors.Unwrap(err)) == codes.Unavailable, status.Code(err) == codes.Unavailable:
		sentinel = runtime.ErrUnavailable
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%w: %s: %v", sentinel, what, err)
}

// keyedMutex serialises operations on one object within a Runtime.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedEntry{}
	}
	e := k.locks[key]
	if e == nil {
		e = &keyedEntry{}
		k.locks[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

type metrics struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "setpoint", Subsystem: "runtime", Name: "operation_duration_seconds",
			Help:    "Duration of runtime operations.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}, []string{"operation"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "setpoint", Subsystem: "runtime", Name: "operation_errors_total",
			Help: "Runtime operations that failed.",
		}, []string{"operation"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.duration, m.errors} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("containerd: register metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *metrics) observe(op string, d time.Duration, err error) {
	m.duration.WithLabelValues(op).Observe(d.Seconds())
	if err != nil {
		m.errors.WithLabelValues(op).Inc()
	}
}
