package apiserver

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api/certificates"
	"github.com/setpoint-dev/setpoint/examples/apiserver/authz"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// Signer names Kubernetes defines for node certificates.
const (
	SignerKubeletClient  = "kubernetes.io/kube-apiserver-client-kubelet"
	SignerKubeletServing = "kubernetes.io/kubelet-serving"
)

// csrAdmission enforces who may do what with CertificateSigningRequests:
//   - on create, spec.username, uid, groups and extra are the
//     authenticated requester's, whatever the client sent; the request
//     must be a PEM CERTIFICATE REQUEST whose signature verifies; for the
//     node signers, usages and subject must be the ones Kubernetes
//     requires (O=system:nodes, CN=system:node:<name>), and a node may ask
//     only for its own name;
//   - an approval (the approval subresource) needs "approve" on
//     "signers", and a certificate (the status subresource) needs "sign"
//     on "signers" and an Approved, not Failed request; the certificate
//     must be PEM CERTIFICATE blocks.
//
// Refusals are 403 (permission) or 422 (content), and nothing is written.
type csrAdmission struct {
	authz Authorizer
}

var (
	_ rest.MutatingAdmission   = csrAdmission{}
	_ rest.ValidatingAdmission = csrAdmission{}
)

// Name implements rest.AdmissionPlugin.
func (csrAdmission) Name() string { return "CertificateSigningRequest" }

// Admit fills the requester on create and checks the request.
func (c csrAdmission) Admit(ctx context.Context, a rest.Attributes) error {
	csr, ok := a.Object.(*certificates.CertificateSigningRequest)
	if !ok || a.Verb != "create" || a.Subresource != "" {
		return nil
	}
	u := UserFrom(ctx)
	if u == nil {
		return watch.NewStatusError(http.StatusForbidden, watch.StatusReasonForbidden, "a CertificateSigningRequest needs an authenticated requester")
	}
	s := &csr.Spec
	s.Username, s.UID, s.Groups, s.Extra = u.Name, u.UID, slices.Clone(u.Groups), nil
	for k, v := range u.Extra {
		if s.Extra == nil {
			s.Extra = map[string]certificates.ExtraValue{}
		}
		s.Extra[k] = slices.Clone(v)
	}
	b, _ := pem.Decode(s.Request)
	if b == nil || b.Type != "CERTIFICATE REQUEST" {
		return &store.FieldError{Field: "spec.request", Reason: "must be a PEM CERTIFICATE REQUEST block"}
	}
	req, err := x509.ParseCertificateRequest(b.Bytes)
	if err == nil {
		err = req.CheckSignature()
	}
	if err != nil {
		return &store.FieldError{Field: "spec.request", Reason: "not a valid certificate request: " + err.Error()}
	}
	return checkNodeCSR(csr, req, u)
}

// checkNodeCSR applies the node signers' rules.
func checkNodeCSR(csr *certificates.CertificateSigningRequest, req *x509.CertificateRequest, u *User) error {
	var allowed [][]certificates.KeyUsage
	switch csr.Spec.SignerName {
	case SignerKubeletClient:
		allowed = [][]certificates.KeyUsage{{certificates.UsageDigitalSignature, certificates.UsageClientAuth},
			{certificates.UsageKeyEncipherment, certificates.UsageDigitalSignature, certificates.UsageClientAuth}}
	case SignerKubeletServing:
		allowed = [][]certificates.KeyUsage{{certificates.UsageDigitalSignature, certificates.UsageServerAuth},
			{certificates.UsageKeyEncipherment, certificates.UsageDigitalSignature, certificates.UsageServerAuth}}
	default:
		return nil
	}
	got := slices.Clone(csr.Spec.Usages)
	slices.Sort(got)
	if !slices.ContainsFunc(allowed, func(want []certificates.KeyUsage) bool {
		w := slices.Clone(want)
		slices.Sort(w)
		return slices.Equal(got, w)
	}) {
		return &store.FieldError{Field: "spec.usages", Value: fmt.Sprint(csr.Spec.Usages), Reason: fmt.Sprintf("signer %s allows only %v", csr.Spec.SignerName, allowed)}
	}
	cn := req.Subject.CommonName
	if !slices.Equal(req.Subject.Organization, []string{"system:nodes"}) || !strings.HasPrefix(cn, "system:node:") || len(cn) == len("system:node:") {
		return &store.FieldError{Field: "spec.request", Reason: fmt.Sprintf("signer %s needs the subject O=system:nodes, CN=system:node:<name>, not O=%v, CN=%q", csr.Spec.SignerName, req.Subject.Organization, cn)}
	}
	if strings.HasPrefix(u.Name, "system:node:") && u.Name != cn {
		return watch.NewStatusError(http.StatusForbidden, watch.StatusReasonForbidden,
			fmt.Sprintf("certificatesigningrequests is forbidden: node %q may not request a certificate for %q", u.Name, cn))
	}
	if csr.Spec.SignerName == SignerKubeletServing && !strings.HasPrefix(u.Name, "system:node:") && !slices.Contains(u.Groups, "system:masters") {
		return watch.NewStatusError(http.StatusForbidden, watch.StatusReasonForbidden,
			fmt.Sprintf("certificatesigningrequests is forbidden: only node %q may request its serving certificate, not %q", cn, u.Name))
	}
	return nil
}

