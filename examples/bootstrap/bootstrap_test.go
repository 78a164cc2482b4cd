package bootstrap_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/bootstrap"
)

const token = "abcdef.0123456789abcdef"

func secretData(extra map[string]string) map[string][]byte {
	d := map[string][]byte{"token-id": []byte("abcdef"), "token-secret": []byte("0123456789abcdef"), "usage-bootstrap-authentication": []byte("true")}
	for k, v := range extra {
		d[k] = []byte(v)
	}
	return d
}

func TestTokenUser(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	name, groups, err := bootstrap.TokenUser(bootstrap.SecretType, secretData(map[string]string{
		"expiration": "2026-01-02T00:00:00Z", "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token"}), token, now)
	if err != nil || name != "system:bootstrap:abcdef" || strings.Join(groups, ",") != "system:bootstrappers,system:bootstrappers:kubeadm:default-node-token" {
		t.Fatalf("TokenUser = %q %v %v", name, groups, err)
	}
	for what, tc := range map[string]struct {
		typ   string
		data  map[string][]byte
		token string
		want  string
	}{
		"malformed":       {bootstrap.SecretType, secretData(nil), "abcdef:0123456789abcdef", "malformed"},
		"upper case":      {bootstrap.SecretType, secretData(nil), "ABCDEF.0123456789abcdef", "malformed"},
		"wrong secret":    {bootstrap.SecretType, secretData(nil), "abcdef.0123456789abcdee", "wrong secret"},
		"expired":         {bootstrap.SecretType, secretData(map[string]string{"expiration": "2025-12-31T23:59:59Z"}), token, "expired"},
		"bad expiration":  {bootstrap.SecretType, secretData(map[string]string{"expiration": "tomorrow"}), token, "expired"},
		"wrong type":      {"Opaque", secretData(nil), token, "type"},
		"no auth usage":   {bootstrap.SecretType, secretData(map[string]string{"usage-bootstrap-authentication": "false"}), token, "not for authentication"},
		"bad extra group": {bootstrap.SecretType, secretData(map[string]string{"auth-extra-groups": "system:masters"}), token, "system:masters"},
	} {
		_, _, err := bootstrap.TokenUser(tc.typ, tc.data, tc.token, now)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "0123456789abcde") {
			t.Errorf("%s: %v, want an error containing %q without the secret", what, err, tc.want)
		}
	}
}

// The detached JWS is HS256 over header.payload with the header
// {"alg":"HS256","kid":<id>}, as kubeadm computes it.
func TestDetachedSignatureFormat(t *testing.T) {
	sig, err := bootstrap.DetachedSignature("content", "abcdef", "0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(sig, ".")
	if len(parts) != 3 || parts[1] != "" {
		t.Fatalf("not detached: %q", sig)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if string(hdr) != `{"alg":"HS256","kid":"abcdef"}` {
		t.Fatalf("header %s", hdr)
	}
	mac := hmac.New(sha256.New, []byte("0123456789abcdef"))
	mac.Write([]byte(parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("content"))))
	if parts[2] != base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) {
		t.Fatal("signature is not HMAC-SHA256 of header.payload")
	}
}

func testCA(t *testing.T) (*x509.Certificate, []byte) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestVerifyClusterInfo(t *testing.T) {
	ca, caPEM := testCA(t)
	other, _ := testCA(t)
	kc := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://10.0.0.1:6443\n    certificate-authority-data: " + base64.StdEncoding.EncodeToString(caPEM) + "\n"
	sig, _ := bootstrap.DetachedSignature(kc, "abcdef", "0123456789abcdef")
	data := map[string]string{"kubeconfig": kc, "jws-kubeconfig-abcdef": sig}
	got, err := bootstrap.VerifyClusterInfo(data, token, []string{bootstrap.CAHash(ca)})
	if err != nil || string(got) != kc {
		t.Fatalf("VerifyClusterInfo: %v", err)
	}
	if _, err := bootstrap.VerifyClusterInfo(data, token, nil); err != nil {
		t.Fatalf("without CA hashes: %v", err)
	}
	tampered := map[string]string{"kubeconfig": strings.Replace(kc, "10.0.0.1", "10.6.6.6", 1), "jws-kubeconfig-abcdef": sig}
	for what, tc := range map[string]struct {
		data   map[string]string
		token  string
		hashes []string
		want   string
	}{
		"wrong secret":     {data, "abcdef.0123456789abcdee", nil, "does not match"},
		"unknown token id": {data, "zzzzzz.0123456789abcdef", nil, "no signature for token ID"},
		"tampered":         {tampered, token, nil, "does not match"},
		"wrong CA":         {data, token, []string{bootstrap.CAHash(other)}, "matches none"},
		"no kubeconfig":    {map[string]string{"jws-kubeconfig-abcdef": sig}, token, nil, "no \"kubeconfig\""},
	} {
		_, err := bootstrap.VerifyClusterInfo(tc.data, tc.token, tc.hashes)
		if !errors.Is(err, bootstrap.ErrUnverified) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrUnverified containing %q", what, err, tc.want)
		}
	}
	if _, err := bootstrap.VerifyClusterInfo(data, "bad", nil); !errors.Is(err, bootstrap.ErrBadToken) {
		t.Fatalf("malformed token: %v", err)
	}
}

func FuzzParseToken(f *testing.F) {
	for _, s := range []string{token, "", "abcdef.", ".0123456789abcdef", "abcdef.0123456789abcdefg", "abcdef.0123456789ABCDEF"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, secret, err := bootstrap.ParseToken(s)
		if err == nil && (len(id) != 6 || len(secret) != 16 || id+"."+secret != s) {
			t.Fatalf("ParseToken(%q) = %q %q", s, id, secret)
		}
	})
}
