package apiserver

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreatePKI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	p1, err := LoadOrCreatePKI(dir)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := LoadOrCreatePKI(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p1.CACert, p2.CACert) || !bytes.Equal(p1.ServingKey, p2.ServingKey) {
		t.Fatal("a second load generated a new PKI instead of reusing the files")
	}
	pair, err := tls.X509KeyPair(p1.ServingCert, p1.ServingKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: p1.CertPool(), DNSName: "127.0.0.1"}); err != nil {
		t.Fatalf("serving certificate does not verify for 127.0.0.1: %v", err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: p1.CertPool(), DNSName: "localhost"}); err != nil {
		t.Fatalf("serving certificate does not verify for localhost: %v", err)
	}
	admin, _ := tls.X509KeyPair(p1.AdminCert, p1.AdminKey)
	al, _ := x509.ParseCertificate(admin.Certificate[0])
	if al.Subject.CommonName != "admin" || len(al.Subject.Organization) != 1 || al.Subject.Organization[0] != "system:masters" {
		t.Fatalf("admin certificate subject %v", al.Subject)
	}
	if fi, err := os.Stat(filepath.Join(dir, "ca.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("ca.key mode: %v %v", fi.Mode(), err)
	}
	os.Remove(filepath.Join(dir, "admin.key"))
	if _, err := LoadOrCreatePKI(dir); err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Fatalf("incomplete PKI: %v, want an error", err)
	}
}

// verifyFor reports whether p's serving certificate verifies, with p's CA,
// for host.
func verifyFor(t *testing.T, p *PKI, host string) error {
	t.Helper()
	pair, err := tls.X509KeyPair(p.ServingCert, p.ServingKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: p.CertPool(), DNSName: host})
	return err
}

// TestPKITLSSANs: the serving certificate covers the extra IPs and DNS
// names it is asked for and nothing else; a PKI whose certificate lacks a
// newly asked name gets a new serving certificate from the same CA (on
// disk too), and one that already covers them is left as it was.
func TestPKITLSSANs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	p1, err := LoadOrCreatePKI(dir, "10.200.0.2", "Child.Example")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"10.200.0.2", "child.example", "127.0.0.1", "localhost"} {
		if err := verifyFor(t, p1, h); err != nil {
			t.Errorf("serving certificate does not verify for %s: %v", h, err)
		}
	}
	for _, h := range []string{"10.200.0.3", "other.example"} {
		if verifyFor(t, p1, h) == nil {
			t.Errorf("serving certificate verifies for %s, which was not asked for", h)
		}
	}
	// Already covered (a subset, in another order): nothing changes.
	p2, err := LoadOrCreatePKI(dir, "child.example")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p1.ServingCert, p2.ServingCert) {
		t.Error("a covered SAN list reissued the serving certificate")
	}
	// A new SAN: a new serving certificate from the same CA.
	p3, err := LoadOrCreatePKI(dir, "10.200.0.2", "fd00::2")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p1.CACert, p3.CACert) || !bytes.Equal(p1.AdminCert, p3.AdminCert) {
		t.Fatal("adding a SAN replaced the CA or the admin certificate")
	}
	if bytes.Equal(p1.ServingCert, p3.ServingCert) {
		t.Fatal("adding a SAN kept the old serving certificate")
	}
	if err := verifyFor(t, p3, "fd00::2"); err != nil {
		t.Errorf("reissued certificate does not verify for fd00::2: %v", err)
	}
	onDisk, err := os.ReadFile(filepath.Join(dir, "apiserver.crt"))
	if err != nil || !bytes.Equal(onDisk, p3.ServingCert) {
		t.Errorf("reissued certificate not written to apiserver.crt (err %v)", err)
	}
	p4, err := LoadOrCreatePKI(dir)
	if err != nil || !bytes.Equal(p4.ServingCert, p3.ServingCert) {
		t.Errorf("reload after reissue: %v, certificate changed: %v", err, !bytes.Equal(p4.ServingCert, p3.ServingCert))
	}
}

// TestCheckSANs: IPs and DNS names pass; anything else is refused naming
// the entry.
func TestCheckSANs(t *testing.T) {
	if err := CheckSANs([]string{"10.0.0.1", "::1", "a.b-c.example", "Host1"}); err != nil {
		t.Fatalf("valid SANs refused: %v", err)
	}
	for _, bad := range []string{"", "under_score", "-lead.example", "a..b", "with space", "https://x", strings.Repeat("a", 64) + ".example"} {
		err := CheckSANs([]string{"10.0.0.1", bad})
		if err == nil || !strings.Contains(err.Error(), "TLSSANs[1]") {
			t.Errorf("CheckSANs(%q) = %v, want an error naming TLSSANs[1]", bad, err)
		}
	}
	cfg := Config{DataDir: t.TempDir(), TLSSANs: []string{"not/valid"}}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), `"not/valid"`) {
		t.Errorf("Validate with a bad SAN = %v, want an error naming it", err)
	}
}
