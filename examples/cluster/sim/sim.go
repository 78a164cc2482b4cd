package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/kubelet"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/image"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

// Defaults of Config.
const (
	// DefaultNamePrefix starts every simulated node's name; the i-th node
	// (from 0) is DefaultNamePrefix + i, zero-padded to five digits.
	DefaultNamePrefix = "sim-"
	// DefaultWorkers is each kubelet's pod workers: enough for the tens
	// of pods a simulated node runs, few enough that thousands of idle
	// nodes stay small.
	DefaultWorkers = 8
	// DefaultSyncPeriod is each kubelet's PLEG relist period.
	DefaultSyncPeriod = time.Second
	// DefaultStartConcurrency bounds how many nodes start (build their
	// client and register) at once.
	DefaultStartConcurrency = 64
)

// DefaultCapacity is each simulated node's capacity: a large machine.
func DefaultCapacity() api.ResourceList {
	return api.ResourceList{api.ResourceCPU: api.MustParse("32"), api.ResourceMemory: api.MustParse("128Gi"),
		api.ResourcePods: api.MustParse("110")}
}

// DefaultUsage is a container's mean simulated usage.
var DefaultUsage = Usage{MilliCPU: 25, MemoryBytes: 48 << 20}

// Image is the image every simulated node has, the runtime test program
// (runtimetest.TestImageName) run as a Go function: a pod runs it with
// the argument "wait" to keep running.
const Image = runtimetest.TestImageName

// Config configures a Sim: Nodes kubelets on fake runtimes in this
// process. Nodes and Kubeconfig are required; every other field has a
// documented default.
type Config struct {
	// Nodes is how many nodes to simulate.
	Nodes int
	// Kubeconfig returns the credentials of the named node's kubelet
	// (system:node:<name> for the node authorizer, as cluster.Server's
	// NodeKubeconfig issues; any identity allowed to act for the node
	// works).
	Kubeconfig func(node string) ([]byte, error)
	// NamePrefix starts the nodes' names (default DefaultNamePrefix).
	NamePrefix string
	// Dir holds the kubelets' root directories (Dir/<node>). Required.
	Dir string
	// ClientCAPEM, if set, makes every kubelet serve its HTTPS API on a
	// loopback address of its own (127.1.0.0/16 onwards, reported as the
	// node's InternalIP), trusting client certificates of this CA, so
	// that the apiserver in this machine scrapes its stats for kubectl
	// top. Default: no kubelet API (the node's InternalIP is still a
	// distinct loopback address).
	ClientCAPEM []byte
	// Capacity is each node's capacity (default DefaultCapacity).
	Capacity api.ResourceList
	// StartLatency is how long each container start takes (default none).
	StartLatency Latency
	// Usage is each container's simulated usage (default DefaultUsage).
	Usage Usage
	// Workers is each kubelet's pod workers (default DefaultWorkers).
	Workers int
	// SyncPeriod, LeaseRenewInterval and NodeStatusCheckInterval time the
	// kubelets (DefaultSyncPeriod; kubelet defaults for the others).
	SyncPeriod, LeaseRenewInterval, NodeStatusCheckInterval time.Duration
	// QPS and Burst limit each kubelet's client (client defaults when
	// zero).
	QPS   float64
	Burst int
	// StartConcurrency bounds the nodes starting at once (default
	// DefaultStartConcurrency).
	StartConcurrency int
	// Clock times the kubelets and the start latency (default real).
	Clock clockwork.Clock
	// Logger receives the kubelets' logs (default discard: thousands of
	// nodes log a lot).
	Logger *slog.Logger
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	switch {
	case c.Nodes <= 0 || c.Nodes > maxNodes:
		return fmt.Errorf("sim: Nodes must be 1-%d, got %d", maxNodes, c.Nodes)
	case c.Kubeconfig == nil:
		return errors.New("sim: Kubeconfig is required (the kubelets' credentials)")
	case c.Dir == "" || !filepath.IsAbs(c.Dir):
		return fmt.Errorf("sim: Dir must be an absolute path, got %q", c.Dir)
	case c.Workers < 0 || c.StartConcurrency < 0:
		return fmt.Errorf("sim: Workers and StartConcurrency must not be negative, got %d and %d", c.Workers, c.StartConcurrency)
	case c.Usage.MilliCPU < 0 || c.Usage.MemoryBytes < 0:
		return fmt.Errorf("sim: Usage must not be negative, got %+v", c.Usage)
	case c.SyncPeriod < 0 || c.LeaseRenewInterval < 0 || c.NodeStatusCheckInterval < 0:
		return errNegative("SyncPeriod, LeaseRenewInterval and NodeStatusCheckInterval", c.SyncPeriod, c.LeaseRenewInterval, c.NodeStatusCheckInterval)
	}
	return c.StartLatency.Validate()
}

