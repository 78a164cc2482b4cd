package localvolume

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/storage"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
)

// Names and defaults.
const (
	// ProvisionerName is the StorageClass provisioner this controller serves.
	ProvisionerName = "setpoint.dev/local-path"
	// DefaultBaseDir is where a node's volumes live when the node does not
	// name its own directory (AnnotationNodeDir).
	DefaultBaseDir = "/var/lib/setpoint/local-volumes"
	// AnnotationNodeDir on a Node names the directory its volumes live in
	// (a kubelet sets it from its data dir).
	AnnotationNodeDir = "setpoint.dev/local-volume-dir"
	// AnnotationSelectedNode on a claim is the node a scheduler chose for
	// its first consumer (Kubernetes' volume.kubernetes.io/selected-node).
	AnnotationSelectedNode = "volume.kubernetes.io/selected-node"
	// AnnotationProvisionedBy marks the volumes this controller made
	// (Kubernetes' pv.kubernetes.io/provisioned-by).
	AnnotationProvisionedBy = "pv.kubernetes.io/provisioned-by"
)

// Config configures the provisioner. Client is required.
type Config struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// BaseDir is the volume directory of nodes without AnnotationNodeDir.
	// Default DefaultBaseDir.
	BaseDir string
	// Clock times retries. Default real.
	Clock clockwork.Clock
	// Logger receives the logs. Default discard.
	Logger *slog.Logger
	// Registerer, if set, receives the reconcile metrics.
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("localvolume: Client is required")
	case c.BaseDir != "" && !path.IsAbs(c.BaseDir):
		return fmt.Errorf("localvolume: BaseDir %q is not absolute", c.BaseDir)
	}
	return nil
}

// key is a claim (Namespace set) or a volume (Namespace "").
type key = reconcile.Request

// Provisioner provisions and binds hostPath volumes for claims of its
// storage classes, and reclaims them; see the package documentation.
type Provisioner struct {
	cfg     Config
	claims  *informer.Informer[*api.PersistentVolumeClaim]
	volumes *informer.Informer[*api.PersistentVolume]
	pods    *informer.Informer[*api.Pod]
	classes *informer.Informer[*storage.StorageClass]
	nodes   *informer.Informer[*api.Node]
	ctrl    *reconcile.Controller[key]
}

