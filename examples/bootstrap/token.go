package bootstrap

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"sigs.k8s.io/yaml"
)

// Names and keys of bootstrap tokens and cluster-info, as Kubernetes
// defines them.
const (
	// SecretType is the type of a bootstrap token Secret.
	SecretType = "bootstrap.kubernetes.io/token"
	// SecretPrefix starts a bootstrap token Secret's name; the token ID
	// follows. The Secret lives in kube-system.
	SecretPrefix = "bootstrap-token-"
	// Namespace holds bootstrap token Secrets.
	Namespace = "kube-system"
	// KeyTokenID, KeyTokenSecret, KeyExpiration, KeyUsageAuthentication,
	// KeyUsageSigning and KeyExtraGroups are the Secret's data keys.
	KeyTokenID             = "token-id"
	KeyTokenSecret         = "token-secret"
	KeyExpiration          = "expiration"
	KeyUsageAuthentication = "usage-bootstrap-authentication"
	KeyUsageSigning        = "usage-bootstrap-signing"
	KeyExtraGroups         = "auth-extra-groups"
	// UserPrefix starts a bootstrap token's user name: system:bootstrap:<id>.
	UserPrefix = "system:bootstrap:"
	// Group is every bootstrap token user's group.
	Group = "system:bootstrappers"
	// ClusterInfoNamespace and ClusterInfoName locate the cluster-info
	// ConfigMap that joining nodes read anonymously.
	ClusterInfoNamespace = "kube-public"
	ClusterInfoName      = "cluster-info"
	// KubeconfigKey is cluster-info's key holding the kubeconfig.
	KubeconfigKey = "kubeconfig"
	// JWSKeyPrefix starts cluster-info's key holding the detached JWS
	// of the kubeconfig for one token: jws-kubeconfig-<id>.
	JWSKeyPrefix = "jws-kubeconfig-"
)

var tokenRE = regexp.MustCompile(`^([a-z0-9]{6})\.([a-z0-9]{16})$`)

// ErrBadToken is wrapped by errors about a token's format.
var ErrBadToken = errors.New("bootstrap: malformed token")

// ParseToken splits a bootstrap token "<id>.<secret>" (6 and 16
// characters of [a-z0-9]).
func ParseToken(token string) (id, secret string, err error) {
	m := tokenRE.FindStringSubmatch(token)
	if m == nil {
		return "", "", fmt.Errorf("%w: want [a-z0-9]{6}.[a-z0-9]{16}", ErrBadToken)
	}
	return m[1], m[2], nil
}

// DetachedSignature returns the detached JWS (header..signature) of
// content, signed with HS256 under the token secret, with the token ID as
// kid: what the bootstrap signer writes to jws-kubeconfig-<id> and what
// kubeadm's discovery checks.
func DetachedSignature(content, id, secret string) (string, error) {
	hdr, err := json.Marshal(map[string]string{"alg": "HS256", "kid": id})
	if err != nil {
		return "", err
	}
	h := base64.RawURLEncoding.EncodeToString(hdr)
	sig, err := jwt.SigningMethodHS256.Sign(h+"."+base64.RawURLEncoding.EncodeToString([]byte(content)), []byte(secret))
	if err != nil {
		return "", err
	}
	return h + ".." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// ErrUnverified is wrapped by every failure of VerifyClusterInfo.
var ErrUnverified = errors.New("bootstrap: cluster-info not verified")

// VerifyClusterInfo checks the cluster-info ConfigMap's data with a
// bootstrap token: its jws-kubeconfig-<id> must be the kubeconfig's
// detached signature under the token; and if caHashes is not empty, the
// kubeconfig's CA must match one of them (CAHash). It returns the
// kubeconfig. Errors wrap ErrUnverified (or ErrBadToken) and say what did
// not match.
func VerifyClusterInfo(data map[string]string, token string, caHashes []string) ([]byte, error) {
	id, secret, err := ParseToken(token)
	if err != nil {
		return nil, err
	}
	kc, ok := data[KubeconfigKey]
	if !ok {
		return nil, fmt.Errorf("%w: no %q key", ErrUnverified, KubeconfigKey)
	}
	sig, ok := data[JWSKeyPrefix+id]
	if !ok {
		return nil, fmt.Errorf("%w: no signature for token ID %q (key %s%s): the token may be unknown, expired, or not for signing", ErrUnverified, id, JWSKeyPrefix, id)
	}
	want, err := DetachedSignature(kc, id, secret)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		return nil, fmt.Errorf("%w: the signature for token ID %q does not match: wrong token secret, or the kubeconfig was changed", ErrUnverified, id)
	}
	if len(caHashes) == 0 {
		return []byte(kc), nil
	}
	ca, err := kubeconfigCA([]byte(kc))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnverified, err)
	}
	got := CAHash(ca)
	for _, h := range caHashes {
		if strings.EqualFold(h, got) {
			return []byte(kc), nil
		}
	}
	return nil, fmt.Errorf("%w: the cluster CA's hash %s matches none of %v", ErrUnverified, got, caHashes)
}

// CAHash is kubeadm's --discovery-token-ca-cert-hash of a CA:
// "sha256:" and the hex SHA-256 of its DER SubjectPublicKeyInfo.
func CAHash(ca *x509.Certificate) string {
	sum := sha256.Sum256(ca.RawSubjectPublicKeyInfo)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// kubeconfigCA returns the CA certificate of the first cluster of a
// kubeconfig (certificate-authority-data).
func kubeconfigCA(kc []byte) (*x509.Certificate, error) {
	var cfg struct {
		Clusters []struct {
			Cluster struct {
				CAData []byte `json:"certificate-authority-data"`
			} `json:"cluster"`
		} `json:"clusters"`
	}
	if err := yaml.Unmarshal(kc, &cfg); err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	if len(cfg.Clusters) == 0 || len(cfg.Clusters[0].Cluster.CAData) == 0 {
		return nil, errors.New("kubeconfig: no cluster with certificate-authority-data")
	}
	return parseCertPEM(cfg.Clusters[0].Cluster.CAData)
}