// maxNodes is how many loopback addresses the nodes get (127.1.0.1
// onwards, 250 per /24).
const maxNodes = 250 * 254

func errNegative(what string, ds ...time.Duration) error {
	return fmt.Errorf("sim: %s must not be negative, got %v", what, ds)
}

func (c Config) withDefaults() Config {
	if c.NamePrefix == "" {
		c.NamePrefix = DefaultNamePrefix
	}
	if c.Capacity == nil {
		c.Capacity = DefaultCapacity()
	}
	if c.Usage == (Usage{}) {
		c.Usage = DefaultUsage
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.SyncPeriod == 0 {
		c.SyncPeriod = DefaultSyncPeriod
	}
	if c.StartConcurrency == 0 {
		c.StartConcurrency = DefaultStartConcurrency
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Sim runs simulated nodes. Create it with New and run it with Run.
type Sim struct {
	cfg      Config
	started  atomic.Int64
	restarts atomic.Int64
	ready    chan struct{}

	mu         sync.Mutex
	ran        bool
	heapBefore uint64 // the live heap before the first node started
	runtimes   []*fake.Runtime
}

// ErrAlreadyRunning is returned by a second call of Run.
var ErrAlreadyRunning = errors.New("sim: already running")

// New checks cfg and returns a Sim; it starts nothing.
func New(cfg Config) (*Sim, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Sim{cfg: cfg.withDefaults(), ready: make(chan struct{})}, nil
}

// NodeName returns the name of the i-th node (from 0).
func (s *Sim) NodeName(i int) string { return fmt.Sprintf("%s%05d", s.cfg.NamePrefix, i) }

// NodeIP returns the loopback address of the i-th node (from 0).
func NodeIP(i int) string { return fmt.Sprintf("127.%d.%d.%d", 1+i/(250*254), 1+i/250%254, 1+i%250) }

// Nodes returns how many nodes the Sim runs.
func (s *Sim) Nodes() int { return s.cfg.Nodes }

// Started is closed once every node's kubelet has been started.
func (s *Sim) Started() <-chan struct{} { return s.ready }

// HeapPerNode returns the Go heap (after a GC, which it runs) that the
// process gained per node since just before the first node started: the
// kubelets' own share, plus the control plane's when it runs in the same
// process. Call it once the nodes are Ready and idle for the cost of an
// idle node. Zero before Started.
func (s *Sim) HeapPerNode() uint64 {
	select {
	case <-s.ready:
	default:
		return 0
	}
	s.mu.Lock()
	before := s.heapBefore
	s.mu.Unlock()
	if now := liveHeap(); now > before {
		return (now - before) / uint64(s.cfg.Nodes)
	}
	return 0
}

// Run starts the nodes, StartConcurrency at a time, and runs them until
// ctx ends (nil); a kubelet that fails is restarted after a back-off (1 s
// doubling to 30 s). Then it removes every simulated pod, as a node that
// stops does. Each node is a kubelet
// (examples/kubelet) on its own fake runtime, with its own client and
// credentials: it registers its Node, renews its Lease and runs and
// reports its pods as a real node does.
func (s *Sim) Run(ctx context.Context) (err error) {
	s.mu.Lock()
	if s.ran {
		s.mu.Unlock()
		return ErrAlreadyRunning
	}
	s.ran = true
	s.mu.Unlock()
	defer func() { err = errors.Join(err, s.removePods()) }()
	archive, err := ImageArchive()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.heapBefore = liveHeap()
	s.mu.Unlock()
	g, gctx := errgroup.WithContext(ctx)
	starting := make(chan struct{}, s.cfg.StartConcurrency)
	for i := range s.cfg.Nodes {
		select {
		case starting <- struct{}{}:
		case <-gctx.Done():
			return ignoreCanceled(ctx, g.Wait())
		}
		newKubelet, err := s.newNode(gctx, i, archive)
		<-starting
		if err != nil {
			cancelErr := g.Wait()
			return errors.Join(err, ignoreCanceled(ctx, cancelErr))
		}
		g.Go(func() error { return s.supervise(gctx, s.NodeName(i), newKubelet) })
		s.started.Add(1)
	}
	close(s.ready)
	s.cfg.Logger.Info("sim: every node started", "nodes", s.cfg.Nodes)
	return ignoreCanceled(ctx, g.Wait())
}

// Restart back-off of a failed kubelet.
const (
	restartBase = time.Second
	restartMax  = 30 * time.Second
)

// supervise runs a kubelet of newKubelet until ctx ends; one that fails
// (registration refused by an overloaded apiserver, say) is replaced by a
// new one on the same runtime after a back-off, as systemd restarts a
// kubelet, and adopts its pods. It returns only ctx's end (nil) or an
// error building a kubelet.
func (s *Sim) supervise(ctx context.Context, name string, newKubelet func() (*kubelet.Kubelet, error)) error {
	backoff := restartBase
	for {
		k, err := newKubelet()
		if err != nil {
			return fmt.Errorf("sim: node %s: %w", name, err)
		}
		err = k.Run(ctx)
		if ctx.Err() != nil {
			return nil
		}
		s.restarts.Add(1)
		s.cfg.Logger.Warn("sim: kubelet failed; restarting it", "node", name, "err", err, "after", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-s.cfg.Clock.After(backoff):
		}
		backoff = min(2*backoff, restartMax)
	}
}

// Restarts returns how many times a failed kubelet has been restarted.
func (s *Sim) Restarts() int64 { return s.restarts.Load() }

// newNode builds the i-th node's runtime and client, and returns what
// builds its kubelet.
func (s *Sim) newNode(ctx context.Context, i int, archive []byte) (func() (*kubelet.Kubelet, error), error) {
	name, ip := s.NodeName(i), NodeIP(i)
	rt := fake.New(fake.WithProgram(runtimetest.TestBinary, runtimetest.FakeTestBinary), fake.WithNodeIP(ip),
		fake.WithHostname(name), fake.WithStopGrace(time.Second), fake.WithClock(s.cfg.Clock))
	s.mu.Lock()
	s.runtimes = append(s.runtimes, rt)
	s.mu.Unlock()
	if _, err := rt.ImportImage(ctx, bytes.NewReader(archive)); err != nil {
		return nil, fmt.Errorf("sim: node %s: importing %s: %w", name, Image, err)
	}
	kc, err := s.cfg.Kubeconfig(name)
	if err != nil {
		return nil, fmt.Errorf("sim: node %s: credentials: %w", name, err)
	}
	cs, err := client.New(client.Config{Kubeconfig: kc, QPS: s.cfg.QPS, Burst: s.cfg.Burst, Logger: s.cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("sim: node %s: %w", name, err)
	}
	var serving kubelet.ServingConfig
	if len(s.cfg.ClientCAPEM) > 0 {
		serving = kubelet.ServingConfig{Listen: ip + ":0", ClientCAPEM: s.cfg.ClientCAPEM}
	}
	dir := filepath.Join(s.cfg.Dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sim: node %s: %w", name, err)
	}
	kcfg := kubelet.Config{Client: cs, NodeName: name, NodeIP: ip, RootDir: dir, Capacity: s.cfg.Capacity,
		Runtime: &simRuntime{Runtime: rt, clock: s.cfg.Clock, latency: s.cfg.StartLatency, usage: s.cfg.Usage, seed: uint64(i)},
		Workers: s.cfg.Workers, SyncPeriod: s.cfg.SyncPeriod, LeaseRenewInterval: s.cfg.LeaseRenewInterval,
		NodeStatusCheckInterval: s.cfg.NodeStatusCheckInterval, Serving: serving, Clock: s.cfg.Clock,
		Labels: map[string]string{LabelSimulated: "true"}, Logger: s.cfg.Logger.With("node", name)}
	if err := kcfg.Validate(); err != nil {
		return nil, fmt.Errorf("sim: node %s: %w", name, err)
	}
	return func() (*kubelet.Kubelet, error) { return kubelet.New(kcfg) }, nil
}

// removePods removes every node's sandboxes, which ends their simulated
// containers.
func (s *Sim) removePods() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s.mu.Lock()
	rts := s.runtimes
	s.mu.Unlock()
	var errs []error
	for _, rt := range rts {
		sbs, err := rt.ListSandboxes(ctx, runtime.SandboxFilter{})
		errs = append(errs, err)
		for _, sb := range sbs {
			errs = append(errs, rt.RemoveSandbox(ctx, sb.ID))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sim: removing the simulated pods: %w", err)
	}
	return nil
}

// LabelSimulated is set to "true" on every simulated Node.
const LabelSimulated = "setpoint.dev/simulated"

// ImageArchive returns Image for the fake runtime as an OCI archive (for
// ImportImage): the runtime runs the program as a Go function
// (runtimetest.FakeTestBinary), so the file only needs to be there.
func ImageArchive() ([]byte, error) {
	b := image.NewBuilder(image.Config{Name: Image, Entrypoint: []string{runtimetest.TestBinary}, Env: []string{"PATH=/"}})
	if err := b.AddBytes(runtimetest.TestBinary, []byte("simulated by runtimetest.FakeTestBinary\n"), 0o755); err != nil {
		return nil, fmt.Errorf("sim: building %s: %w", Image, err)
	}
	return b.Bytes()
}

// liveHeap is the live heap after a GC.
func liveHeap() uint64 {
	goruntime.GC()
	var m goruntime.MemStats
	goruntime.ReadMemStats(&m)
	return m.HeapAlloc
}

// ignoreCanceled turns the cancellation that ctx's end caused into nil.
func ignoreCanceled(ctx context.Context, err error) error {
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		return nil
	}
	return err
}
