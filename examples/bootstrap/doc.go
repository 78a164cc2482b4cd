// Package bootstrap holds what both sides of a node's join need to agree
// on: the format of bootstrap tokens and their Secrets, the user a token
// authenticates as, and the detached JWS that signs the cluster-info
// ConfigMap, with the verifier a joining agent runs.
//
// It follows Kubernetes' bootstrap tokens: a token is "<id>.<secret>"
// (6 and 16 characters of [a-z0-9]); its Secret is
// kube-system/bootstrap-token-<id> of type bootstrap.kubernetes.io/token
// with token-id, token-secret, an optional RFC 3339 expiration, the usages
// usage-bootstrap-authentication and usage-bootstrap-signing ("true"), and
// auth-extra-groups; it authenticates as system:bootstrap:<id> in
// system:bootstrappers. The bootstrap signer writes, for each signing
// token, jws-kubeconfig-<id> into kube-public/cluster-info: the detached
// (header..signature) HS256 JWS of the kubeconfig key under the token
// secret with kid <id>, byte for byte what kubeadm's discovery expects.
// VerifyClusterInfo checks it, and optionally the CA's public key hash
// "sha256:<hex>" as kubeadm's --discovery-token-ca-cert-hash does.
//
// Contract: every check compares secrets in constant time; every failure
// is an error that says what did not match and never contains the secret.
package bootstrap
