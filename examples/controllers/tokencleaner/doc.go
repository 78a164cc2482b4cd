// Package tokencleaner is the controller-manager's token cleaner, as
// Kubernetes' tokencleaner controller: it deletes bootstrap token Secrets
// (type bootstrap.kubernetes.io/token in kube-system) once their
// expiration has passed, so an expired token can no longer be looked up,
// and the bootstrap signer drops its signature from cluster-info.
//
// Contract: a bootstrap token Secret whose expiration (RFC 3339, on the
// Config's clock) is at or before now is deleted, with its UID as a
// precondition so that a Secret re-created under the same name is not
// deleted by mistake; a Secret that has not expired is looked at again
// when it expires; one without an expiration is left alone; a garbled
// expiration counts as expired (it grants nothing). Other Secrets are
// never touched.
package tokencleaner
