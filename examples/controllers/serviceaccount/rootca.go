package serviceaccount

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"maps"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
)

// The ConfigMap the RootCAPublisher keeps, as Kubernetes names it.
const (
	// RootCAConfigMap is the ConfigMap's name in every namespace.
	RootCAConfigMap = "kube-root-ca.crt"
	// RootCAKey is its data key holding the PEM bundle.
	RootCAKey = "ca.crt"
	// DescriptionAnnotation is the annotation that says what it is for.
	DescriptionAnnotation = "kubernetes.io/description"
	description           = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. " +
		"No other usage is guaranteed across distributions of Kubernetes clusters."
)

// RootCAConfig configures the RootCAPublisher. Client and RootCA are
// required; every other field has a documented default.
type RootCAConfig struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// RootCA is the PEM bundle to publish (one or more CERTIFICATE
	// blocks): kube-controller-manager's --root-ca-file, the CA that
	// signed the apiserver's serving certificate.
	RootCA []byte
	// Workers is how many namespaces are reconciled at once (default
	// DefaultWorkers).
	Workers int
	// Clock times the queue's retries. Default: the real clock.
	Clock clockwork.Clock
	// Logger receives the logs, keyed by namespace. Default discard.
	Logger *slog.Logger
	// Registerer, if set, receives the queue's metrics.
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field; it changes nothing. RootCA
// must be PEM holding only CERTIFICATE blocks, at least one.
func (c *RootCAConfig) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("root-ca-cert-publisher: Client is required")
	case c.Workers < 0:
		return fmt.Errorf("root-ca-cert-publisher: Workers must not be negative, got %d", c.Workers)
	}
	rest, n := bytes.TrimSpace(c.RootCA), 0
	for len(rest) > 0 {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return errors.New("root-ca-cert-publisher: RootCA has bytes that are not PEM")
		}
		if b.Type != "CERTIFICATE" {
			return fmt.Errorf("root-ca-cert-publisher: RootCA holds a %q block; only CERTIFICATE blocks are published", b.Type)
		}
		rest, n = bytes.TrimSpace(rest), n+1
	}
	if n == 0 {
		return errors.New("root-ca-cert-publisher: RootCA is required (PEM certificates)")
	}
	return nil
}

// RootCAPublisher keeps the kube-root-ca.crt ConfigMap in every active
// namespace; see the package documentation.
type RootCAPublisher struct {
	cfg  RootCAConfig
	log  *slog.Logger
	ns   *informer.Informer[*api.Namespace]
	cms  *informer.Informer[*api.ConfigMap]
	ctl  *reconcile.Controller[reconcile.Request]
	data string
}

// NewRootCAPublisher checks cfg and builds the publisher; it sends no
// request.
func NewRootCAPublisher(cfg RootCAConfig) (*RootCAPublisher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &RootCAPublisher{cfg: cfg, data: string(cfg.RootCA)}
	var err error
	p.log, p.ns, p.ctl, err = newNamespaceLoop(&cfg.Workers, &cfg.Clock, &cfg.Logger, cfg.Client, "root-ca-cert-publisher", cfg.Registerer, p.Reconcile)
	if err != nil {
		return nil, err
	}
	if p.cms, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.ConfigMaps(), informer.Config[*api.ConfigMap]{}); err != nil {
		return nil, fmt.Errorf("root-ca-cert-publisher: %w", err)
	}
	// Only the one ConfigMap per namespace matters: deleted, or changed.
	if _, err := p.cms.AddHandler(namespaceOf[*api.ConfigMap](p.ctl.Queue()).With(func(ch reconcile.Change[*api.ConfigMap]) bool {
		return ch.Object.Name == RootCAConfigMap && (ch.Type == reconcile.Deleted || !p.current(ch.Object))
	})); err != nil {
		return nil, fmt.Errorf("root-ca-cert-publisher: %w", err)
	}
	return p, nil
}

// Run waits for the caches and reconciles until ctx ends; it returns nil
// then, or the error that stopped it.
func (p *RootCAPublisher) Run(ctx context.Context) error {
	return runNamespaceLoop(ctx, p.ctl, p.ns, p.cms)
}

// Reconcile creates the namespace's kube-root-ca.crt, or puts its data
// back, if the namespace named req.Name is active.
func (p *RootCAPublisher) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	if !active(p.ns, req.Name) {
		return reconcile.Result{}, nil
	}
	want := map[string]string{RootCAKey: p.data}
	cm, ok := p.cms.Get(req.Name, RootCAConfigMap)
	if !ok {
		cm = &api.ConfigMap{Data: want}
		cm.Namespace, cm.Name = req.Name, RootCAConfigMap
		cm.Annotations = map[string]string{DescriptionAnnotation: description}
		if _, err := p.cfg.Client.ConfigMaps().Create(ctx, cm); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return reconcile.Result{}, fmt.Errorf("create %s/%s: %w", req.Name, RootCAConfigMap, err)
		}
		p.log.Info("published the root CA", "namespace", req.Name)
		return reconcile.Result{}, nil
	}
	if p.current(cm) {
		return reconcile.Result{}, nil
	}
	// The cache's object is shared: change a copy. The update carries the
	// cached resourceVersion, so a concurrent change is a Conflict and a
	// retry from the fresher cache.
	c := *cm
	c.Data, c.BinaryData = want, nil
	c.Annotations = maps.Clone(cm.Annotations)
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[DescriptionAnnotation] = description
	if _, err := p.cfg.Client.ConfigMaps().Update(ctx, &c); err != nil && !errors.Is(err, store.ErrNotFound) {
		return reconcile.Result{}, fmt.Errorf("update %s/%s: %w", req.Name, RootCAConfigMap, err)
	}
	p.log.Info("put the root CA back", "namespace", req.Name)
	return reconcile.Result{}, nil
}

// current reports whether cm holds exactly the published data.
func (p *RootCAPublisher) current(cm *api.ConfigMap) bool {
	return len(cm.Data) == 1 && cm.Data[RootCAKey] == p.data && len(cm.BinaryData) == 0
}