// New checks cfg and builds the provisioner.
func New(cfg Config) (*Provisioner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.BaseDir == "" {
		cfg.BaseDir = DefaultBaseDir
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Provisioner{cfg: cfg}
	f := cfg.Client.Informers()
	var err error
	if p.claims, _, err = informer.Shared(f, cfg.Client.PersistentVolumeClaims(), informer.Config[*api.PersistentVolumeClaim]{}); err != nil {
		return nil, fmt.Errorf("localvolume: %w", err)
	}
	if p.volumes, _, err = informer.Shared(f, cfg.Client.PersistentVolumes(), informer.Config[*api.PersistentVolume]{}); err != nil {
		return nil, fmt.Errorf("localvolume: %w", err)
	}
	if p.pods, _, err = informer.Shared(f, cfg.Client.Pods(), informer.Config[*api.Pod]{}); err != nil {
		return nil, fmt.Errorf("localvolume: %w", err)
	}
	if p.classes, _, err = informer.Shared(f, cfg.Client.StorageClasses(), informer.Config[*storage.StorageClass]{}); err != nil {
		return nil, fmt.Errorf("localvolume: %w", err)
	}
	if p.nodes, _, err = informer.Shared(f, cfg.Client.Nodes(), informer.Config[*api.Node]{}); err != nil {
		return nil, fmt.Errorf("localvolume: %w", err)
	}
	if p.ctrl, err = reconcile.New(reconcile.Config[key]{Name: "localvolume", Reconciler: reconcile.Func[key](p.sync), Workers: 2,
		Clock: cfg.Clock, Logger: cfg.Logger, Registerer: cfg.Registerer}); err != nil {
		return nil, err
	}
	q := p.ctrl.Queue()
	claim := func(c *api.PersistentVolumeClaim) { q.Add(key{Namespace: c.Namespace, Name: c.Name}) }
	if _, err := p.claims.AddHandler(informer.HandlerFuncs[*api.PersistentVolumeClaim]{
		AddFunc:    func(c *api.PersistentVolumeClaim, _ bool) { claim(c) },
		UpdateFunc: func(_, c *api.PersistentVolumeClaim) { claim(c) },
		DeleteFunc: func(c *api.PersistentVolumeClaim, _ bool) {
			if c.Spec.VolumeName != "" {
				q.Add(key{Name: c.Spec.VolumeName})
			}
		},
	}); err != nil {
		return nil, err
	}
	if _, err := p.volumes.AddHandler(informer.HandlerFuncs[*api.PersistentVolume]{
		AddFunc:    func(v *api.PersistentVolume, _ bool) { q.Add(key{Name: v.Name}) },
		UpdateFunc: func(_, v *api.PersistentVolume) { q.Add(key{Name: v.Name}) },
	}); err != nil {
		return nil, err
	}
	// A pod bound to a node makes its claims' first consumer known.
	if _, err := p.pods.AddHandler(informer.HandlerFuncs[*api.Pod]{
		AddFunc:    func(pod *api.Pod, _ bool) { p.podClaims(pod) },
		UpdateFunc: func(_, pod *api.Pod) { p.podClaims(pod) },
	}); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Provisioner) podClaims(pod *api.Pod) {
	if pod.Spec.NodeName == "" {
		return
	}
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			p.ctrl.Queue().Add(key{Namespace: pod.Namespace, Name: v.PersistentVolumeClaim.ClaimName})
		}
	}
}

// Run waits for the caches and works until ctx ends.
func (p *Provisioner) Run(ctx context.Context) error {
	for _, w := range []interface{ WaitForSync(context.Context) error }{p.claims, p.volumes, p.pods, p.classes, p.nodes} {
		if err := w.WaitForSync(ctx); err != nil {
			return nil // ctx ended
		}
	}
	for _, c := range p.claims.List() {
		p.ctrl.Queue().Add(key{Namespace: c.Namespace, Name: c.Name})
	}
	for _, v := range p.volumes.List() {
		p.ctrl.Queue().Add(key{Name: v.Name})
	}
	return p.ctrl.Run(ctx)
}

func (p *Provisioner) sync(ctx context.Context, k key) (reconcile.Result, error) {
	if k.Namespace == "" {
		return reconcile.Result{}, p.syncVolume(ctx, k.Name)
	}
	return reconcile.Result{}, p.syncClaim(ctx, k.Namespace, k.Name)
}

// class returns the claim's StorageClass if it is one of ours.
func (p *Provisioner) class(c *api.PersistentVolumeClaim) (*storage.StorageClass, bool) {
	if c.Spec.StorageClassName == nil {
		return nil, false
	}
	sc, ok := p.classes.Get("", *c.Spec.StorageClassName)
	if !ok || sc.Provisioner != ProvisionerName {
		return nil, false
	}
	return sc, true
}

// selectedNode is the node of the claim's first consumer: the scheduler's
// annotation if set, else the node of a bound pod that uses the claim.
func (p *Provisioner) selectedNode(c *api.PersistentVolumeClaim) string {
	if n := c.Annotations[AnnotationSelectedNode]; n != "" {
		return n
	}
	for _, pod := range p.pods.List() {
		if pod.Namespace != c.Namespace || pod.Spec.NodeName == "" || pod.DeletionTimestamp != nil {
			continue
		}
		for _, v := range pod.Spec.Volumes {
			if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == c.Name {
				return pod.Spec.NodeName
			}
		}
	}
	return ""
}

// volumeName is the name of the volume provisioned for a claim, as
// Kubernetes' external provisioners name it: pvc-<claim UID>.
func volumeName(c *api.PersistentVolumeClaim) string { return "pvc-" + c.UID }
