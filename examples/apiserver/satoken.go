package apiserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
)

// Service account tokens are JWTs signed with ES256 by the key in
// DataDir/pki/sa.key (created on first start, reused after). Their claims
// follow Kubernetes' bound tokens: iss, sub
// (system:serviceaccount:<ns>:<name>), aud, exp, iat, nbf, jti, and the
// private claim "kubernetes.io" naming the namespace, the service account
// and the object the token is bound to (a pod or a secret), with UIDs.

const (
	// DefaultServiceAccountIssuer is the iss of the tokens the server
	// issues, and the issuer of its discovery document, unless
	// Config.ServiceAccountIssuer says otherwise.
	DefaultServiceAccountIssuer = "https://kubernetes.default.svc.cluster.local"
	// DefaultServiceAccountMaxTokenExpiration caps a requested token
	// lifetime unless Config.ServiceAccountMaxTokenExpiration says
	// otherwise.
	DefaultServiceAccountMaxTokenExpiration = 24 * time.Hour
	// MinTokenExpiration is the shortest lifetime a TokenRequest may ask
	// for (Kubernetes: 10 minutes).
	MinTokenExpiration = 10 * time.Minute
	// DefaultTokenExpiration is the lifetime of a TokenRequest that does
	// not ask for one (Kubernetes: 1 hour).
	DefaultTokenExpiration = time.Hour
)

// ServiceAccountUsernamePrefix starts the user name of a service account.
const ServiceAccountUsernamePrefix = "system:serviceaccount:"

// Extra keys of a service account token's user, as in Kubernetes.
const (
	ExtraPodName      = "authentication.kubernetes.io/pod-name"
	ExtraPodUID       = "authentication.kubernetes.io/pod-uid"
	ExtraCredentialID = "authentication.kubernetes.io/credential-id"
)

// ServiceAccountUser returns the user a service account authenticates as.
func ServiceAccountUser(namespace, name, uid string) *User {
	return &User{Name: ServiceAccountUsernamePrefix + namespace + ":" + name, UID: uid,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"}}
}

// objectClaim names an object and its UID inside a token.
type objectClaim struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

// kubernetesClaim is the "kubernetes.io" private claim.
type kubernetesClaim struct {
	Namespace      string       `json:"namespace"`
	ServiceAccount objectClaim  `json:"serviceaccount"`
	Pod            *objectClaim `json:"pod,omitempty"`
	Secret         *objectClaim `json:"secret,omitempty"`
}

type saClaims struct {
	jwt.RegisteredClaims
	Kubernetes *kubernetesClaim `json:"kubernetes.io,omitempty"`
}

// tokenIssuer signs and verifies service account tokens.
type tokenIssuer struct {
	key       *ecdsa.PrivateKey
	keyID     string
	issuer    string
	audiences []string // the API's audiences: a token must name one
	maxTTL    time.Duration
	clock     clockwork.Clock
}

// loadOrCreateSigningKey reads the EC private key at path, or creates it
// (mode 0600) if the file does not exist.
func loadOrCreateSigningKey(path string) (*ecdsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k, pemKey, err := newKey()
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, pemKey, 0o600); err != nil {
			return nil, fmt.Errorf("service account signing key: %w", err)
		}
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("service account signing key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "EC PRIVATE KEY" {
		return nil, fmt.Errorf("service account signing key %s: want a PEM \"EC PRIVATE KEY\" block", path)
	}
	k, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("service account signing key %s: %w", path, err)
	}
	return k, nil
}

