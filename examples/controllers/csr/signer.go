package csr

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api/certificates"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
)

// DefaultCertTTL is the longest validity the signer gives
// (--cluster-signing-duration), one year.
const DefaultCertTTL = 365 * 24 * time.Hour

// backdate is how far before now certificates start, for clock skew
// between the signer and the verifiers (Kubernetes: 5 minutes).
const backdate = 5 * time.Minute

// SignerConfig configures the signer. Client, CACert and CAKey are
// required.
type SignerConfig struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// CACert and CAKey are the PEM cluster CA (the apiserver's PKI:
	// apiserver.PKI.CACert and CAKey; --cluster-signing-cert-file and
	// --cluster-signing-key-file).
	CACert, CAKey []byte
	// CertTTL bounds a certificate's validity (a request's
	// expirationSeconds may shorten it). Default DefaultCertTTL.
	CertTTL time.Duration
	// Clock times certificates. Default real.
	Clock clockwork.Clock
	// Logger receives the logs. Default discard.
	Logger *slog.Logger
	// Registerer, if set, receives the reconcile metrics.
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field; it changes nothing.
func (c *SignerConfig) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("csr: signer: Client is required")
	case len(c.CACert) == 0 || len(c.CAKey) == 0:
		return errors.New("csr: signer: CACert and CAKey are required")
	case c.CertTTL < 0:
		return fmt.Errorf("csr: signer: CertTTL %v is negative", c.CertTTL)
	}
	if _, _, err := loadCA(c.CACert, c.CAKey); err != nil {
		return err
	}
	return nil
}

func loadCA(certPEM, keyPEM []byte) (*x509.Certificate, any, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("csr: signer: CA: %w", err)
	}
	ca, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, nil, fmt.Errorf("csr: signer: CA: %w", err)
	}
	if !ca.IsCA {
		return nil, nil, errors.New("csr: signer: CA certificate is not a CA")
	}
	return ca, pair.PrivateKey, nil
}

// Signer issues certificates for approved kubelet requests; see the
// package documentation.
type Signer struct {
	cfg  SignerConfig
	ca   *x509.Certificate
	key  any
	csrs *informer.Informer[*certificates.CertificateSigningRequest]
	ctrl *reconcile.Controller[reconcile.Request]
}

// NewSigner checks cfg and builds the signer.
func NewSigner(cfg SignerConfig) (*Signer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.CertTTL == 0 {
		cfg.CertTTL = DefaultCertTTL
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Signer{cfg: cfg}
	s.ca, s.key, _ = loadCA(cfg.CACert, cfg.CAKey)
	var err error
	if s.csrs, s.ctrl, err = csrController(cfg.Client, "csrsigning", s.sync, cfg.Clock, cfg.Logger, cfg.Registerer); err != nil {
		return nil, err
	}
	return s, nil
}

// Run waits for the cache and signs until ctx ends.
func (s *Signer) Run(ctx context.Context) error { return runCSR(ctx, s.csrs, s.ctrl) }

func (s *Signer) sync(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	csr, ok := s.csrs.Get("", req.Name)
	if !ok || (csr.Spec.SignerName != SignerKubeletClient && csr.Spec.SignerName != SignerKubeletServing) {
		return reconcile.Result{}, nil
	}
	approved, _ := decided(csr)
	if !approved || len(csr.Status.Certificate) > 0 || conditionOf(csr, certificates.CertificateFailed) != nil ||
		conditionOf(csr, certificates.CertificateDenied) != nil {
		return reconcile.Result{}, nil
	}
	upd := csr.DeepCopy()
	now := s.cfg.Clock.Now()
	cr, err := Check(csr)
	if err == nil {
		upd.Status.Certificate, err = s.sign(cr, csr, now)
	}
	if err != nil {
		if !errors.Is(err, ErrInvalidRequest) {
			return reconcile.Result{}, fmt.Errorf("sign CSR %s: %w", csr.Name, err)
		}
		t := store.NewTime(now)
		upd.Status.Certificate = nil
		upd.Status.Conditions = append(upd.Status.Conditions, certificates.CertificateSigningRequestCondition{Type: certificates.CertificateFailed,
			Status: "True", Reason: "SignerValidationFailure", Message: err.Error(), LastUpdateTime: t, LastTransitionTime: t})
	}
	if _, err := s.cfg.Client.CertificateSigningRequests().UpdateStatus(ctx, upd); err != nil {
		return reconcile.Result{}, fmt.Errorf("CSR %s: write status: %w", csr.Name, err)
	}
	s.cfg.Logger.Info("CSR handled", "controller", "csrsigning", "object", csr.Name, "issued", len(upd.Status.Certificate) > 0)
	return reconcile.Result{}, nil
}

// sign issues the certificate: the request's subject, names and key;
// usages from spec.usages; valid from now-5m until now+TTL (shortened by
// expirationSeconds, never past the CA's own end).
func (s *Signer) sign(cr *x509.CertificateRequest, csr *certificates.CertificateSigningRequest, now time.Time) ([]byte, error) {
	ttl := s.cfg.CertTTL
	if e := csr.Spec.ExpirationSeconds; e != nil && time.Duration(*e)*time.Second < ttl {
		ttl = time.Duration(*e) * time.Second
	}
	notAfter := now.Add(ttl)
	if notAfter.After(s.ca.NotAfter) {
		notAfter = s.ca.NotAfter
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: cr.Subject, DNSNames: cr.DNSNames, IPAddresses: cr.IPAddresses,
		NotBefore: now.Add(-backdate), NotAfter: notAfter, BasicConstraintsValid: true}
	for _, u := range csr.Spec.Usages {
		switch u {
		case certificates.UsageDigitalSignature:
			tmpl.KeyUsage |= x509.KeyUsageDigitalSignature
		case certificates.UsageKeyEncipherment:
			tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
		case certificates.UsageClientAuth:
			tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
		case certificates.UsageServerAuth:
			tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		}
	}
	if _, isRSA := cr.PublicKey.(*rsa.PublicKey); !isRSA {
		tmpl.KeyUsage &^= x509.KeyUsageKeyEncipherment // meaningless for EC keys
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.ca, cr.PublicKey, s.key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
