package cluster

import (
	"context"
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
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"sigs.k8s.io/yaml"

	"github.com/setpoint-dev/setpoint/examples/api/certificates"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/bootstrap"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/csr"
)

// ErrJoinRefused is wrapped by every Join failure that is the cluster's
// answer (a token or CA the cluster does not vouch for, a refused or
// failed certificate request) rather than a transport error.
var ErrJoinRefused = errors.New("cluster: join refused")

// DefaultJoinPollInterval is how often Join looks at its certificate
// request while it waits for approval and signing.
const DefaultJoinPollInterval = 250 * time.Millisecond

// JoinConfig configures Join. Server, Token and NodeName are required.
type JoinConfig struct {
	// Server is the apiserver's URL (https://host:port).
	Server string
	// Token is the bootstrap token, <id>.<secret>.
	Token string
	// CACertHashes, if set, pin the cluster CA: it must match one of them
	// (kubeadm's --discovery-token-ca-cert-hash, "sha256:<hex>").
	// Without them the CA is trusted because cluster-info is signed with
	// the token.
	CACertHashes []string
	// NodeName is the node's name; its certificate is for
	// system:node:<NodeName>.
	NodeName string
	// PollInterval is how often the certificate request is looked at
	// (default DefaultJoinPollInterval).
	PollInterval time.Duration
	// Clock times the polling. Default real.
	Clock clockwork.Clock
	// Logger receives progress. Default discard.
	Logger *slog.Logger
}

// Validate reports the first invalid field; it changes nothing.
func (c *JoinConfig) Validate() error {
	if !strings.HasPrefix(c.Server, "https://") {
		return fmt.Errorf("cluster: join: Server %q is not an https:// URL", c.Server)
	}
	if _, _, err := bootstrap.ParseToken(c.Token); err != nil {
		return fmt.Errorf("cluster: join: Token: %w", err)
	}
	for _, h := range c.CACertHashes {
		if hex, ok := strings.CutPrefix(h, "sha256:"); !ok || len(hex) != 64 {
			return fmt.Errorf("cluster: join: CA hash %q: want sha256:<64 hex digits>", h)
		}
	}
	if !nodeNameRE.MatchString(c.NodeName) || len(c.NodeName) > 63 {
		return fmt.Errorf("cluster: join: NodeName %q: want at most 63 lower-case letters, digits, '-' and '.', starting and ending with a letter or digit", c.NodeName)
	}
	return nil
}

var nodeNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

// Joined is what Join returns: the node's credentials.
type Joined struct {
	// Server and CACert are from the verified cluster-info.
	Server string
	CACert []byte
	// CertPEM and KeyPEM are the node's client certificate
	// (system:node:<name> in system:nodes) and its private key.
	CertPEM, KeyPEM []byte
	// Kubeconfig holds all of the above, for the kubelet.
	Kubeconfig []byte
}

// Join joins a node the way kubeadm's token discovery and the kubelet's
// TLS bootstrap do: it fetches kube-public/cluster-info anonymously
// (trusting no CA yet), checks its jws-kubeconfig-<id> signature with the
// token and, if given, the CA hashes; then, authenticated as
// system:bootstrap:<id> and trusting the CA it learned, it creates a
// CertificateSigningRequest for a kube-apiserver-client-kubelet
// certificate, waits until the csr controllers approve and sign it, and
// returns the node's kubeconfig. Errors for a token or CA the cluster
// does not vouch for wrap ErrJoinRefused and bootstrap.ErrUnverified (or
// say the bootstrap token was not accepted); nothing is created then.
func Join(ctx context.Context, cfg JoinConfig) (*Joined, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultJoinPollInterval
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	data, err := fetchClusterInfo(ctx, cfg.Server)
	if err != nil {
		return nil, err
	}
	kc, err := bootstrap.VerifyClusterInfo(data, cfg.Token, cfg.CACertHashes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrJoinRefused, err)
	}
	server, ca, err := clusterOf(kc)
	if err != nil {
		return nil, fmt.Errorf("%w: cluster-info: %v", ErrJoinRefused, err)
	}
	cfg.Logger.Info("cluster-info verified", "server", server)
	bkc, err := apiserver.Kubeconfig(server, ca, nil, nil, cfg.Token)
	if err != nil {
		return nil, err
	}
	cs, err := client.New(client.Config{Kubeconfig: bkc})
	if err != nil {
		return nil, fmt.Errorf("cluster: join: %w", err)
	}
	certPEM, keyPEM, err := requestNodeCert(ctx, cs, cfg)
	if err != nil {
		return nil, err
	}
	out := &Joined{Server: server, CACert: ca, CertPEM: certPEM, KeyPEM: keyPEM}
	if out.Kubeconfig, err = apiserver.Kubeconfig(server, ca, certPEM, keyPEM, ""); err != nil {
		return nil, err
	}
	return out, nil
}

