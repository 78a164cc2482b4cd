package framework

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/offers"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// Labels the driver puts on its task pods.
const (
	// LabelFramework names the framework a task pod belongs to.
	LabelFramework = offersapi.GroupName + "/framework"
	// LabelTask names the task a pod runs.
	LabelTask = offersapi.GroupName + "/task"
)

// Defaults of Config.
const (
	DefaultNamespace     = "default"
	DefaultImage         = "task"
	DefaultLeaseDuration = 15 * time.Second
)

// Errors of the Driver; each returned error wraps one and names the offer
// or task.
var (
	// ErrRejected: the allocator rejected an accept or a decline; the
	// error carries its reason. Nothing was launched.
	ErrRejected = errors.New("rejected by the allocator")
	// ErrAnswered: the offer is no longer pending, or was already
	// answered through this or another client.
	ErrAnswered = errors.New("offer already answered or ended")
	// ErrInvalid: a task or the configuration is malformed.
	ErrInvalid = errors.New("invalid argument")
	// ErrNotRunning: the call needs Run to have registered the framework.
	ErrNotRunning = errors.New("driver not running")
)

// Config configures a Driver.
type Config struct {
	// Client reaches the apiserver (which serves the offers group).
	// Required.
	Client *client.Clientset
	// Framework is the framework to register: its name and spec (role,
	// weight, taskResources, ...). Required.
	Framework *offersapi.Framework
	// Namespace is where task pods are created; default DefaultNamespace.
	Namespace string
	// Image is the image of a task that names none; default DefaultImage.
	Image string
	// LeaseNamespace is where the framework's liveness Lease
	// (offers.FrameworkLeaseName) lives; default
	// offers.DefaultLeaseNamespace. It must be the allocator's
	// ControllerConfig.FrameworkLeaseNamespace.
	LeaseNamespace string
	// LeaseDuration is how long the allocator waits, after it last saw
	// the lease renewed, before it takes the framework for gone (its
	// offers rescinded, its tasks left running); the driver renews every
	// third of it. Default DefaultLeaseDuration; at least a second.
	LeaseDuration time.Duration
	// Clock paces the lease renewals; default the real clock.
	Clock clockwork.Clock
	// Logger receives the driver's logs; default discard.
	Logger *slog.Logger
}

// Validate reports the first invalid field.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil:
		return fmt.Errorf("framework driver: Config.Client is required: %w", ErrInvalid)
	case c.Framework == nil:
		return fmt.Errorf("framework driver: Config.Framework is required: %w", ErrInvalid)
	case c.LeaseDuration != 0 && c.LeaseDuration < time.Second:
		return fmt.Errorf("framework driver: Config.LeaseDuration %s is under a second: %w", c.LeaseDuration, ErrInvalid)
	}
	if err := c.Framework.Validate(); err != nil {
		return fmt.Errorf("framework driver: %w: %w", err, ErrInvalid)
	}
	return nil
}

// Task is one task to launch on an accepted offer: a pod named Name in
// the driver's namespace, one container of Image running Command, and
// requesting Resources.
type Task struct {
	// Name names the task and its pod (a DNS label). Required.
	Name string
	// Resources is what the task holds while it runs. Required.
	Resources api.ResourceList
	// Image is the container image; default Config.Image.
	Image string
	// Command is the container's command; empty: the image's.
	Command []string
}

// Driver is a framework's side of two-level scheduling over the
// apiserver; see the package documentation.
type Driver struct {
	cfg       Config
	name      string
	log       *slog.Logger
	fwClient  *rest.Client[*offersapi.Framework]
	offClient *rest.Client[*offersapi.Offer]
	offersInf *informer.Informer[*offersapi.Offer]
	podsInf   *informer.Informer[*api.Pod]
	offersCh  chan offersapi.Offer
	statusCh  chan offers.TaskStatus
	ready     chan struct{}
	kick      chan struct{}

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every offer event
	seen    map[string]bool
	states  map[string]offers.TaskState // by task name: last delivered
	queue   []string                    // tasks with an undelivered status, in order
	pending map[string]offers.TaskStatus
	err     error
}

// New validates cfg and builds a driver; Run registers the framework.
func New(cfg Config) (*Driver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Framework = cfg.Framework.DeepCopy()
	if cfg.Namespace == "" {
		cfg.Namespace = DefaultNamespace
	}
	if cfg.Image == "" {
		cfg.Image = DefaultImage
	}
	if cfg.LeaseNamespace == "" {
		cfg.LeaseNamespace = offers.DefaultLeaseNamespace
	}
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration = DefaultLeaseDuration
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	name := cfg.Framework.Name
	d := &Driver{cfg: cfg, name: name, log: cfg.Logger.With("framework", name),
		offersCh: make(chan offersapi.Offer), statusCh: make(chan offers.TaskStatus),
		ready: make(chan struct{}), kick: make(chan struct{}, 1), changed: make(chan struct{}),
		seen: map[string]bool{}, states: map[string]offers.TaskState{}, pending: map[string]offers.TaskStatus{}}
	cs := cfg.Client
	var err error
	if d.fwClient, err = client.For[*offersapi.Framework](cs, offersapi.FrameworkResource); err != nil {
		return nil, err
	}
	if d.offClient, err = client.For[*offersapi.Offer](cs, offersapi.OfferResource); err != nil {
		return nil, err
	}
	mine, err := rest.NewClient[*offersapi.Offer](cs.HTTPClient(), cs.Server(), offersapi.OfferResource,
		rest.WithFieldSelector("spec.framework="+name))
	if err != nil {
		return nil, err
	}
	if d.offersInf, err = informer.New[*offersapi.Offer](mine, informer.Config[*offersapi.Offer]{Name: "framework-" + name + "-offers",
		Filter: func(o store.Object) bool { return o.(*offersapi.Offer).Spec.Framework == name }, Logger: d.log}); err != nil {
		return nil, err
	}
	if d.podsInf, err = informer.New[*api.Pod](cs.Pods(), informer.Config[*api.Pod]{Name: "framework-" + name + "-tasks",
		Namespace: cfg.Namespace, Selector: store.SelectorFromSet(map[string]string{LabelFramework: name}), Logger: d.log}); err != nil {
		return nil, err
	}
	onOffer := func() {
		d.mu.Lock()
		close(d.changed)
		d.changed = make(chan struct{})
		d.mu.Unlock()
		d.poke()
	}
	if _, err := d.offersInf.AddHandler(informer.HandlerFuncs[*offersapi.Offer]{
		AddFunc: func(*offersapi.Offer, bool) { onOffer() }, UpdateFunc: func(_, _ *offersapi.Offer) { onOffer() },
		DeleteFunc: func(*offersapi.Offer, bool) { onOffer() },
	}); err != nil {
		return nil, err
	}
	if _, err := d.podsInf.AddHandler(informer.HandlerFuncs[*api.Pod]{
		AddFunc: func(p *api.Pod, _ bool) { d.observe(p, false) }, UpdateFunc: func(_, p *api.Pod) { d.observe(p, false) },
		DeleteFunc: func(p *api.Pod, _ bool) { d.observe(p, true) },
	}); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Driver) poke() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Offers delivers each offer made to the framework once, while it is
