package apiserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jonboulle/clockwork"
)

const saRules = `[
	{"group":"system:masters","verbs":["*"],"resources":["*"]},
	{"user":"system:serviceaccount:default:robot","verbs":["get","list"],"resources":["pods"],"namespaces":["default"]}
]`

// startTokenServer starts a server on clock (nil: the real clock) with a
// service account robot and a pod web in default.
func startTokenServer(t *testing.T, clock clockwork.Clock) *testServer {
	t.Helper()
	rules := filepath.Join(t.TempDir(), "rules.json")
	os.WriteFile(rules, []byte(saRules), 0o600)
	s := startServer(t, func(c *Config) { c.AuthzFile, c.Clock = rules, clock })
	s.kubectl(t, false, "create", "serviceaccount", "robot")
	s.kubectl(t, false, "apply", "-f", s.writeFile(t, "pod.yaml", podYAML))
	return s
}

// kubectl create token gives a token that authenticates as the service
// account, and stops working once its pod is gone.
func TestKubectlCreateTokenBoundToPod(t *testing.T) {
	requireKubectl(t)
	s := startTokenServer(t, nil)
	anon := s.httpClient(t, false)
	tok := strings.TrimSpace(s.kubectl(t, false, "create", "token", "robot", "--bound-object-kind", "Pod", "--bound-object-name", "web"))
	if code, body := s.raw(t, anon, "GET", "/api/v1/namespaces/default/pods", tok, ""); code != 200 || !strings.Contains(body, `"web"`) {
		t.Fatalf("list pods with the token: %d %s", code, body)
	}
	// Authorization sees the service account's user: it may not read secrets.
	if code, body := s.raw(t, anon, "GET", "/api/v1/namespaces/default/secrets", tok, ""); code != 403 || !strings.Contains(body, `system:serviceaccount:default:robot`) {
		t.Fatalf("list secrets with the token: %d %s", code, body)
	}
	var claims saClaims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &claims); err != nil {
		t.Fatal(err)
	}
	if claims.Issuer != DefaultServiceAccountIssuer || claims.Subject != "system:serviceaccount:default:robot" ||
		claims.Kubernetes == nil || claims.Kubernetes.Pod == nil || claims.Kubernetes.Pod.Name != "web" || claims.Kubernetes.Pod.UID == "" ||
		claims.ExpiresAt.Sub(claims.IssuedAt.Time) != DefaultTokenExpiration {
		t.Fatalf("claims: %+v %+v", claims, claims.Kubernetes)
	}
	// The issuer's keys verify the token (as an external verifier would).
	var jwks struct{ Keys []jwk }
	if code, body := s.raw(t, s.httpClient(t, true), "GET", "/openid/v1/jwks", "", ""); code != 200 || json.Unmarshal([]byte(body), &jwks) != nil || len(jwks.Keys) != 1 {
		t.Fatalf("jwks: %d %s", code, body)
	}
	x, _ := base64.RawURLEncoding.DecodeString(jwks.Keys[0].X)
	y, _ := base64.RawURLEncoding.DecodeString(jwks.Keys[0].Y)
	pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
	parsed, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithAudience(DefaultServiceAccountIssuer))
	if err != nil || parsed.Header["kid"] != jwks.Keys[0].Kid {
		t.Fatalf("verifying with the JWKS: %v, kid %v", err, parsed.Header["kid"])
	}
	var oidc map[string]any
	if code, body := s.raw(t, s.httpClient(t, true), "GET", "/.well-known/openid-configuration", "", ""); code != 200 || json.Unmarshal([]byte(body), &oidc) != nil ||
		oidc["issuer"] != DefaultServiceAccountIssuer || oidc["jwks_uri"] != DefaultServiceAccountIssuer+"/openid/v1/jwks" {
		t.Fatalf("openid-configuration: %d %s", code, body)
	}

	adminC := s.httpClient(t, true)
	adminC.Timeout = 20 * time.Second
	if code, body := s.raw(t, adminC, "DELETE", "/api/v1/namespaces/default/pods/web", "", `{"gracePeriodSeconds":0}`); code != 200 {
		t.Fatalf("delete pod: %d %s", code, body)
	}
	if code, body := s.raw(t, adminC, "GET", "/api/v1/namespaces/default/pods/web", "", ""); code != 404 {
		t.Fatalf("pod still there: %d %s", code, body)
	}
	if code, body := s.raw(t, anon, "GET", "/api/v1/namespaces/default/pods", tok, ""); code != 401 {
		t.Fatalf("token of a deleted pod: %d %s", code, body)
	}
	// A new pod of the same name has another UID: the old token stays dead.
	s.kubectl(t, false, "apply", "-f", s.writeFile(t, "pod.yaml", podYAML))
	if code, body := s.raw(t, anon, "GET", "/api/v1/namespaces/default/pods", tok, ""); code != 401 {
		t.Fatalf("token of a replaced pod: %d %s", code, body)
	}
}

