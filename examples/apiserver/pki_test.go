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
