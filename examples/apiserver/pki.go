package apiserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// PKI is the server's certificate authority, serving certificate and the
// admin's client certificate, all PEM-encoded.
type PKI struct {
	CACert, CAKey           []byte
	ServingCert, ServingKey []byte
	AdminCert, AdminKey     []byte
}

const certValidity = 365 * 24 * time.Hour

func newKey() (*ecdsa.PrivateKey, []byte, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, nil, err
	}
	return k, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

// NewPKI generates a CA, a serving certificate for 127.0.0.1, ::1 and
// localhost plus sans (IP addresses or DNS names, see CheckSANs), and an
// admin client certificate (CN=admin, O=system:masters).
func NewPKI(sans ...string) (*PKI, error) {
	now := time.Now().Add(-time.Minute)
	caKey, caKeyPEM, err := newKey()
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "setpoint-apiserver-ca"},
		NotBefore: now, NotAfter: now.Add(10 * certValidity), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	p := &PKI{CACert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), CAKey: caKeyPEM}
	if p.ServingCert, p.ServingKey, err = p.IssueServingCert(sans...); err != nil {
		return nil, err
	}
	if p.AdminCert, p.AdminKey, err = p.IssueClientCert("admin", "system:masters"); err != nil {
		return nil, err
	}
	return p, nil
}

// IssueServingCert issues a TLS serving certificate signed by the CA, valid
// for 127.0.0.1, ::1 and localhost and for each of sans: an IP address
// goes into the certificate's IP SANs, anything else into its DNS SANs (as
// k3s's --tls-san and kube-apiserver's --tls-sni-cert-key do). It does not
// check sans; Config.Validate does (CheckSANs).
func (p *PKI) IssueServingCert(sans ...string) (certPEM, keyPEM []byte, err error) {
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "setpoint-apiserver"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}}
	for _, h := range sans {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, strings.ToLower(h))
		}
	}
	return p.issue(tmpl)
}

// issue signs tmpl with the CA, for a new key, valid from a minute ago for
// certValidity.
func (p *PKI) issue(tmpl *x509.Certificate) (certPEM, keyPEM []byte, err error) {
	caPair, err := tls.X509KeyPair(p.CACert, p.CAKey)
	if err != nil {
		return nil, nil, fmt.Errorf("loading CA: %w", err)
	}
	ca, err := x509.ParseCertificate(caPair.Certificate[0])
	if err != nil {
		return nil, nil, err
	}
	k, kp, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	now := time.Now().Add(-time.Minute)
	tmpl.SerialNumber, tmpl.NotBefore, tmpl.NotAfter = serial(), now, now.Add(certValidity)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caPair.PrivateKey)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), kp, nil
}

// CheckSANs reports the first of sans that is neither an IP address nor a
// DNS name (RFC 1123 subdomain: lowercase letters, digits, '-' and '.',
// labels of 1-63 characters, at most 253 in all), naming it and its index.
func CheckSANs(sans []string) error {
	for i, h := range sans {
		if net.ParseIP(h) != nil {
			continue
		}
		if !isDNSSubdomain(strings.ToLower(h)) {
			return fmt.Errorf("TLSSANs[%d] %q is neither an IP address nor a DNS name (RFC 1123 subdomain)", i, h)
		}
	}
	return nil
}

func isDNSSubdomain(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// covers reports whether the certificate certPEM is valid for every one of
// sans.
func covers(certPEM []byte, sans []string) bool {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return false
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return false
	}
	for _, h := range sans {
		if err := cert.VerifyHostname(h); err != nil {
			return false
		}
	}
	return true
}

// IssueClientCert issues a client certificate for user (CN) in groups (O).
func (p *PKI) IssueClientCert(user string, groups ...string) (certPEM, keyPEM []byte, err error) {
	return p.issue(&x509.Certificate{Subject: pkix.Name{CommonName: user, Organization: groups},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
}

var pkiFiles = []string{"ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "admin.crt", "admin.key"}

func (p *PKI) fields() []*[]byte {
	return []*[]byte{&p.CACert, &p.CAKey, &p.ServingCert, &p.ServingKey, &p.AdminCert, &p.AdminKey}
}

// LoadOrCreatePKI reads the PKI from dir, or generates and writes it
// (files mode 0600) if dir holds none. The serving certificate is valid
// for the loopback addresses, localhost and sans; when the one in dir does
// not cover every one of sans, a new one is issued with the same CA and
// written over it, as k3s does when its --tls-san list grows, so clients
// that trust the CA keep working.
func LoadOrCreatePKI(dir string, sans ...string) (*PKI, error) {
	p := &PKI{}
	fields := p.fields()
	missing := 0
	for i, name := range pkiFiles {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			missing++
			continue
		}
		if err != nil {
			return nil, err
		}
		*fields[i] = b
	}
	switch missing {
	case 0:
		if _, err := tls.X509KeyPair(p.ServingCert, p.ServingKey); err != nil {
			return nil, fmt.Errorf("pki in %s: serving certificate: %w", dir, err)
		}
		if covers(p.ServingCert, sans) {
			return p, nil
		}
		cert, key, err := p.IssueServingCert(sans...)
		if err != nil {
			return nil, fmt.Errorf("pki in %s: reissuing the serving certificate for %v: %w", dir, sans, err)
		}
		for name, b := range map[string][]byte{"apiserver.crt": cert, "apiserver.key": key} {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
				return nil, err
			}
		}
		p.ServingCert, p.ServingKey = cert, key
		return p, nil
	case len(pkiFiles):
	default:
		return nil, fmt.Errorf("pki in %s is incomplete: remove it to regenerate, or restore the missing files of %v", dir, pkiFiles)
	}
	p, err := NewPKI(sans...)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	for i, name := range pkiFiles {
		if err := os.WriteFile(filepath.Join(dir, name), *p.fields()[i], 0o600); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// CertPool returns a pool with the CA.
func (p *PKI) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.CACert)
	return pool
}

// Kubeconfig returns a kubeconfig (JSON, which kubectl reads as YAML) for
// server with the given client certificate, or token if certPEM is nil.
func Kubeconfig(server string, caPEM, certPEM, keyPEM []byte, token string) ([]byte, error) {
	user := map[string]any{}
	if certPEM != nil {
		user["client-certificate-data"] = certPEM
		user["client-key-data"] = keyPEM
	}
	if token != "" {
		user["token"] = token
	}
	cfg := map[string]any{
		"apiVersion": "v1", "kind": "Config",
		"clusters":        []any{map[string]any{"name": "setpoint", "cluster": map[string]any{"server": server, "certificate-authority-data": caPEM}}},
		"users":           []any{map[string]any{"name": "admin", "user": user}},
		"contexts":        []any{map[string]any{"name": "setpoint", "context": map[string]any{"cluster": "setpoint", "user": "admin", "namespace": "default"}}},
		"current-context": "setpoint",
		"preferences":     map[string]any{},
	}
	return json.MarshalIndent(cfg, "", "  ")
}
