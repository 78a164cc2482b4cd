package nodeipam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
)

// Defaults of Config.
const (
	// DefaultNodeMaskSizeIPv4 and DefaultNodeMaskSizeIPv6 are Kubernetes'
	// --node-cidr-mask-size defaults.
	DefaultNodeMaskSizeIPv4 = 24
	DefaultNodeMaskSizeIPv6 = 64
	// DefaultClaimNamespace holds the claim objects.
	DefaultClaimNamespace = "kube-system"
)

// Labels and annotations of the claim Leases.
const (
	// LabelClaim marks a claim Lease.
	LabelClaim = "nodeipam.setpoint.dev/claim"
	// LabelNode names the node a claim is for.
	LabelNode = "nodeipam.setpoint.dev/node"
	// AnnotationCIDR is the CIDR a claim reserves.
	AnnotationCIDR = "nodeipam.setpoint.dev/cidr"
)

// Config configures the allocator. Client and ClusterCIDR are required.
type Config struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// ClusterCIDR is the range node pod CIDRs are cut from
	// (--cluster-cidr), for example "10.244.0.0/16".
	ClusterCIDR string
	// NodeMaskSize is the prefix length of each node's pod CIDR
	// (--node-cidr-mask-size). Default 24 for IPv4, 64 for IPv6.
	NodeMaskSize int
	// ClaimNamespace holds the claim Leases. Default
	// DefaultClaimNamespace.
	ClaimNamespace string
	// Recorder, if set, receives CIDRNotAvailable and
	// CIDRAssignmentFailed events on nodes.
	Recorder *controllerutil.Recorder
	// Clock times retries. Default: the real clock.
	Clock clockwork.Clock
	// Logger receives the logs. Default discard.
	Logger *slog.Logger
	// Registerer, if set, receives the reconcile metrics.
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	if c.Client == nil {
		return errors.New("nodeipam: Client is required")
	}
	if c.ClusterCIDR == "" {
		return errors.New("nodeipam: ClusterCIDR is required")
	}
	_, err := newCIDRSet(c.ClusterCIDR, c.maskSize())
	return err
}

func (c *Config) maskSize() int {
	if c.NodeMaskSize != 0 {
		return c.NodeMaskSize
	}
	for _, ch := range c.ClusterCIDR {
		if ch == ':' {
			return DefaultNodeMaskSizeIPv6
		}
	}
	return DefaultNodeMaskSizeIPv4
}

// ErrNoCIDR is returned (wrapped) when every subnet is taken.
var ErrNoCIDR = errors.New("nodeipam: no pod CIDR available")

// Allocator gives every node a pod CIDR; see the package documentation.
type Allocator struct {
	cfg    Config
	set    *cidrSet
	log    *slog.Logger
	nodes  *informer.Informer[*api.Node]
	claims *informer.Informer[*election.Lease]
	ctrl   *reconcile.Controller[reconcile.Request]

	mu       sync.Mutex
	reserved map[string]reservation // by CIDR: claims this allocator created that its cache may not show yet
}

// NoCIDRRetry is how long a node that found no free CIDR waits before it
// tries again, if no claim is released before.
const NoCIDRRetry = 30 * time.Second

// reservation is a claim this allocator created, until its claims cache
// shows it or has passed the revision of its create without showing it
// (another allocator released it before this cache saw it).
type reservation struct {
	node string
	rev  int64
}

