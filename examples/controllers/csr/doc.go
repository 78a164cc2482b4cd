// Package csr holds the example cluster's certificate signing request
// controllers for node certificates: the Approver (Kubernetes'
// "csrapproving") and the Signer (Kubernetes' "csrsigning").
//
// Approver. A request for signer kubernetes.io/kube-apiserver-client-kubelet
// that is not yet decided is approved (condition Approved, reason
// AutoApproved) when it is a valid kubelet client request (organization
// exactly system:nodes, common name system:node:<name>, no subject
// alternative names, usages client auth and digital signature, key
// encipherment allowed) and either
//   - the requester is that node (user system:node:<name> renewing its
//     own certificate: the "selfnodeclient" check), or
//   - the requester is a bootstrap token (system:bootstrap:<id>, getting a
//     node its first certificate: the "nodeclient" check),
//
// and ApproverConfig.Authorize allows it. Authorize is where Kubernetes
// sends a SubjectAccessReview for create on
// certificatesigningrequests/selfnodeclient (or nodeclient); the default,
// DefaultAuthorize, applies the rule Kubernetes' default RBAC bindings
// give (nodes renew their own, system:bootstrappers ask for new ones).
// Anything else is left undecided, for a person (kubectl certificate
// approve) — as in Kubernetes, serving certificates are never approved
// automatically.
//
// Signer. An approved, not yet issued request for
// kubernetes.io/kube-apiserver-client-kubelet or kubernetes.io/kubelet-serving
// is checked again (Check: the PEM parses and is self-signed, the
// signer's rules — ValidateKubeletClient or ValidateKubeletServing — hold,
// and the subject is the requester's own node name, or, for a client
// certificate, the requester is a bootstrap token). A request that passes
// gets a certificate from the cluster CA (SignerConfig.CACert and CAKey,
// the apiserver's PKI): its subject, names and key, the usages asked for,
// valid from five minutes ago for CertTTL (one year; shortened by
// spec.expirationSeconds and by the CA's own end). One that does not gets
// condition Failed (reason SignerValidationFailure, message naming the
// problem) and no certificate. Writes go through the status subresource
// with compare-and-swap on the resourceVersion.
//
// Differences from Kubernetes: the requester's user name and groups are
// taken from the request's spec as the apiserver stored them; the
// requester check of the signer is ours (Kubernetes relies on the
// approver alone for it); no CSR cleaner.
package csr