// pending, oldest first; it is closed when Run returns (Err says why).
func (d *Driver) Offers() <-chan offersapi.Offer { return d.offersCh }

// Statuses delivers task status updates from the task pods (Staging,
// Running, then Finished, Failed or Lost). Updates of a task not yet
// received are coalesced to its latest, so an idle reader costs at most
// one pending update per task. It is never closed: updates stop when Run
// returns.
func (d *Driver) Statuses() <-chan offers.TaskStatus { return d.statusCh }

// Ready is closed once Run has registered the framework and its caches
// are filled.
func (d *Driver) Ready() <-chan struct{} { return d.ready }

// Err is why Run returned, nil while it runs.
func (d *Driver) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// Run registers the framework (creating its Framework object, or updating
// the spec of an existing one: a failover keeps its tasks), holds its
// Lease, and delivers offers and task statuses until ctx ends. It then
// releases the Lease, so the allocator rescinds the framework's offers at
// once; its tasks keep running. It returns offers.ErrDriverStopped
// wrapping ctx's cause, or the error that stopped it.
func (d *Driver) Run(ctx context.Context) (err error) {
	defer func() {
		d.mu.Lock()
		d.err = err
		d.mu.Unlock()
		close(d.offersCh)
	}()
	if err := d.register(ctx); err != nil {
		return err
	}
	if err := d.renew(ctx, true); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return d.offersInf.Run(gctx) })
	g.Go(func() error { return d.podsInf.Run(gctx) })
	g.Go(func() error { return d.holdLease(gctx) })
	g.Go(func() error {
		if d.offersInf.WaitForSync(gctx) != nil || d.podsInf.WaitForSync(gctx) != nil {
			return nil
		}
		close(d.ready)
		return d.deliver(gctx)
	})
	werr := g.Wait()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	rerr := d.renew(rctx, false)
	if werr != nil && ctx.Err() == nil {
		return errors.Join(werr, rerr)
	}
	return errors.Join(fmt.Errorf("framework %s: %w: %w", d.name, offers.ErrDriverStopped, context.Cause(ctx)), rerr)
}

// register creates the Framework object or updates its spec.
func (d *Driver) register(ctx context.Context) error {
	f := d.cfg.Framework.DeepCopy()
	f.ResourceVersion = ""
	if _, err := d.fwClient.Create(ctx, f); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("framework %s: register: %w", d.name, err)
	}
	if _, err := d.fwClient.GuaranteedUpdate(ctx, "", d.name, func(cur *offersapi.Framework) (*offersapi.Framework, error) {
		cur.Spec = d.cfg.Framework.Spec
		return cur, nil
	}); err != nil {
		return fmt.Errorf("framework %s: register: %w", d.name, err)
	}
	return nil
}

// deliver sends pending offers not yet delivered (oldest first) and task
// statuses, as they come.
func (d *Driver) deliver(ctx context.Context) error {
	for {
		var offerCh chan offersapi.Offer
		var statusCh chan offers.TaskStatus
		next, ok := d.nextOffer()
		if ok {
			offerCh = d.offersCh
		}
		st, ok := d.peekStatus()
		if ok {
			statusCh = d.statusCh
		}
		select {
		case offerCh <- next:
			d.seen[next.Name] = true
		case statusCh <- st:
			d.popStatus()
		case <-d.kick:
		case <-ctx.Done():
			return nil
		}
	}
}

// nextOffer returns the oldest pending, unanswered offer not delivered
// yet, and forgets delivered offers that are gone (so seen stays
// bounded).
func (d *Driver) nextOffer() (offersapi.Offer, bool) {
	var best *offersapi.Offer
	for _, o := range d.offersInf.List() {
		if o.Status.Phase != offersapi.OfferPending || o.Spec.Decline != nil || len(o.Spec.Tasks) > 0 || d.seen[o.Name] {
			continue
		}
		if best == nil || o.CreationTimestamp.Before(best.CreationTimestamp.Time) ||
			o.CreationTimestamp.Equal(best.CreationTimestamp.Time) && o.Name < best.Name {
			best = o
		}
	}
	for name := range d.seen {
		if _, ok := d.offersInf.Get("", name); !ok {
			delete(d.seen, name)
		}
	}
	if best == nil {
		return offersapi.Offer{}, false
	}
	return *best.DeepCopy(), true
}
