package csr

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api/certificates"
)

// Signer names and well-known identities, as Kubernetes has them.
const (
	// SignerKubeletClient signs kubelets' client certificates.
	SignerKubeletClient = "kubernetes.io/kube-apiserver-client-kubelet"
	// SignerKubeletServing signs kubelets' serving certificates.
	SignerKubeletServing = "kubernetes.io/kubelet-serving"
	// NodesGroup is the organization of every node certificate.
	NodesGroup = "system:nodes"
	// NodeUserPrefix starts a node's user name (system:node:<name>).
	NodeUserPrefix = "system:node:"
	// BootstrapUserPrefix starts a bootstrap token's user name.
	BootstrapUserPrefix = "system:bootstrap:"
)

// ErrInvalidRequest is wrapped by every reason a request is refused.
var ErrInvalidRequest = errors.New("csr: invalid request")

// ParseRequest decodes the PEM "CERTIFICATE REQUEST" of a CSR and checks
// its self-signature.
func ParseRequest(pemData []byte) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(pemData)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, fmt.Errorf("%w: spec.request is not a PEM CERTIFICATE REQUEST", ErrInvalidRequest)
	}
	cr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: spec.request: %v", ErrInvalidRequest, err)
	}
	if err := cr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w: spec.request signature: %v", ErrInvalidRequest, err)
	}
	return cr, nil
}

// usagesWithin reports whether have holds every usage of required and
// nothing outside required and optional.
func usagesWithin(have []certificates.KeyUsage, required, optional []certificates.KeyUsage) error {
	for _, u := range required {
		if !slices.Contains(have, u) {
			return fmt.Errorf("%w: usages %q lack %q", ErrInvalidRequest, have, u)
		}
	}
	for _, u := range have {
		if !slices.Contains(required, u) && !slices.Contains(optional, u) {
			return fmt.Errorf("%w: usage %q is not allowed (allowed: %q, %q)", ErrInvalidRequest, u, required, optional)
		}
	}
	return nil
}

func nodeSubject(cr *x509.CertificateRequest) error {
	if !slices.Equal(cr.Subject.Organization, []string{NodesGroup}) {
		return fmt.Errorf("%w: subject organization %q, want [%q]", ErrInvalidRequest, cr.Subject.Organization, NodesGroup)
	}
	if !strings.HasPrefix(cr.Subject.CommonName, NodeUserPrefix) || len(cr.Subject.CommonName) == len(NodeUserPrefix) {
		return fmt.Errorf("%w: subject common name %q does not start with %q", ErrInvalidRequest, cr.Subject.CommonName, NodeUserPrefix)
	}
	return nil
}

// ValidateKubeletClient checks a kube-apiserver-client-kubelet request as
// Kubernetes' ValidateKubeletClientCSR does: organization exactly
// system:nodes, common name system:node:<name>, no subject alternative
// names, usages client auth and digital signature (key encipherment
// allowed).
func ValidateKubeletClient(cr *x509.CertificateRequest, usages []certificates.KeyUsage) error {
	if err := nodeSubject(cr); err != nil {
		return err
	}
	if len(cr.DNSNames)+len(cr.EmailAddresses)+len(cr.IPAddresses)+len(cr.URIs) > 0 {
		return fmt.Errorf("%w: a kubelet client certificate has no subject alternative names", ErrInvalidRequest)
	}
	return usagesWithin(usages, []certificates.KeyUsage{certificates.UsageClientAuth, certificates.UsageDigitalSignature},
		[]certificates.KeyUsage{certificates.UsageKeyEncipherment})
}

// ValidateKubeletServing checks a kubelet-serving request as Kubernetes'
// ValidateKubeletServingCSR does: organization exactly system:nodes,
// common name system:node:<name>, at least one DNS name or IP address and
// no e-mail or URI names, usages server auth and digital signature (key
// encipherment allowed).
func ValidateKubeletServing(cr *x509.CertificateRequest, usages []certificates.KeyUsage) error {
	if err := nodeSubject(cr); err != nil {
		return err
	}
	if len(cr.DNSNames)+len(cr.IPAddresses) == 0 {
		return fmt.Errorf("%w: a kubelet serving certificate needs a DNS name or IP address", ErrInvalidRequest)
	}
	if len(cr.EmailAddresses)+len(cr.URIs) > 0 {
		return fmt.Errorf("%w: a kubelet serving certificate has no e-mail or URI names", ErrInvalidRequest)
	}
	return usagesWithin(usages, []certificates.KeyUsage{certificates.UsageServerAuth, certificates.UsageDigitalSignature},
		[]certificates.KeyUsage{certificates.UsageKeyEncipherment})
}

// requesterMatches checks that a node requester asks for its own name: a
// system:node:<name> user may only ask for CN system:node:<name>; a
// bootstrap user (system:bootstrap:<id>) may ask for a client certificate
// of any node name (that is what bootstrapping is); anyone else is
// refused.
func requesterMatches(csr *certificates.CertificateSigningRequest, cr *x509.CertificateRequest) error {
	user := csr.Spec.Username
	switch {
	case strings.HasPrefix(user, NodeUserPrefix):
		if cr.Subject.CommonName != user {
			return fmt.Errorf("%w: subject %q is not the requester %q", ErrInvalidRequest, cr.Subject.CommonName, user)
		}
		return nil
	case strings.HasPrefix(user, BootstrapUserPrefix) && csr.Spec.SignerName == SignerKubeletClient:
		return nil
	}
	return fmt.Errorf("%w: requester %q is neither a node nor, for a client certificate, a bootstrap token", ErrInvalidRequest, user)
}

// Check is the whole rule the signer applies to a request of its
// signers: the PEM parses and is self-signed, the signer's validation
// holds, and the subject is the requester's (requesterMatches).
func Check(csr *certificates.CertificateSigningRequest) (*x509.CertificateRequest, error) {
	cr, err := ParseRequest(csr.Spec.Request)
	if err != nil {
		return nil, err
	}
	switch csr.Spec.SignerName {
	case SignerKubeletClient:
		err = ValidateKubeletClient(cr, csr.Spec.Usages)
	case SignerKubeletServing:
		err = ValidateKubeletServing(cr, csr.Spec.Usages)
	default:
		return nil, fmt.Errorf("%w: signer %q is not served", ErrInvalidRequest, csr.Spec.SignerName)
	}
	if err != nil {
		return nil, err
	}
	if err := requesterMatches(csr, cr); err != nil {
		return nil, err
	}
	return cr, nil
}

// conditionOf returns the CSR's condition of type t, or nil.
func conditionOf(csr *certificates.CertificateSigningRequest, t certificates.RequestConditionType) *certificates.CertificateSigningRequestCondition {
	for i := range csr.Status.Conditions {
		if csr.Status.Conditions[i].Type == t {
			return &csr.Status.Conditions[i]
		}
	}
	return nil
}

// decided reports whether the CSR is approved, denied or failed.
func decided(csr *certificates.CertificateSigningRequest) (approved, done bool) {
	a := conditionOf(csr, certificates.CertificateApproved)
	d := conditionOf(csr, certificates.CertificateDenied)
	f := conditionOf(csr, certificates.CertificateFailed)
	approved = a != nil && a.Status != "False"
	return approved, approved || d != nil || f != nil
}
