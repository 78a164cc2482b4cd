package client

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// kubeconfig is the part of a kubeconfig file (clientcmd's v1 Config)
// that Load reads.
type kubeconfig struct {
	CurrentContext string `json:"current-context"`
	Clusters       []struct {
		Name    string  `json:"name"`
		Cluster cluster `json:"cluster"`
	} `json:"clusters"`
	Users []struct {
		Name string   `json:"name"`
		User authInfo `json:"user"`
	} `json:"users"`
	Contexts []struct {
		Name    string   `json:"name"`
		Context kcontext `json:"context"`
	} `json:"contexts"`
}

type cluster struct {
	Server                   string `json:"server"`
	CertificateAuthorityData []byte `json:"certificate-authority-data"`
	CertificateAuthority     string `json:"certificate-authority"`
	InsecureSkipTLSVerify    bool   `json:"insecure-skip-tls-verify"`
	TLSServerName            string `json:"tls-server-name"`
}

type authInfo struct {
	ClientCertificateData []byte          `json:"client-certificate-data"`
	ClientKeyData         []byte          `json:"client-key-data"`
	ClientCertificate     string          `json:"client-certificate"`
	ClientKey             string          `json:"client-key"`
	Token                 string          `json:"token"`
	TokenFile             string          `json:"tokenFile"`
	Username              string          `json:"username"`
	Exec                  json.RawMessage `json:"exec"`
	AuthProvider          json.RawMessage `json:"auth-provider"`
}

type kcontext struct {
	Cluster   string `json:"cluster"`
	User      string `json:"user"`
	Namespace string `json:"namespace"`
}

// Connection is what a kubeconfig context says about reaching an
// apiserver: its URL, the TLS settings (CA, client certificate, server
// name) and a bearer token, and the context's default namespace.
type Connection struct {
	// Server is the apiserver's base URL, e.g. https://127.0.0.1:6443.
	Server string
	// TLS trusts the cluster's CA and presents the user's client
	// certificate, if any.
	TLS *tls.Config
	// BearerToken, if set, is sent as "Authorization: Bearer <token>".
	BearerToken string
	// Namespace is the context's namespace, default "default".
	Namespace string
}

// LoadKubeconfig reads a kubeconfig (YAML or JSON, as kubectl writes
// them) and returns the connection of the named context (the file's
// current-context when name is empty). Relative file paths in it are
// relative to dir ("" for the working directory). Errors name the context,
// cluster, user or field that is wrong. Exec plugins, auth providers and
// basic auth are not supported and are errors.
func LoadKubeconfig(data []byte, dir, name string) (*Connection, error) {
	var kc kubeconfig
	if err := yaml.Unmarshal(data, &kc); err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	if name == "" {
		name = kc.CurrentContext
	}
	if name == "" {
		return nil, errors.New("kubeconfig: no context given and no current-context set")
	}
	var ctx *kcontext
	for i := range kc.Contexts {
		if kc.Contexts[i].Name == name {
			ctx = &kc.Contexts[i].Context
		}
	}
	if ctx == nil {
		return nil, fmt.Errorf("kubeconfig: context %q not found", name)
	}
	var cl *cluster
	for i := range kc.Clusters {
		if kc.Clusters[i].Name == ctx.Cluster {
			cl = &kc.Clusters[i].Cluster
		}
	}
	if cl == nil {
		return nil, fmt.Errorf("kubeconfig: context %q: cluster %q not found", name, ctx.Cluster)
	}
	var user authInfo
	if ctx.User != "" {
		found := false
		for _, u := range kc.Users {
			if u.Name == ctx.User {
				user, found = u.User, true
			}
		}
		if !found {
			return nil, fmt.Errorf("kubeconfig: context %q: user %q not found", name, ctx.User)
		}
	}
	conn := &Connection{Namespace: ctx.Namespace}
	if conn.Namespace == "" {
		conn.Namespace = "default"
	}
	u, err := url.Parse(cl.Server)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("kubeconfig: cluster %q: server %q must be an http(s) URL with a host", ctx.Cluster, cl.Server)
	}
	conn.Server = strings.TrimRight(cl.Server, "/")
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cl.TLSServerName, InsecureSkipVerify: cl.InsecureSkipTLSVerify}
	ca, err := dataOrFile(cl.CertificateAuthorityData, cl.CertificateAuthority, dir)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: cluster %q: certificate-authority: %w", ctx.Cluster, err)
	}
	if ca != nil {
		if cl.InsecureSkipTLSVerify {
			return nil, fmt.Errorf("kubeconfig: cluster %q: certificate-authority and insecure-skip-tls-verify are both set", ctx.Cluster)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("kubeconfig: cluster %q: certificate-authority holds no PEM certificate", ctx.Cluster)
		}
		tc.RootCAs = pool
	}
	switch {
	case len(user.Exec) > 0 && string(user.Exec) != "null":
		return nil, fmt.Errorf("kubeconfig: user %q: exec credential plugins are not supported", ctx.User)
	case len(user.AuthProvider) > 0 && string(user.AuthProvider) != "null":
		return nil, fmt.Errorf("kubeconfig: user %q: auth providers are not supported", ctx.User)
	case user.Username != "":
		return nil, fmt.Errorf("kubeconfig: user %q: basic authentication is not supported", ctx.User)
	}
	cert, err := dataOrFile(user.ClientCertificateData, user.ClientCertificate, dir)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: user %q: client-certificate: %w", ctx.User, err)
	}
	key, err := dataOrFile(user.ClientKeyData, user.ClientKey, dir)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: user %q: client-key: %w", ctx.User, err)
	}
	if (cert == nil) != (key == nil) {
		return nil, fmt.Errorf("kubeconfig: user %q: a client certificate needs both the certificate and the key", ctx.User)
	}
	if cert != nil {
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig: user %q: client certificate: %w", ctx.User, err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	conn.TLS = tc
	conn.BearerToken = user.Token
	if user.TokenFile != "" {
		if user.Token != "" {
			return nil, fmt.Errorf("kubeconfig: user %q: token and tokenFile are both set", ctx.User)
		}
		b, err := os.ReadFile(resolve(user.TokenFile, dir))
		if err != nil {
			return nil, fmt.Errorf("kubeconfig: user %q: tokenFile: %w", ctx.User, err)
		}
		conn.BearerToken = strings.TrimSpace(string(b))
	}
	return conn, nil
}

// dataOrFile returns inline data, or the content of file (relative to
// dir), or nil when neither is set; setting both is an error.
func dataOrFile(data []byte, file, dir string) ([]byte, error) {
	switch {
	case len(data) > 0 && file != "":
		return nil, errors.New("both the inline data and the file are set")
	case len(data) > 0:
		return data, nil
	case file != "":
		return os.ReadFile(resolve(file, dir))
	}
	return nil, nil
}

func resolve(path, dir string) string {
	if filepath.IsAbs(path) || dir == "" {
		return path
	}
	return filepath.Join(dir, path)
}