// New checks cfg and builds the allocator; it sends no request.
func New(cfg Config) (*Allocator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.NodeMaskSize = cfg.maskSize()
	if cfg.ClaimNamespace == "" {
		cfg.ClaimNamespace = DefaultClaimNamespace
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	set, _ := newCIDRSet(cfg.ClusterCIDR, cfg.NodeMaskSize)
	a := &Allocator{cfg: cfg, set: set, log: cfg.Logger.With("controller", "nodeipam"), reserved: map[string]reservation{}}
	var err error
	if a.nodes, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.Nodes(), informer.Config[*api.Node]{}); err != nil {
		return nil, fmt.Errorf("nodeipam: %w", err)
	}
	sel, err := store.ParseSelector(LabelClaim + "=true")
	if err != nil {
		return nil, err
	}
	if a.claims, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.Leases(), informer.Config[*election.Lease]{
		Namespace: cfg.ClaimNamespace, Selector: sel}); err != nil {
		return nil, fmt.Errorf("nodeipam: %w", err)
	}
	a.ctrl, err = reconcile.New(reconcile.Config[reconcile.Request]{Name: "nodeipam", Reconciler: reconcile.Func[reconcile.Request](a.sync),
		Workers: 1, Clock: cfg.Clock, Logger: cfg.Logger, Registerer: cfg.Registerer})
	if err != nil {
		return nil, err
	}
	enq := func(name string) { a.ctrl.Queue().Add(reconcile.Request{Name: name}) }
	if _, err := a.nodes.AddHandler(informer.HandlerFuncs[*api.Node]{
		AddFunc:    func(n *api.Node, _ bool) { enq(n.Name) },
		UpdateFunc: func(_, n *api.Node) { enq(n.Name) },
		DeleteFunc: func(n *api.Node, _ bool) { enq(n.Name) },
	}); err != nil {
		return nil, err
	}
	if _, err := a.claims.AddHandler(informer.HandlerFuncs[*election.Lease]{
		DeleteFunc: func(l *election.Lease, _ bool) {
			enq(l.Labels[LabelNode])
			// A CIDR is free again: nodes that found none try again (as
			// Kubernetes' range allocator retries them).
			for _, n := range a.nodes.List() {
				if n.Spec.PodCIDR == "" {
					enq(n.Name)
				}
			}
		},
	}); err != nil {
		return nil, err
	}
	return a, nil
}

// Run waits for the caches, repairs (every node and every claim is
// synced once: claims of nodes that are gone are released, CIDRs nodes
// hold without a claim are claimed) and then allocates until ctx ends.
func (a *Allocator) Run(ctx context.Context) error {
	if err := a.nodes.WaitForSync(ctx); err != nil {
		return nil // ctx ended
	}
	if err := a.claims.WaitForSync(ctx); err != nil {
		return nil
	}
	for _, n := range a.nodes.List() {
		a.ctrl.Queue().Add(reconcile.Request{Name: n.Name})
	}
	for _, l := range a.claims.List() {
		a.ctrl.Queue().Add(reconcile.Request{Name: l.Labels[LabelNode]})
	}
	return a.ctrl.Run(ctx)
}

// claimsOf returns the cached claims held by node.
func (a *Allocator) claimsOf(node string) []*election.Lease {
	var out []*election.Lease
	for _, l := range a.claims.List() {
		if l.Labels[LabelNode] == node {
			out = append(out, l)
		}
	}
	return out
}

func (a *Allocator) sync(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	node, ok := a.nodes.Get("", req.Name)
	if !ok {
		// The node is gone: release its claims (its CIDR is free again).
		return reconcile.Result{}, a.release(ctx, req.Name, "", a.claimsOf(req.Name))
	}
	// Claims made for an earlier node of this name (another UID) go.
	var mine, stale []*election.Lease
	for _, l := range a.claimsOf(node.Name) {
		if l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity == string(node.UID) {
			mine = append(mine, l)
		} else {
			stale = append(stale, l)
		}
	}
	if err := a.release(ctx, node.Name, "", stale); err != nil {
		return reconcile.Result{}, err
	}
	if node.Spec.PodCIDR != "" {
		// Repair: the node's CIDR is claimed for it, other claims of it go.
		var others []*election.Lease
		claimed := false
		for _, l := range mine {
			if l.Annotations[AnnotationCIDR] == node.Spec.PodCIDR {
				claimed = true
			} else {
				others = append(others, l)
			}
		}
		if !claimed && a.set.contains(node.Spec.PodCIDR) {
			if err := a.claim(ctx, node, node.Spec.PodCIDR); err != nil {
				if errors.Is(err, store.ErrAlreadyExists) {
					a.log.Error("pod CIDR of node is claimed for another node", "object", node.Name, "cidr", node.Spec.PodCIDR)
					a.cfg.Recorder.Eventf(ctx, node, api.NodeResource, controllerutil.EventWarning, "CIDRAssignmentFailed",
						"pod CIDR %s is also claimed for another node", node.Spec.PodCIDR)
					return reconcile.Result{}, nil
				}
				return reconcile.Result{}, err
			}
		}
		return reconcile.Result{}, a.release(ctx, node.Name, node.Spec.PodCIDR, others)
	}
	// Reuse a claim made for this node before (a crash between the claim
	// and the node update), else claim the first free CIDR.
	cidr := ""
	for _, l := range mine {
		if c := l.Annotations[AnnotationCIDR]; a.set.contains(c) {
			cidr = c
			break
		}
	}
	if cidr == "" {
		var err error
		if cidr, err = a.claimFree(ctx, node); err != nil {
			if errors.Is(err, ErrNoCIDR) {
				a.cfg.Recorder.Eventf(ctx, node, api.NodeResource, controllerutil.EventNormal, "CIDRNotAvailable",
					"Node %s status is now: CIDRNotAvailable", node.Name)
				// Retried when a claim is released (above) and, as a
				// backstop against a release this cache missed, after
				// NoCIDRRetry.
				return reconcile.Result{RequeueAfter: NoCIDRRetry}, nil
			}
			return reconcile.Result{}, err
		}
	}
	upd := node.DeepCopy()
	upd.Spec.PodCIDR, upd.Spec.PodCIDRs = cidr, []string{cidr}
	if _, err := a.cfg.Client.Nodes().Update(ctx, upd); err != nil {
		// The claim stays for this node (same UID): the retry reuses it.
		return reconcile.Result{}, fmt.Errorf("node %s: set pod CIDR %s: %w", node.Name, cidr, err)
	}
	a.log.Info("allocated pod CIDR", "object", node.Name, "cidr", cidr)
	return reconcile.Result{}, nil
}

