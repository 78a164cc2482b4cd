package client

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/apiserver"
)

func TestLoadKubeconfigErrors(t *testing.T) {
	pki, err := apiserver.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ca.crt"), pki.CACert, 0o600)
	good := func(cluster, user string) string {
		return `{"current-context":"c","contexts":[{"name":"c","context":{"cluster":"k","user":"u"}}],
			"clusters":[{"name":"k","cluster":` + cluster + `}],"users":[{"name":"u","user":` + user + `}]}`
	}
	okCluster := `{"server":"https://127.0.0.1:6443","certificate-authority":"ca.crt"}`
	for _, tc := range []struct{ name, in, want string }{
		{"not yaml", "{", "kubeconfig:"},
		{"no context", `{"clusters":[]}`, "no context given and no current-context set"},
		{"unknown context", `{"current-context":"x"}`, `context "x" not found`},
		{"unknown cluster", `{"current-context":"c","contexts":[{"name":"c","context":{"cluster":"nope"}}]}`, `cluster "nope" not found`},
		{"unknown user", `{"current-context":"c","contexts":[{"name":"c","context":{"cluster":"k","user":"nope"}}],"clusters":[{"name":"k","cluster":{"server":"https://h"}}]}`, `user "nope" not found`},
		{"no server", good(`{}`, `{}`), `server "" must be an http(s) URL`},
		{"bad server", good(`{"server":"ftp://h"}`, `{}`), `server "ftp://h"`},
		{"missing CA file", good(`{"server":"https://h","certificate-authority":"missing.crt"}`, `{}`), "certificate-authority: open"},
		{"CA not PEM", good(`{"server":"https://h","certificate-authority-data":"bm90IGEgY2VydA=="}`, `{}`), "holds no PEM certificate"},
		{"CA twice", good(`{"server":"https://h","certificate-authority":"ca.crt","certificate-authority-data":"eA=="}`, `{}`), "both the inline data and the file"},
		{"insecure and CA", good(`{"server":"https://h","certificate-authority":"ca.crt","insecure-skip-tls-verify":true}`, `{}`), "both set"},
		{"cert without key", good(okCluster, `{"client-certificate":"ca.crt"}`), "needs both the certificate and the key"},
		{"bad key pair", good(okCluster, `{"client-certificate":"ca.crt","client-key":"ca.crt"}`), "client certificate:"},
		{"exec", good(okCluster, `{"exec":{"command":"x"}}`), "exec credential plugins are not supported"},
		{"basic auth", good(okCluster, `{"username":"a","password":"b"}`), "basic authentication is not supported"},
		{"token twice", good(okCluster, `{"token":"a","tokenFile":"ca.crt"}`), "token and tokenFile are both set"},
	} {
		if _, err := LoadKubeconfig([]byte(tc.in), dir, ""); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error mentioning %q", tc.name, err, tc.want)
		}
	}
	// the same file, well formed, with a relative CA path and a named context
	conn, err := LoadKubeconfig([]byte(good(okCluster, `{"token":"t"}`)), dir, "c")
	if err != nil || conn.Server != "https://127.0.0.1:6443" || conn.BearerToken != "t" || conn.TLS.RootCAs == nil {
		t.Fatalf("good kubeconfig: %+v %v", conn, err)
	}
}

// The kubeconfig the apiserver writes (JSON, inline PEM data) loads.
func TestLoadApiserverKubeconfig(t *testing.T) {
	pki, err := apiserver.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	kc, err := apiserver.Kubeconfig("https://127.0.0.1:1234", pki.CACert, pki.AdminCert, pki.AdminKey, "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := LoadKubeconfig(kc, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if conn.Server != "https://127.0.0.1:1234" || len(conn.TLS.Certificates) != 1 || conn.TLS.RootCAs == nil || conn.Namespace != "default" {
		t.Fatalf("connection %+v", conn)
	}
}

// FuzzLoadKubeconfig: any input either loads into a usable connection or
// fails with a kubeconfig error; it never panics.
func FuzzLoadKubeconfig(f *testing.F) {
	for _, seed := range []string{
		`{"current-context":"c","contexts":[{"name":"c","context":{"cluster":"k","user":"u","namespace":"n"}}],"clusters":[{"name":"k","cluster":{"server":"https://h:1"}}],"users":[{"name":"u","user":{"token":"t"}}]}`,
		"current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\nclusters:\n- name: k\n  cluster: {server: 'http://127.0.0.1:8080', insecure-skip-tls-verify: true}\n",
		"clusters: [{name: k, cluster: {server: https://h, certificate-authority-data: !!binary Zm9v}}]",
		"{", "", "null", "[]", "current-context: 7",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		conn, err := LoadKubeconfig(data, t.TempDir(), "")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "kubeconfig: ") {
				t.Fatalf("error without the kubeconfig prefix: %v", err)
			}
			return
		}
		if !strings.HasPrefix(conn.Server, "http://") && !strings.HasPrefix(conn.Server, "https://") || conn.Namespace == "" || conn.TLS == nil {
			t.Fatalf("loaded an unusable connection: %+v", conn)
		}
	})
}