// Validate checks approvals and certificates.
func (c csrAdmission) Validate(ctx context.Context, a rest.Attributes, write func(context.Context) error) error {
	csr, ok := a.Object.(*certificates.CertificateSigningRequest)
	old, _ := a.OldObject.(*certificates.CertificateSigningRequest)
	if !ok || old == nil || (a.Verb != "update" && a.Verb != "patch") {
		return write(ctx)
	}
	u := UserFrom(ctx)
	forbid := func(verb string) error {
		name := "system:anonymous"
		if u != nil {
			name = u.Name
		}
		return watch.NewStatusError(http.StatusForbidden, watch.StatusReasonForbidden,
			fmt.Sprintf("certificatesigningrequests %q is forbidden: user %q may not %s requests for signer %q (needs %q on signers)", csr.Name, name, verb, csr.Spec.SignerName, verb))
	}
	switch a.Subresource {
	case "approval":
		if !slices.Equal(condTypes(old), condTypes(csr)) && (u == nil || !c.allowed(u, "approve", csr.Spec.SignerName)) {
			return forbid("approve")
		}
	case "status":
		if string(csr.Status.Certificate) == string(old.Status.Certificate) {
			break
		}
		if u == nil || !c.allowed(u, "sign", csr.Spec.SignerName) {
			return forbid("sign")
		}
		if !hasCond(csr, certificates.CertificateApproved) || hasCond(csr, certificates.CertificateFailed) {
			return &store.FieldError{Field: "status.certificate", Reason: "may only be set on an Approved request that has not Failed"}
		}
		if err := checkCertPEM(csr.Status.Certificate); err != nil {
			return &store.FieldError{Field: "status.certificate", Reason: err.Error()}
		}
	}
	return write(ctx)
}

func condTypes(c *certificates.CertificateSigningRequest) []certificates.RequestConditionType {
	var out []certificates.RequestConditionType
	for _, x := range c.Status.Conditions {
		out = append(out, x.Type)
	}
	return out
}

func hasCond(c *certificates.CertificateSigningRequest, t certificates.RequestConditionType) bool {
	return slices.Contains(condTypes(c), t)
}

// checkCertPEM requires one or more PEM CERTIFICATE blocks that parse, and
// nothing else.
func checkCertPEM(data []byte) error {
	if len(data) == 0 {
		return nil
	}
	n := 0
	for rest := data; len(strings.TrimSpace(string(rest))) > 0; n++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil || b.Type != "CERTIFICATE" {
			return fmt.Errorf("must be PEM CERTIFICATE blocks only (block %d is not)", n)
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return fmt.Errorf("certificate %d: %v", n, err)
		}
	}
	return nil
}

// allowed asks the authorizer whether u may verb ("approve" or "sign")
// requests for signer, as Kubernetes asks: the verb on resource signers
// of group certificates.k8s.io, named by the signer (a rule may also
// name "<domain>/*" or leave names out).
func (c csrAdmission) allowed(u *User, verb, signer string) bool {
	for _, name := range []string{signer, signerDomainWildcard(signer)} {
		if d, _ := c.authz.Authorize(&authz.Attributes{User: *u, Verb: verb, ResourceRequest: true,
			APIGroup: "certificates.k8s.io", Resource: "signers", Name: name}); d == authz.Allow {
			return true
		}
	}
	return false
}

// signerDomainWildcard is "example.com/*" for signer "example.com/name".
func signerDomainWildcard(signer string) string {
	domain, _, _ := strings.Cut(signer, "/")
	return domain + "/*"
}