// keyIDOf is Kubernetes' key ID: the unpadded base64url SHA-256 of the
// public key's DER (PKIX) encoding.
func keyIDOf(pub *ecdsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

func newTokenIssuer(key *ecdsa.PrivateKey, issuer string, audiences []string, maxTTL time.Duration, clock clockwork.Clock) (*tokenIssuer, error) {
	kid, err := keyIDOf(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return &tokenIssuer{key: key, keyID: kid, issuer: issuer, audiences: audiences, maxTTL: maxTTL, clock: clock}, nil
}

// issue signs a token for sa with the given audiences and lifetime,
// bound to pod or secret (at most one; both nil: bound to the service
// account only).
func (ti *tokenIssuer) issue(sa *api.ServiceAccount, audiences []string, ttl time.Duration, pod, secret *objectClaim) (string, time.Time, error) {
	now := ti.clock.Now().Truncate(time.Second)
	exp := now.Add(ttl)
	jti := make([]byte, 16)
	rand.Read(jti)
	c := saClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: ti.issuer, Subject: ServiceAccountUsernamePrefix + sa.Namespace + ":" + sa.Name, Audience: audiences,
			ExpiresAt: jwt.NewNumericDate(exp), IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			ID: fmt.Sprintf("%x-%x-%x-%x-%x", jti[0:4], jti[4:6], jti[6:8], jti[8:10], jti[10:]),
		},
		Kubernetes: &kubernetesClaim{Namespace: sa.Namespace, ServiceAccount: objectClaim{Name: sa.Name, UID: sa.UID}, Pod: pod, Secret: secret},
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	t.Header["kid"] = ti.keyID
	s, err := t.SignedString(ti.key)
	return s, exp, err
}

// saTokenAuthenticator authenticates bound service account tokens: the
// signature, issuer, an audience of the API, the time window, and then
// that the service account and the bound object still exist with the UIDs
// the token names (read from storage, not a cache).
type saTokenAuthenticator struct {
	ti       *tokenIssuer
	accounts *store.Store[*api.ServiceAccount]
	pods     *store.Store[*api.Pod]
	secrets  *store.Store[*api.Secret]
}

func newSATokenAuthenticator(b store.Backend, ti *tokenIssuer) (*saTokenAuthenticator, error) {
	a := &saTokenAuthenticator{ti: ti}
	var errs [3]error
	a.accounts, errs[0] = store.New[*api.ServiceAccount](b, registry.ServiceAccountKind.Resource())
	a.pods, errs[1] = store.New[*api.Pod](b, registry.PodKind.Resource())
	a.secrets, errs[2] = store.New[*api.Secret](b, registry.SecretKind.Resource())
	return a, errors.Join(errs[:]...)
}

// Authenticate returns the token's service account user, or nil.
func (a *saTokenAuthenticator) Authenticate(r *http.Request) *User {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.Count(tok, ".") != 2 {
		return nil
	}
	u, err := a.verify(r.Context(), tok)
	if err != nil {
		return nil
	}
	return u
}

// verify checks tok and returns its user, or an error saying why not (for
// logs and tests; the client only ever sees 401).
func (a *saTokenAuthenticator) verify(ctx context.Context, tok string) (*User, error) {
	var c saClaims
	_, err := jwt.ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) { return &a.ti.key.PublicKey, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}), jwt.WithIssuer(a.ti.issuer),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(a.ti.clock.Now), jwt.WithLeeway(0))
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(c.Audience, func(aud string) bool { return slices.Contains(a.ti.audiences, aud) }) {
		return nil, fmt.Errorf("token audiences %v name none of the API's %v", c.Audience, a.ti.audiences)
	}
	k := c.Kubernetes
	if k == nil || k.Namespace == "" || k.ServiceAccount.Name == "" || c.Subject != ServiceAccountUsernamePrefix+k.Namespace+":"+k.ServiceAccount.Name {
		return nil, errors.New("token has no or an inconsistent kubernetes.io claim")
	}
	sa, err := a.accounts.Get(ctx, k.Namespace, k.ServiceAccount.Name)
	if err != nil {
		return nil, fmt.Errorf("service account %s/%s: %w", k.Namespace, k.ServiceAccount.Name, err)
	}
	if sa.UID != k.ServiceAccount.UID {
		return nil, fmt.Errorf("service account %s/%s has UID %s, the token names %s", k.Namespace, sa.Name, sa.UID, k.ServiceAccount.UID)
	}
	u := ServiceAccountUser(k.Namespace, sa.Name, sa.UID)
	u.Extra = map[string][]string{ExtraCredentialID: {"JTI=" + c.ID}}
	now := a.ti.clock.Now()
	switch {
	case k.Pod != nil:
		p, err := a.pods.Get(ctx, k.Namespace, k.Pod.Name)
		if err != nil {
			return nil, fmt.Errorf("bound pod %s/%s: %w", k.Namespace, k.Pod.Name, err)
		}
		if p.UID != k.Pod.UID {
			return nil, fmt.Errorf("bound pod %s/%s has UID %s, the token names %s", k.Namespace, p.Name, p.UID, k.Pod.UID)
		}
		if p.DeletionTimestamp != nil && !now.Before(p.DeletionTimestamp.Time) {
			return nil, fmt.Errorf("bound pod %s/%s is being deleted", k.Namespace, p.Name)
		}
		u.Extra[ExtraPodName], u.Extra[ExtraPodUID] = []string{p.Name}, []string{p.UID}
	case k.Secret != nil:
		s, err := a.secrets.Get(ctx, k.Namespace, k.Secret.Name)
		if err != nil {
			return nil, fmt.Errorf("bound secret %s/%s: %w", k.Namespace, k.Secret.Name, err)
		}
		if s.UID != k.Secret.UID || s.DeletionTimestamp != nil {
			return nil, fmt.Errorf("bound secret %s/%s was replaced or is being deleted", k.Namespace, s.Name)
		}
	}
	return u, nil
}
