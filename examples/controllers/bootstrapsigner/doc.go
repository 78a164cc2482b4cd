// Package bootstrapsigner is the controller-manager's bootstrap signer, as
// Kubernetes' bootstrapsigner controller: it keeps the cluster-info
// ConfigMap in kube-public signed, so that a node joining with a bootstrap
// token can check that the kubeconfig it fetched anonymously (server URL
// and cluster CA) came from someone who knows that token (kubeadm's
// token discovery).
//
// Contract: cluster-info's data holds one jws-kubeconfig-<token-id> entry
// per bootstrap token Secret (type bootstrap.kubernetes.io/token in
// kube-system) that allows signing (usage-bootstrap-signing: "true") and
// has not expired on the Config's clock: the detached HS256 JWS of the
// kubeconfig entry under the token's secret (bootstrap.DetachedSignature).
// Entries of tokens that are gone, expired or not for signing are removed;
// every other key is left as it is. The signer does not create
// cluster-info (the apiserver does, as kubeadm init does); a change of the
// kubeconfig is re-signed. A token's entry is dropped when it expires,
// even before the token cleaner deletes the Secret.
package bootstrapsigner
