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
// localhost (plus extra host names and IPs), and an admin client
// certificate (CN=admin, O=system:masters).
func NewPKI(extraHosts ...string) (*PKI, error) {
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
	ca, _ := x509.ParseCertificate(caDER)
	p := &PKI{CACert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), CAKey: caKeyPEM}
	issue := func(tmpl *x509.Certificate) ([]byte, []byte, error) {
		k, kp, err := newKey()
		if err != nil {
			return nil, nil, err
		}
		tmpl.SerialNumber, tmpl.NotBefore, tmpl.NotAfter = serial(), now, now.Add(certValidity)
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			return nil, nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), kp, nil
	}
	serving := &x509.Certificate{Subject: pkix.Name{CommonName: "setpoint-apiserver"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}}
	for _, h := range extraHosts {
		if ip := net.ParseIP(h); ip != nil {
			serving.IPAddresses = append(serving.IPAddresses, ip)
		} else if h != "" {
			serving.DNSNames = append(serving.DNSNames, h)
		}
	}
	if p.ServingCert, p.ServingKey, err = issue(serving); err != nil {
		return nil, err
	}
	if p.AdminCert, p.AdminKey, err = p.IssueClientCert("admin", "system:masters"); err != nil {
		return nil, err
	}
	return p, nil
}

// IssueClientCert issues a client certificate for user (CN) in groups (O).
func (p *PKI) IssueClientCert(user string, groups ...string) (certPEM, keyPEM []byte, err error) {
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
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: user, Organization: groups},
		NotBefore: now, NotAfter: now.Add(certValidity), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caPair.PrivateKey)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), kp, nil
}

var pkiFiles = []string{"ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "admin.crt", "admin.key"}

func (p *PKI) fields() []*[]byte {
	return []*[]byte{&p.CACert, &p.CAKey, &p.ServingCert, &p.ServingKey, &p.AdminCert, &p.AdminKey}
}

// LoadOrCreatePKI reads the PKI from dir, or generates and writes it
// (files mode 0600) if dir holds none.
func LoadOrCreatePKI(dir string) (*PKI, error) {
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
		return p, nil
	case len(pkiFiles):
	default:
		return nil, fmt.Errorf("pki in %s is incomplete: remove it to regenerate, or restore the missing files of %v", dir, pkiFiles)
	}
	p, err := NewPKI()
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