// used returns the CIDRs that are taken as far as this allocator knows.
func (a *Allocator) used() map[string]bool {
	u := map[string]bool{}
	cached := map[string]bool{}
	for _, l := range a.claims.List() {
		u[l.Annotations[AnnotationCIDR]] = true
		cached[l.Annotations[AnnotationCIDR]] = true
	}
	for _, n := range a.nodes.List() {
		for _, c := range append([]string{n.Spec.PodCIDR}, n.Spec.PodCIDRs...) {
			u[c] = true
		}
	}
	seen := a.claims.Revision()
	a.mu.Lock()
	for c, r := range a.reserved {
		if cached[c] || seen >= r.rev {
			// the cache shows it now, or it is past the claim's
			// create and does not: it was released since
			delete(a.reserved, c)
			if !cached[c] {
				continue
			}
		}
		u[c] = true
	}
	a.mu.Unlock()
	return u
}

// claimFree claims the lowest CIDR not taken. The claim's create is the
// atomic step: a CIDR another allocator claimed first fails with
// ErrAlreadyExists, and the next one is tried.
func (a *Allocator) claimFree(ctx context.Context, node *api.Node) (string, error) {
	used := a.used()
	for i := range a.set.count {
		cidr := a.set.at(i).String()
		if used[cidr] {
			continue
		}
		err := a.claim(ctx, node, cidr)
		if err == nil {
			return cidr, nil
		}
		if !errors.Is(err, store.ErrAlreadyExists) {
			return "", err
		}
	}
	return "", fmt.Errorf("%w in %s for node %s", ErrNoCIDR, a.cfg.ClusterCIDR, node.Name)
}

// claim creates the claim Lease of cidr for node: holder the node's UID,
// owned by the node (so the garbage collector also removes it).
func (a *Allocator) claim(ctx context.Context, node *api.Node, cidr string) error {
	l := &election.Lease{}
	l.Namespace, l.Name = a.cfg.ClaimNamespace, claimName(cidr)
	l.Labels = map[string]string{LabelClaim: "true", LabelNode: node.Name}
	l.Annotations = map[string]string{AnnotationCIDR: cidr}
	uid := string(node.UID)
	l.Spec.HolderIdentity = &uid
	l.OwnerReferences = []store.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}}
	created, err := a.cfg.Client.Leases().Create(ctx, l)
	if err != nil {
		return fmt.Errorf("claim %s for node %s: %w", cidr, node.Name, err)
	}
	rev, err := strconv.ParseInt(created.ResourceVersion, 10, 64)
	if err != nil {
		rev = math.MaxInt64 // kept until the cache shows it
	}
	a.mu.Lock()
	a.reserved[cidr] = reservation{node: node.Name, rev: rev}
	a.mu.Unlock()
	return nil
}

// release deletes claims of node other than keep.
func (a *Allocator) release(ctx context.Context, node, keep string, claims []*election.Lease) error {
	var errs []error
	for _, l := range claims {
		cidr := l.Annotations[AnnotationCIDR]
		if cidr == keep {
			continue
		}
		err := a.cfg.Client.Leases().DeleteNow(ctx, l.Namespace, l.Name, store.WithPreconditionUID(l.UID))
		if err != nil && !errors.Is(err, store.ErrNotFound) && !(errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrFenced)) {
			errs = append(errs, fmt.Errorf("release %s of node %s: %w", cidr, node, err))
			continue
		}
		a.mu.Lock()
		delete(a.reserved, cidr)
		a.mu.Unlock()
		a.log.Info("released pod CIDR", "object", node, "cidr", cidr)
	}
	return errors.Join(errs...)
}