// fetchClusterInfo GETs cluster-info without credentials. The server's
// certificate is not checked: nothing is trusted until the signature is.
func fetchClusterInfo(ctx context.Context, server string) (map[string]string, error) {
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}}}
	defer hc.CloseIdleConnections()
	url := strings.TrimSuffix(server, "/") + "/api/v1/namespaces/" + bootstrap.ClusterInfoNamespace + "/configmaps/" + bootstrap.ClusterInfoName
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("cluster: join: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cluster: join: fetching cluster-info: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("cluster: join: fetching cluster-info: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: %s: %s (does the server allow anonymous requests?)", ErrJoinRefused, url, resp.Status, strings.TrimSpace(string(body)))
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := json.Unmarshal(body, &cm); err != nil {
		return nil, fmt.Errorf("cluster: join: cluster-info: %w", err)
	}
	return cm.Data, nil
}

// clusterOf returns the server and CA of a kubeconfig's first cluster.
func clusterOf(kc []byte) (string, []byte, error) {
	var cfg struct {
		Clusters []struct {
			Cluster struct {
				Server string `json:"server"`
				CAData []byte `json:"certificate-authority-data"`
			} `json:"cluster"`
		} `json:"clusters"`
	}
	if err := yaml.Unmarshal(kc, &cfg); err != nil {
		return "", nil, err
	}
	if len(cfg.Clusters) == 0 || cfg.Clusters[0].Cluster.Server == "" || len(cfg.Clusters[0].Cluster.CAData) == 0 {
		return "", nil, errors.New("the kubeconfig has no cluster with a server and certificate-authority-data")
	}
	return cfg.Clusters[0].Cluster.Server, cfg.Clusters[0].Cluster.CAData, nil
}

// requestNodeCert creates a client certificate request for
// system:node:<name> with cs's identity, and waits for its certificate.
func requestNodeCert(ctx context.Context, cs *client.Clientset, cfg JoinConfig) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: NodeUserPrefix + cfg.NodeName, Organization: []string{NodesGroup}}}, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	req := &certificates.CertificateSigningRequest{}
	req.GenerateName = "node-csr-"
	req.Spec.Request = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	req.Spec.SignerName = csr.SignerKubeletClient
	req.Spec.Usages = []certificates.KeyUsage{certificates.UsageDigitalSignature, certificates.UsageClientAuth}
	created, err := cs.CertificateSigningRequests().Create(ctx, req)
	if err != nil {
		if strings.Contains(err.Error(), "401") {
			return nil, nil, fmt.Errorf("%w: the bootstrap token was not accepted (unknown, expired or not for authentication): %v", ErrJoinRefused, err)
		}
		return nil, nil, fmt.Errorf("cluster: join: creating the certificate request: %w", err)
	}
	cfg.Logger.Info("certificate requested; waiting for approval and signing", "csr", created.Name)
	for {
		cur, err := cs.CertificateSigningRequests().Get(ctx, "", created.Name)
		if err != nil {
			return nil, nil, fmt.Errorf("cluster: join: reading certificate request %s: %w", created.Name, err)
		}
		for _, c := range cur.Status.Conditions {
			if c.Type == certificates.CertificateDenied || c.Type == certificates.CertificateFailed {
				return nil, nil, fmt.Errorf("%w: certificate request %s %s: %s", ErrJoinRefused, created.Name, c.Type, c.Message)
			}
		}
		if len(cur.Status.Certificate) > 0 {
			return cur.Status.Certificate, keyPEM, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("cluster: join: waiting for certificate request %s to be approved and signed: %w", created.Name, ctx.Err())
		case <-cfg.Clock.After(cfg.PollInterval):
		}
	}
}

// RenewNodeCert rotates a joined node's client certificate, as the
// kubelet's certificate manager does before expiry: a new key and a new
// kube-apiserver-client-kubelet CSR sent with the node's current identity
// (kubeconfig), which the approver accepts as a selfnodeclient request.
// It returns the new credentials; the old certificate stays valid until
// it expires.
func RenewNodeCert(ctx context.Context, kubeconfig []byte, cfg JoinConfig) (*Joined, error) {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultJoinPollInterval
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	server, ca, err := clusterOf(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("cluster: renewing the node certificate: %w", err)
	}
	cs, err := client.New(client.Config{Kubeconfig: kubeconfig})
	if err != nil {
		return nil, fmt.Errorf("cluster: renewing the node certificate: %w", err)
	}
	certPEM, keyPEM, err := requestNodeCert(ctx, cs, cfg)
	if err != nil {
		return nil, err
	}
	out := &Joined{Server: server, CACert: ca, CertPEM: certPEM, KeyPEM: keyPEM}
	if out.Kubeconfig, err = apiserver.Kubeconfig(server, ca, certPEM, keyPEM, ""); err != nil {
		return nil, err
	}
	return out, nil
}

// RenewAt returns when a certificate should be renewed: at 80% of its
// lifetime, as the kubelet does (it picks 70-90%).
func RenewAt(certPEM []byte) (time.Time, error) {
	blk, _ := pem.Decode(certPEM)
	if blk == nil {
		return time.Time{}, errors.New("cluster: the node certificate is not PEM")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return time.Time{}, fmt.Errorf("cluster: the node certificate: %w", err)
	}
	return c.NotBefore.Add(c.NotAfter.Sub(c.NotBefore) * 8 / 10), nil
}