// Bad tokens get a bare 401, whatever is wrong with them.
func TestServiceAccountTokenRejected(t *testing.T) {
	requireKubectl(t)
	clock := clockwork.NewFakeClockAt(time.Now())
	s := startTokenServer(t, clock)
	anon := s.httpClient(t, false)
	good := strings.TrimSpace(s.kubectl(t, false, "create", "token", "robot", "--duration", "20m"))
	wrongAud := strings.TrimSpace(s.kubectl(t, false, "create", "token", "robot", "--audience", "vault"))
	if code, body := s.raw(t, anon, "GET", "/api/v1/namespaces/default/pods", good, ""); code != 200 {
		t.Fatalf("good token: %d %s", code, body)
	}
	var claims saClaims
	jwt.NewParser().ParseUnverified(good, &claims)
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodES256, claims).SignedString(otherKey)
	parts := strings.Split(good, ".")
	noneAlg := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("guess"))
	cases := map[string]string{
		"malformed":       "a.b.c",
		"garbled payload": parts[0] + ".e30x." + parts[2],
		"other key":       forged,
		"alg none":        noneAlg,
		"HS256":           hs,
		"wrong audience":  wrongAud,
	}
	check := func(name, tok string) {
		t.Helper()
		code, body := s.raw(t, anon, "GET", "/api/v1/namespaces/default/pods", tok, "")
		var st struct{ Message string }
		json.Unmarshal([]byte(body), &st)
		if code != 401 || st.Message != "Unauthorized" {
			t.Errorf("%s: %d %s, want a bare 401", name, code, body)
		}
	}
	for name, tok := range cases {
		check(name, tok)
	}
	clock.Advance(21 * time.Minute)
	check("expired", good)

	// Lifetimes: under 10 minutes is refused, over the maximum is cut.
	out := s.kubectl(t, true, "create", "token", "robot", "--duration", "5m")
	if !strings.Contains(out, "spec.expirationSeconds") || !strings.Contains(out, "10 minutes") {
		t.Fatalf("5m token: %s", out)
	}
	long := strings.TrimSpace(s.kubectl(t, false, "create", "token", "robot", "--duration", "1000h"))
	jwt.NewParser().ParseUnverified(long, &claims)
	if got := claims.ExpiresAt.Sub(claims.IssuedAt.Time); got != DefaultServiceAccountMaxTokenExpiration {
		t.Fatalf("1000h token lives %v, want the maximum %v", got, DefaultServiceAccountMaxTokenExpiration)
	}
	out = s.kubectl(t, true, "create", "token", "robot", "--bound-object-kind", "Pod", "--bound-object-name", "nope")
	if !strings.Contains(out, "not found") {
		t.Fatalf("token bound to a missing pod: %s", out)
	}
	out = s.kubectl(t, true, "create", "token", "nobody")
	if !strings.Contains(out, "not found") {
		t.Fatalf("token of a missing service account: %s", out)
	}
}

// The signing key is created once and reused by later starts.
func TestSigningKeyReused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pki", "sa.key")
	k1, err := loadOrCreateSigningKey(p)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := loadOrCreateSigningKey(p)
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("second load: %v, same key %v", err, err == nil && k1.Equal(k2))
	}
	os.WriteFile(p, []byte("garbage"), 0o600)
	if _, err := loadOrCreateSigningKey(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("garbage key: %v", err)
	}
}
