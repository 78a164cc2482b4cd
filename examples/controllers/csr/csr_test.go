package csr_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api/certificates"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/csr"
)

// request returns a PEM CSR for cn in organization org with dns names.
func request(t *testing.T, cn string, org []string, dns ...string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: cn, Organization: org}, DNSNames: dns}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

var (
	clientUsages  = []certificates.KeyUsage{certificates.UsageDigitalSignature, certificates.UsageKeyEncipherment, certificates.UsageClientAuth}
	servingUsages = []certificates.KeyUsage{certificates.UsageDigitalSignature, certificates.UsageServerAuth}
)

// createAs creates a CSR as user in groups, impersonated by the admin
// (Impersonate-User and Impersonate-Group), and returns the answer.
func createAs(t *testing.T, s *apiserver.Server, name, signer, user string, groups []string, req []byte, usages []certificates.KeyUsage) (int, string) {
	t.Helper()
	c := &certificates.CertificateSigningRequest{}
	c.APIVersion, c.Kind, c.Name = "certificates.k8s.io/v1", "CertificateSigningRequest", name
	c.Spec = certificates.CertificateSigningRequestSpec{Request: req, SignerName: signer, Usages: usages}
	body, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := s.ClientTLS(s.PKI().AdminCert, s.PKI().AdminKey)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
	defer hc.CloseIdleConnections()
	r, err := http.NewRequest(http.MethodPost, s.URL()+"/apis/certificates.k8s.io/v1/certificatesigningrequests", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Impersonate-User", user)
	for _, g := range groups {
		r.Header.Add("Impersonate-Group", g)
	}
	resp, err := hc.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// approve approves a CSR as a person would (kubectl certificate approve).
func approve(t *testing.T, cs *client.Clientset, name string) {
	t.Helper()
	ctx := context.Background()
	c, err := cs.CertificateSigningRequests().Get(ctx, "", name)
	if err != nil {
		t.Fatal(err)
	}
	c.Status.Conditions = append(c.Status.Conditions, certificates.CertificateSigningRequestCondition{Type: certificates.CertificateApproved,
		Status: "True", Reason: "KubectlApprove"})
	if err := cs.CertificateSigningRequests().Call(ctx, http.MethodPut, "", name, "approval", nil, c, nil); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, cs *client.Clientset, name string) *certificates.CertificateSigningRequest {
	t.Helper()
	c, err := cs.CertificateSigningRequests().Get(context.Background(), "", name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func condition(c *certificates.CertificateSigningRequest, typ certificates.RequestConditionType) *certificates.CertificateSigningRequestCondition {
	for i := range c.Status.Conditions {
		if c.Status.Conditions[i].Type == typ {
			return &c.Status.Conditions[i]
		}
	}
	return nil
}

// TestApproveAndSign: bootstrap and node-renewal client requests are
// approved and signed by the cluster CA; an approved serving request is
// signed; a wrong usage and a subject that is not the requester are
// refused by the apiserver at create, so nothing is stored or issued (the
// signer's own refusal of them, for requests that got past another
// apiserver, is TestCheck's).
func TestApproveAndSign(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	pki := s.PKI()
	ap, err := csr.NewApprover(csr.ApproverConfig{Client: cs})
	if err != nil {
		t.Fatal(err)
	}
	sg, err := csr.NewSigner(csr.SignerConfig{Client: cs, CACert: pki.CACert, CAKey: pki.CAKey})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "approver", ap.Run)
	controllertest.Go(t, "signer", sg.Run)

	nodes := []string{csr.NodesGroup}
	// Each request is made as its requester (the apiserver fills
	// spec.username and groups from the authenticated user, here an
	// impersonated one, as kubelets and bootstrap tokens are).
	// The apiserver refuses the bad ones at create: nothing to sign.
	if code, body := createAs(t, s, "bad-usage", csr.SignerKubeletClient, "system:bootstrap:abcdef", []string{"system:bootstrappers"},
		request(t, "system:node:n5", nodes), append(slices.Clone(clientUsages), certificates.UsageServerAuth)); code != 422 || !strings.Contains(body, "spec.usages") {
		t.Errorf("a request with a wrong usage: %d %s, want 422 naming spec.usages", code, body)
	}
	if code, body := createAs(t, s, "not-requester", csr.SignerKubeletClient, "system:node:n4", nodes, request(t, "system:node:other", nodes), clientUsages); code != 422 && code != 403 {
		t.Errorf("a node asking for another node's name: %d %s, want 422 or 403", code, body)
	}
	for name, req := range map[string]struct {
		signer, user string
		groups       []string
		pem          []byte
		usages       []certificates.KeyUsage
	}{
		"bootstrap": {csr.SignerKubeletClient, "system:bootstrap:abcdef", []string{"system:bootstrappers"}, request(t, "system:node:n1", nodes), clientUsages},
		"renewal":   {csr.SignerKubeletClient, "system:node:n2", nodes, request(t, "system:node:n2", nodes), clientUsages},
		"serving":   {csr.SignerKubeletServing, "system:node:n3", nodes, request(t, "system:node:n3", nodes, "n3.example"), servingUsages},
	} {
		if code, body := createAs(t, s, name, req.signer, req.user, req.groups, req.pem, req.usages); code != 201 {
			t.Fatalf("create %s as %s: %d %s", name, req.user, code, body)
		}
	}

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pki.CACert)
	issued := func(name, cn string, usage x509.ExtKeyUsage) {
		t.Helper()
		controllertest.Eventually(t, "certificate for "+name, func() error {
			c := get(t, cs, name)
			if len(c.Status.Certificate) == 0 {
				return fmt.Errorf("no certificate; conditions %+v", c.Status.Conditions)
			}
			block, _ := pem.Decode(c.Status.Certificate)
			if block == nil {
				return fmt.Errorf("certificate is not PEM")
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return err
			}
			if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
				return fmt.Errorf("certificate does not verify against the cluster CA for %v: %v", usage, err)
			}
			if cert.Subject.CommonName != cn || !slices.Equal(cert.Subject.Organization, nodes) {
				return fmt.Errorf("subject %v", cert.Subject)
			}
			return nil
		})
	}
	issued("bootstrap", "system:node:n1", x509.ExtKeyUsageClientAuth)
	issued("renewal", "system:node:n2", x509.ExtKeyUsageClientAuth)
	if a := condition(get(t, cs, "bootstrap"), certificates.CertificateApproved); a == nil || a.Reason != "AutoApproved" {
		t.Errorf("bootstrap approval %+v, want AutoApproved", a)
	}
	// Serving certificates are not approved automatically (as Kubernetes).
	if condition(get(t, cs, "serving"), certificates.CertificateApproved) != nil {
		t.Error("serving request approved automatically")
	}
	approve(t, cs, "serving")
	issued("serving", "system:node:n3", x509.ExtKeyUsageServerAuth)

	for _, name := range []string{"bad-usage", "not-requester"} {
		if _, err := cs.CertificateSigningRequests().Get(context.Background(), "", name); err == nil {
			t.Errorf("%s was stored", name)
		}
	}
}

// TestCheck: the validation rules alone, with the reason each names.
func TestCheck(t *testing.T) {
	nodes := []string{csr.NodesGroup}
	for _, tc := range []struct {
		name, signer, user string
		req                []byte
		usages             []certificates.KeyUsage
		want               string
	}{
		{"ok", csr.SignerKubeletClient, "system:node:a", request(t, "system:node:a", nodes), clientUsages, ""},
		{"garbage", csr.SignerKubeletClient, "system:node:a", []byte("not pem"), clientUsages, "not a PEM"},
		{"org", csr.SignerKubeletClient, "system:node:a", request(t, "system:node:a", []string{"admins"}), clientUsages, "organization"},
		{"cn", csr.SignerKubeletClient, "system:node:a", request(t, "alice", nodes), clientUsages, "common name"},
		{"san", csr.SignerKubeletClient, "system:node:a", request(t, "system:node:a", nodes, "a.example"), clientUsages, "alternative names"},
		{"missing usage", csr.SignerKubeletClient, "system:node:a", request(t, "system:node:a", nodes), clientUsages[:2], "lack"},
		{"serving without names", csr.SignerKubeletServing, "system:node:a", request(t, "system:node:a", nodes), servingUsages, "DNS name or IP"},
		{"serving by bootstrap", csr.SignerKubeletServing, "system:bootstrap:x", request(t, "system:node:a", nodes, "a"), servingUsages, "neither a node"},
		{"other signer", "example.com/signer", "system:node:a", request(t, "system:node:a", nodes), clientUsages, "not served"},
	} {
		c := &certificates.CertificateSigningRequest{Spec: certificates.CertificateSigningRequestSpec{Request: tc.req, SignerName: tc.signer, Username: tc.user, Usages: tc.usages}}
		_, err := csr.Check(c)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	cs := &client.Clientset{}
	if _, err := csr.NewApprover(csr.ApproverConfig{}); err == nil {
		t.Error("approver without client: no error")
	}
	for _, c := range []csr.SignerConfig{{}, {Client: cs}, {Client: cs, CACert: []byte("x"), CAKey: []byte("y")}} {
		if _, err := csr.NewSigner(c); err == nil {
			t.Errorf("NewSigner(%+v): no error", c)
		}
	}
}
