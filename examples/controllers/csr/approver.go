package csr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api/certificates"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
)

// Subresources the approver asks authorization for, as Kubernetes'
// csrapproving does (create on certificatesigningrequests/<sub>).
const (
	// SubresourceSelfNodeClient: a node renewing its own client certificate.
	SubresourceSelfNodeClient = "selfnodeclient"
	// SubresourceNodeClient: a bootstrap requester asking for a node's.
	SubresourceNodeClient = "nodeclient"
)

// AuthorizeFunc decides whether the requester of csr may have it
// approved automatically for subresource (SubresourceSelfNodeClient or
// SubresourceNodeClient): where Kubernetes sends a SubjectAccessReview.
type AuthorizeFunc func(ctx context.Context, csr *certificates.CertificateSigningRequest, subresource string) (bool, error)

// DefaultAuthorize is the rule Kubernetes' default RBAC bindings give:
// nodes (group system:nodes) may renew their own client certificates,
// bootstrap tokens (group system:bootstrappers) may ask for new ones.
func DefaultAuthorize(_ context.Context, csr *certificates.CertificateSigningRequest, subresource string) (bool, error) {
	has := func(g string) bool {
		for _, x := range csr.Spec.Groups {
			if x == g {
				return true
			}
		}
		return false
	}
	switch subresource {
	case SubresourceSelfNodeClient:
		return has(NodesGroup) && strings.HasPrefix(csr.Spec.Username, NodeUserPrefix), nil
	case SubresourceNodeClient:
		return has("system:bootstrappers") && strings.HasPrefix(csr.Spec.Username, BootstrapUserPrefix), nil
	}
	return false, nil
}

// ApproverConfig configures the approver. Client is required.
type ApproverConfig struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// Authorize decides per request. Default DefaultAuthorize.
	Authorize AuthorizeFunc
	// Clock times retries and condition times. Default real.
	Clock clockwork.Clock
	// Logger receives the logs. Default discard.
	Logger *slog.Logger
	// Registerer, if set, receives the reconcile metrics.
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field; it changes nothing.
func (c *ApproverConfig) Validate() error {
	if c.Client == nil {
		return errors.New("csr: approver: Client is required")
	}
	return nil
}

// Approver approves kubelet client certificate requests that pass the
// rule; see the package documentation.
type Approver struct {
	cfg  ApproverConfig
	csrs *informer.Informer[*certificates.CertificateSigningRequest]
	ctrl *reconcile.Controller[reconcile.Request]
}

// NewApprover checks cfg and builds the approver.
func NewApprover(cfg ApproverConfig) (*Approver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Authorize == nil {
		cfg.Authorize = DefaultAuthorize
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &Approver{cfg: cfg}
	var err error
	if a.csrs, a.ctrl, err = csrController(cfg.Client, "csrapproving", a.sync, cfg.Clock, cfg.Logger, cfg.Registerer); err != nil {
		return nil, err
	}
	return a, nil
}

// Run waits for the cache and approves until ctx ends.
func (a *Approver) Run(ctx context.Context) error { return runCSR(ctx, a.csrs, a.ctrl) }

func (a *Approver) sync(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	csr, ok := a.csrs.Get("", req.Name)
	if !ok || csr.Spec.SignerName != SignerKubeletClient {
		return reconcile.Result{}, nil
	}
	if _, done := decided(csr); done {
		return reconcile.Result{}, nil
	}
	cr, err := ParseRequest(csr.Spec.Request)
	if err != nil {
		return reconcile.Result{}, nil // not ours to judge: the signer fails it
	}
	if ValidateKubeletClient(cr, csr.Spec.Usages) != nil {
		return reconcile.Result{}, nil // neither: left for a person to decide
	}
	sub := SubresourceNodeClient
	if csr.Spec.Username == cr.Subject.CommonName {
		sub = SubresourceSelfNodeClient
	}
	if sub == SubresourceSelfNodeClient || strings.HasPrefix(csr.Spec.Username, BootstrapUserPrefix) {
		ok, err := a.cfg.Authorize(ctx, csr, sub)
		if err != nil {
			return reconcile.Result{}, fmt.Errorf("authorize CSR %s: %w", csr.Name, err)
		}
		if !ok {
			return reconcile.Result{}, nil
		}
	} else {
		return reconcile.Result{}, nil
	}
	upd := csr.DeepCopy()
	now := store.NewTime(a.cfg.Clock.Now())
	upd.Status.Conditions = append(upd.Status.Conditions, certificates.CertificateSigningRequestCondition{Type: certificates.CertificateApproved,
		Status: "True", Reason: "AutoApproved", Message: "Auto approving kubelet client certificate after SubjectAccessReview.",
		LastUpdateTime: now, LastTransitionTime: now})
	if err := a.cfg.Client.CertificateSigningRequests().Call(ctx, http.MethodPut, "", csr.Name, "approval", nil, upd, nil); err != nil {
		return reconcile.Result{}, fmt.Errorf("approve CSR %s: %w", csr.Name, err)
	}
	a.cfg.Logger.Info("approved CSR", "controller", "csrapproving", "object", csr.Name, "requester", csr.Spec.Username)
	return reconcile.Result{}, nil
}

// csrController builds the informer and the controller of a CSR
// controller.
func csrController(cs *client.Clientset, name string, fn reconcile.Func[reconcile.Request], clock clockwork.Clock, log *slog.Logger,
	reg prometheus.Registerer) (*informer.Informer[*certificates.CertificateSigningRequest], *reconcile.Controller[reconcile.Request], error) {
	inf, _, err := informer.Shared(cs.Informers(), cs.CertificateSigningRequests(), informer.Config[*certificates.CertificateSigningRequest]{})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	ctrl, err := reconcile.New(reconcile.Config[reconcile.Request]{Name: name, Reconciler: fn, Workers: 2, Clock: clock, Logger: log, Registerer: reg})
	if err != nil {
		return nil, nil, err
	}
	enq := func(c *certificates.CertificateSigningRequest) { ctrl.Queue().Add(reconcile.Request{Name: c.Name}) }
	if _, err := inf.AddHandler(informer.HandlerFuncs[*certificates.CertificateSigningRequest]{
		AddFunc:    func(c *certificates.CertificateSigningRequest, _ bool) { enq(c) },
		UpdateFunc: func(_, c *certificates.CertificateSigningRequest) { enq(c) },
	}); err != nil {
		return nil, nil, err
	}
	return inf, ctrl, nil
}

func runCSR(ctx context.Context, inf *informer.Informer[*certificates.CertificateSigningRequest], ctrl *reconcile.Controller[reconcile.Request]) error {
	if err := inf.WaitForSync(ctx); err != nil {
		return nil // ctx ended
	}
	for _, c := range inf.List() {
		ctrl.Queue().Add(reconcile.Request{Name: c.Name})
	}
	return ctrl.Run(ctx)
}
