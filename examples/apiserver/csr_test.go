package apiserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func csrFor(t *testing.T, subject pkix.Name) string {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject}, key)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func csrBody(name, signer, usages, request string) string {
	return fmt.Sprintf(`{"apiVersion":"certificates.k8s.io/v1","kind":"CertificateSigningRequest","metadata":{"name":%q},
		"spec":{"signerName":%q,"usages":%s,"request":%q,"username":"mallory","groups":["system:masters"]}}`, name, signer, usages, request)
}

const csrPath = "/apis/certificates.k8s.io/v1/certificatesigningrequests"

func TestCSRRequesterAndRules(t *testing.T) {
	requireKubectl(t)
	dir := t.TempDir()
	tokens, rules := filepath.Join(dir, "tokens.csv"), filepath.Join(dir, "rules.json")
	os.WriteFile(tokens, []byte("t-alice,alice,u-1,devs\nt-node-a,system:node:a,,system:nodes\n"), 0o600)
	os.WriteFile(rules, []byte(`[
		{"group":"system:masters","verbs":["*"],"resources":["*"]},
		{"group":"devs","verbs":["create","get","update","patch"],"resources":["certificatesigningrequests","certificatesigningrequests/approval","certificatesigningrequests/status"]},
		{"group":"system:nodes","verbs":["create","get"],"resources":["certificatesigningrequests"]}
	]`), 0o600)
	s := startServer(t, func(c *Config) { c.TokenFile, c.AuthzFile = tokens, rules })
	anon, admin := s.httpClient(t, false), s.httpClient(t, true)

	// The server fills in the requester, whatever the client claims.
	code, body := s.raw(t, anon, "POST", csrPath, "t-alice", csrBody("mine", "example.com/s", `["client auth"]`, csrFor(t, pkix.Name{CommonName: "alice"})))
	var got struct {
		Spec struct {
			Username, UID string
			Groups        []string
		}
	}
	if code != 201 || json.Unmarshal([]byte(body), &got) != nil || got.Spec.Username != "alice" || got.Spec.UID != "u-1" || strings.Contains(body, "system:masters") {
		t.Fatalf("create as alice: %d %s", code, body)
	}

	rev := s.revision(t)
	nodeA := csrFor(t, pkix.Name{CommonName: "system:node:a", Organization: []string{"system:nodes"}})
	badSig := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: []byte("garbage")}))
	for _, tc := range []struct {
		name, token, body string
		code              int
		want              string
	}{
		{"not a CSR", "t-alice", csrBody("x1", "example.com/s", `["client auth"]`, badSig), 422, "spec.request"},
		{"node signer, wrong usage", "t-node-a", csrBody("x2", SignerKubeletClient, `["server auth","digital signature"]`, nodeA), 422, "spec.usages"},
		{"node signer, wrong subject", "t-node-a", csrBody("x3", SignerKubeletClient, `["client auth","digital signature"]`, csrFor(t, pkix.Name{CommonName: "a"})), 422, "O=system:nodes"},
		{"node asks for another node", "t-node-a", csrBody("x4", SignerKubeletClient, `["client auth","digital signature"]`,
			csrFor(t, pkix.Name{CommonName: "system:node:b", Organization: []string{"system:nodes"}})), 403, `may not request a certificate for \"system:node:b\"`},
		{"serving cert for a node, by alice", "t-alice", csrBody("x5", SignerKubeletServing, `["server auth","digital signature"]`, nodeA), 403, "only node"},
	} {
		code, body := s.raw(t, anon, "POST", csrPath, tc.token, tc.body)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s, want %d containing %q", tc.name, code, body, tc.code, tc.want)
		}
	}
	if r := s.revision(t); r != rev {
		t.Fatalf("refused requests wrote: revision %d -> %d", rev, r)
	}
	if code, body := s.raw(t, anon, "POST", csrPath, "t-node-a", csrBody("node-a", SignerKubeletClient, `["client auth","digital signature"]`, nodeA)); code != 201 {
		t.Fatalf("node's own client CSR: %d %s", code, body)
	}

	// Approval needs "approve" on signers: alice may update the
	// subresource but not approve.
	var obj map[string]any
	json.Unmarshal([]byte(s.kubectl(t, false, "get", "csr", "mine", "-o", "json")), &obj)
	obj["status"] = map[string]any{"conditions": []any{map[string]any{"type": "Approved", "status": "True", "reason": "Self"}}}
	b, _ := json.Marshal(obj)
	if code, body := s.raw(t, anon, "PUT", csrPath+"/mine/approval", "t-alice", string(b)); code != 403 || !strings.Contains(body, "may not approve") {
		t.Fatalf("alice approving: %d %s", code, body)
	}
	// A certificate before approval is refused, even for a signer.
	certPEM := base64.StdEncoding.EncodeToString(s.PKI().AdminCert)
	if code, body := s.rawType(t, admin, "PATCH", csrPath+"/mine/status", "application/merge-patch+json", `{"status":{"certificate":"`+certPEM+`"}}`); code != 422 || !strings.Contains(body, "Approved") {
		t.Fatalf("certificate before approval: %d %s", code, body)
	}
	out := s.kubectl(t, false, "certificate", "approve", "mine")
	if !strings.Contains(out, "approved") {
		t.Fatalf("kubectl certificate approve: %s", out)
	}
	if out := s.kubectl(t, false, "get", "csr", "mine"); !strings.Contains(out, "Approved") {
		t.Fatalf("after approve: %s", out)
	}
	// Setting the certificate needs "sign" on signers.
	if code, body := s.rawType(t, anon, "PATCH", csrPath+"/mine/status", "application/merge-patch+json", `{"status":{"certificate":"`+certPEM+`"}}`, "Authorization", "Bearer t-alice"); code != 403 || !strings.Contains(body, "may not sign") {
		t.Fatalf("alice signing: %d %s", code, body)
	}
	if code, body := s.rawType(t, admin, "PATCH", csrPath+"/mine/status", "application/merge-patch+json", `{"status":{"certificate":"`+base64.StdEncoding.EncodeToString([]byte("not pem"))+`"}}`); code != 422 || !strings.Contains(body, "status.certificate") {
		t.Fatalf("garbage certificate: %d %s", code, body)
	}
	if code, body := s.rawType(t, admin, "PATCH", csrPath+"/mine/status", "application/merge-patch+json", `{"status":{"certificate":"`+certPEM+`"}}`); code != 200 {
		t.Fatalf("signer sets the certificate: %d %s", code, body)
	}
	s.kubectl(t, false, "certificate", "deny", "node-a")
	if out := s.kubectl(t, false, "get", "csr", "node-a"); !strings.Contains(out, "Denied") {
		t.Fatalf("after deny: %s", out)
	}
}
